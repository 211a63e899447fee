import { useState } from 'react';
import { api, must, problemText } from '../../api/client';
import { canCancel, canWithdraw, cancellationRule } from '../../lib/format';
import { ErrorNote, Loading, StatusNote, useLoad } from '../../../../src/components/ui';

/** Cancel at the end of the 12-month commitment, the rule in words; withdraw while it is allowed. */
export function Cancel() {
  const { data: account, error, reload } = useLoad(async () => must(await api.GET('/portal/me')), []);
  const [reason, setReason] = useState('');
  const [confirmed, setConfirmed] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  if (error) return <ErrorNote>{error}</ErrorNote>;
  if (!account) return <Loading what="your subscription" />;
  const s = account.subscription;
  const act = async (call: () => Promise<{ message: string }>) => {
    setBusy(true);
    setFailure(null);
    try {
      setMessage((await call()).message);
      setReason('');
      setConfirmed(false);
      reload();
    } catch (err) {
      setFailure(problemText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="cancel-title">
      <h1 id="cancel-title">Cancel subscription</h1>
      {message && <StatusNote>{message}</StatusNote>}
      {canCancel(account) && (
        <form
          className="card"
          onSubmit={(e) => {
            e.preventDefault();
            if (!reason.trim()) {
              setFailure('Tell us why you cancel.');
              return;
            }
            void act(async () => must(await api.POST('/portal/cancel', { body: { reason: reason.trim(), confirm: true } })));
          }}
        >
          <p data-testid="cancel-rule">{cancellationRule(account.tier_label, s.end_date)}</p>
          <label htmlFor="cancel-reason">Why do you cancel?</label>
          <textarea id="cancel-reason" rows={3} maxLength={1000} value={reason} onChange={(e) => setReason(e.target.value)} />
          <label className="inline">
            <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} /> I understand: access until {s.end_date}, no
            refund.
          </label>
          <ErrorNote>{failure}</ErrorNote>
          <button type="submit" className="danger" disabled={busy || !confirmed}>
            Cancel at the end of the term
          </button>
        </form>
      )}
      {s.status === 'cancelled' && (
        <div className="card">
          <p data-testid="cancelled">
            Your subscription is cancelled: you keep {account.tier_label} until {s.access_until ?? s.end_date}, and it does not renew.
          </p>
          {canWithdraw(account) ? (
            <>
              <ErrorNote>{failure}</ErrorNote>
              <button type="button" className="primary" disabled={busy} onClick={() => void act(async () => must(await api.POST('/portal/cancel/withdraw', { body: {} })))}>
                Withdraw cancellation
              </button>
            </>
          ) : (
            <p className="muted">{s.cancelled_by === 'partner' ? '' : 'Power100 cancelled this subscription: contact your partner manager to continue it.'}</p>
          )}
        </div>
      )}
      {!canCancel(account) && s.status !== 'cancelled' && <p>You have no paid subscription to cancel.</p>}
    </section>
  );
}
