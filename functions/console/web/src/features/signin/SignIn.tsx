import { useState } from 'react';
import { lastSignOutReason, signIn } from '../../lib/auth';

/**
 * Signed out. Locally `make dev` prints a link that signs in (the token in its fragment); in AWS,
 * Power100's own sign-in opens the console the same way. The token can also be pasted here.
 */
export function SignIn() {
  const [value, setValue] = useState('');
  const reason = lastSignOutReason();
  return (
    <main className="signin" aria-labelledby="signin-title">
      <h1 id="signin-title">Power100 admin console</h1>
      {reason && (
        <p className="note note-info" role="status">
          {reason}
        </p>
      )}
      <p>Open the sign-in link that Power100's admin sign-in (or, locally, <code>make dev</code>) gives you, or paste an admin token.</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) signIn(value);
        }}
      >
        <label htmlFor="token">Admin token</label>
        <textarea id="token" rows={4} value={value} onChange={(e) => setValue(e.target.value)} autoComplete="off" spellCheck={false} />
        <button type="submit" className="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}
