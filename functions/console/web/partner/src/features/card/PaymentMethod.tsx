import { useEffect, useState } from 'react';
import { api, must, problemText, type Account } from '../../api/client';
import { CardForm } from '../upgrade/CardForm';
import { CardOnFile } from '../subscription/Subscription';
import { ErrorNote, Loading, StatusNote, useLoad } from '../../../../src/components/ui';

type Setup = { client_secret: string; publishable_key: string; customer_portal_url: string | null };

function cardKey(a: Account): string {
  const c = a.payment_method.card;
  return c ? `${c.brand}/${c.last4}/${c.exp_month ?? ''}/${c.exp_year ?? ''}` : a.payment_method.status;
}

/** The card on file, and a new one through a SetupIntent: once Stripe confirms it, it is the default. */
export function PaymentMethod() {
  const { data: account, error, reload } = useLoad(async () => must(await api.GET('/portal/me')), []);
  const [setup, setSetup] = useState<Setup | null>(null);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const [waitingFrom, setWaitingFrom] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  // After the card is confirmed: Stripe's setup_intent.succeeded makes it the default; wait for it.
  useEffect(() => {
    if (waitingFrom === null) return;
    let live = true;
    void (async () => {
      for (let i = 0; i < 30 && live; i++) {
        const me = await api.GET('/portal/me');
        if (me.data && me.data.payment_method.status === 'on_file' && cardKey(me.data) !== waitingFrom) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      if (live) {
        setWaitingFrom(null);
        setSaved(true);
        reload();
      }
    })();
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [waitingFrom]);

  if (error) return <ErrorNote>{error}</ErrorNote>;
  if (!account) return <Loading what="your card" />;
  return (
    <section aria-labelledby="card-title">
      <h1 id="card-title">Payment method</h1>
      <div className="card">
        <h2>Card on file</h2>
        <p>
          <CardOnFile account={account} />
        </p>
        {saved && <StatusNote>Your new card is saved: your subscription is charged to it from now on.</StatusNote>}
        {waitingFrom !== null && <StatusNote>Saving your new card with Stripe…</StatusNote>}
        {account.billing !== 'stripe' && account.payment_method.status === 'none' && (
          <p className="muted">Power100 bills your subscription by invoice; a card is used once you upgrade by card.</p>
        )}
        {!setup && (
          <button
            type="button"
            className="primary"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              setFailure(null);
              setSaved(false);
              try {
                setSetup(must(await api.POST('/portal/payment-method', { body: {} })));
              } catch (err) {
                setFailure(problemText(err));
              } finally {
                setBusy(false);
              }
            }}
          >
            {account.payment_method.status === 'on_file' ? 'Change card' : 'Add a card'}
          </button>
        )}
        <ErrorNote>{failure}</ErrorNote>
      </div>
      {setup && (
        <div className="card">
          <h2>New card</h2>
          <CardForm
            publishableKey={setup.publishable_key}
            clientSecret={setup.client_secret}
            mode="setup"
            submitLabel="Save card"
            onConfirmed={() => {
              setSetup(null);
              setWaitingFrom(cardKey(account));
            }}
          />
          {setup.customer_portal_url && (
            <p className="muted">
              You can also manage your cards in <a href={setup.customer_portal_url}>Stripe's customer portal</a>.
            </p>
          )}
        </div>
      )}
    </section>
  );
}
