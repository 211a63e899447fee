import { useState } from 'react';
import { api, problemText } from '../../api/client';
import { lastSignOutReason } from '../../lib/session';
import { ErrorNote, StatusNote } from '../../../../src/components/ui';

/**
 * Signed out: the partner asks for a sign-in link by email. The answer is the same for every address
 * (the API never says whether one is a partner's), so the page says the same too.
 */
export function SignIn() {
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const reason = lastSignOutReason();
  return (
    <main className="signin" id="main" aria-labelledby="signin-title">
      <h1 id="signin-title">Power100 partner portal</h1>
      {reason && (
        <p className="note note-info" role="status">
          {reason}
        </p>
      )}
      {sent ? (
        <StatusNote>
          If <strong>{sent}</strong> is a Power100 partner contact, a sign-in link is on its way. It works once, for 15 minutes.
        </StatusNote>
      ) : (
        <p>Enter your company's contact email: we send you a link that signs you in.</p>
      )}
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const address = email.trim();
          if (!address) return;
          setBusy(true);
          setError(null);
          try {
            const res = await api.POST('/portal/sign-in', { body: { email: address } });
            if (res.error !== undefined) throw new Error(problemText(res.error));
            setSent(address);
          } catch (err) {
            setError(err instanceof Error ? err.message : String(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <label htmlFor="email">Email</label>
        <input id="email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <button type="submit" className="primary" disabled={busy}>
          {sent ? 'Send another link' : 'Email me a sign-in link'}
        </button>
      </form>
      <ErrorNote>{error}</ErrorNote>
    </main>
  );
}
