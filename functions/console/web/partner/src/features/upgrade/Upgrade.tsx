import { useEffect, useRef, useState } from 'react';
import { api, must, problemText, type Account, type TierCard } from '../../api/client';
import { commitmentTotal, pcr, pcrGain } from '../../lib/format';
import { formatCents } from '../../../../src/lib/money';
import { href, navigate } from '../../lib/router';
import { loadAccount } from '../subscription/Subscription';
import { CardForm } from './CardForm';
import { STEPS, afterUpgradeAnswer, granted, initialTier, stepIndex, type Step } from './flow';
import { ErrorNote, Loading, StatusNote, TierBadge, useLoad } from '../../../../src/components/ui';

function Steps({ current }: { current: number }) {
  return (
    <ol className="steps" aria-label="Upgrade steps">
      {STEPS.map((label, i) => (
        <li key={label} aria-current={i === current ? 'step' : undefined} className={i < current ? 'done' : i === current ? 'current' : ''}>
          <span className="step-number">{i + 1}</span> {label}
        </li>
      ))}
    </ol>
  );
}

/** Polls the account until the tier is granted (the paid invoice's webhook), then calls `onGranted`. */
function Processing({ card, onGranted }: { card: TierCard; onGranted: (a: Account) => void }) {
  const [slow, setSlow] = useState(false);
  const done = useRef(onGranted);
  done.current = onGranted;
  useEffect(() => {
    let live = true;
    const started = Date.now();
    const poll = async () => {
      while (live) {
        const me = await api.GET('/portal/me');
        if (me.data && granted(me.data, card.tier)) {
          if (live) done.current(me.data);
          return;
        }
        if (Date.now() - started > 20000) setSlow(true);
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    void poll();
    return () => {
      live = false;
    };
  }, [card.tier]);
  return (
    <div className="card" aria-busy="true">
      <h2>Processing your payment</h2>
      <StatusNote>
        Your payment for {card.label} is confirmed with your bank. Your tier changes as soon as Stripe reports the invoice paid, usually within a few
        seconds.
      </StatusNote>
      {slow && <p className="muted">This takes longer than usual. You can leave this page: the upgrade completes on its own and we email you.</p>}
    </div>
  );
}

export function Upgrade({ asked }: { asked: string | null }) {
  const { data, error } = useLoad(loadAccount, []);
  const [state, setState] = useState<Step | null>(null);
  const [agreed, setAgreed] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const [account, setAccount] = useState<Account | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    if (data && !state) setState({ step: 'choose', tier: initialTier(asked, data.tiers) ?? data.tiers.find((t) => t.can_upgrade)?.tier ?? null });
  }, [data, state, asked]);
  useEffect(() => heading.current?.focus(), [state?.step]);

  if (error) return <ErrorNote>{error}</ErrorNote>;
  if (!data || !state) return <Loading what="the tiers" />;
  const { tiers } = data;
  const current = account ?? data.account;
  const choices = tiers.filter((t) => t.can_upgrade);
  const chosen = state.tier ? tiers.find((t) => t.tier === state.tier) : undefined;

  const startPayment = async () => {
    if (!chosen || busy) return;
    setBusy(true);
    setFailure(null);
    try {
      // Asked again (a second click, a reload), the API answers the same open payment: never a second one.
      const answer = must(await api.POST('/portal/upgrade', { body: { tier: chosen.tier as 'gold' | 'platinum' } }));
      setState(afterUpgradeAnswer(chosen.tier, answer));
    } catch (err) {
      setFailure(problemText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="upgrade-title" className="upgrade">
      <h1 id="upgrade-title" tabIndex={-1} ref={heading}>
        Upgrade
      </h1>
      <Steps current={stepIndex(state)} />
      {choices.length === 0 && state.step === 'choose' && (
        <p>
          You are on the highest tier. <a href={href('/')}>Back to your subscription</a>
        </p>
      )}
      {state.step === 'choose' && choices.length > 0 && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (state.tier) setState({ step: 'review', tier: state.tier });
          }}
        >
          <fieldset className="tier-cards">
            <legend>Choose a tier</legend>
            {choices.map((t) => (
              <label key={t.tier} className={`tier-card${state.tier === t.tier ? ' selected' : ''}`}>
                <input type="radio" name="tier" value={t.tier} checked={state.tier === t.tier} onChange={() => setState({ step: 'choose', tier: t.tier })} />
                <span className="tier-card-head">
                  <TierBadge tier={t.tier} label={t.label} />
                  <strong>{t.monthly_price} / month</strong>
                </span>
                <span>
                  PCR {pcr(current.pcr.score)} → {pcr(t.your_pcr)} ({pcrGain(current.pcr.score, t.your_pcr)}), multiplier {t.payment_multiplier}x
                </span>
                <ul>
                  {t.benefits.map((b) => (
                    <li key={b}>{b}</li>
                  ))}
                </ul>
              </label>
            ))}
          </fieldset>
          <button type="submit" className="primary" disabled={!state.tier}>
            Continue
          </button>
        </form>
      )}
      {state.step === 'review' && chosen && (
        <div className="card">
          <h2>Review</h2>
          <dl className="impact" data-testid="order-summary">
            <dt>Tier</dt>
            <dd>
              <TierBadge tier={chosen.tier} label={chosen.label} />
            </dd>
            <dt>Price</dt>
            <dd>{chosen.monthly_price} / month</dd>
            <dt>Commitment</dt>
            <dd>
              {chosen.commitment_months} months ({commitmentTotal(chosen.monthly_price_cents, chosen.commitment_months)} in all), renewing each year unless
              cancelled
            </dd>
            <dt>PCR</dt>
            <dd>
              {pcr(current.pcr.score)} → {pcr(chosen.your_pcr)} <span className="delta">({pcrGain(current.pcr.score, chosen.your_pcr)})</span>
            </dd>
            <dt>Due now</dt>
            <dd>The first month, {chosen.monthly_price}</dd>
          </dl>
          <label className="inline">
            <input type="checkbox" checked={agreed} onChange={(e) => setAgreed(e.target.checked)} /> I agree to the {chosen.commitment_months}-month
            commitment.
          </label>
          <ErrorNote>{failure}</ErrorNote>
          <div className="row-actions">
            <button type="button" onClick={() => setState({ step: 'choose', tier: chosen.tier })}>
              Back
            </button>
            <button type="button" className="primary" disabled={!agreed || busy} onClick={startPayment}>
              {busy ? 'Preparing the payment…' : 'Continue to payment'}
            </button>
          </div>
        </div>
      )}
      {state.step === 'pay' && chosen && state.answer?.payment && state.answer.publishable_key && (
        <div className="card">
          <h2>
            Pay {formatDue(state.answer.payment.amount_due_cents, chosen.monthly_price)} for {chosen.label}
          </h2>
          <CardForm
            publishableKey={state.answer.publishable_key}
            clientSecret={state.answer.payment.client_secret}
            mode="payment"
            submitLabel={`Pay ${formatDue(state.answer.payment.amount_due_cents, chosen.monthly_price)}`}
            onConfirmed={() => setState({ step: 'processing', tier: chosen.tier })}
          />
        </div>
      )}
      {state.step === 'processing' && chosen && (
        <Processing
          card={chosen}
          onGranted={(a) => {
            setAccount(a);
            setState({ step: 'done', tier: chosen.tier });
          }}
        />
      )}
      {state.step === 'done' && chosen && (
        <div className="card" data-testid="upgrade-done">
          <h2>Welcome to {chosen.label}!</h2>
          <StatusNote>
            Your PCR has been upgraded: {pcr(data.account.pcr.score)} → {pcr((account ?? current).pcr.score)}.
            {(account ?? current).subscription.renews_on && <> Your subscription renews on {(account ?? current).subscription.renews_on}.</>}
          </StatusNote>
          <p className="row-actions">
            <a
              href={href('/')}
              onClick={(e) => {
                e.preventDefault();
                navigate('/');
              }}
            >
              See your subscription
            </a>
            <a
              href={href('/invoices')}
              onClick={(e) => {
                e.preventDefault();
                navigate('/invoices');
              }}
            >
              See your invoice
            </a>
          </p>
        </div>
      )}
    </section>
  );
}

/** The amount the payment asks for (integer cents from the API), as money. */
function formatDue(cents: number, fallback: string): string {
  return Number.isSafeInteger(cents) ? formatCents(cents) : fallback;
}
