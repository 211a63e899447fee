// The partner's session: a one-hour partner token, got by exchanging the single-use code of a sign-in
// email (`/partner/#code=<code>`: a fragment, which browsers never send to a server, so the code
// reaches no log). The token is kept in sessionStorage (this tab only, gone when it closes), never
// localStorage or a cookie; the fragment leaves the address bar at once.

const KEY = 'power100.partner-token';
type Listener = () => void;
const listeners = new Set<Listener>();
let signedOutReason: string | null = null;

/** The code of a sign-in link in the fragment, removed from the address bar; null without one. */
export function takeCodeFromFragment(loc: Location = window.location, hist: History = window.history): string | null {
  const hash = loc.hash.startsWith('#') ? loc.hash.slice(1) : loc.hash;
  const code = new URLSearchParams(hash).get('code');
  if (code === null) return null;
  hist.replaceState(hist.state, '', loc.pathname + loc.search);
  const trimmed = code.trim();
  return trimmed === '' ? null : trimmed;
}

export function token(): string | null {
  return sessionStorage.getItem(KEY);
}

export function startSession(value: string): void {
  sessionStorage.setItem(KEY, value);
  signedOutReason = null;
  notify();
}

export function endSession(reason: string | null = null): void {
  sessionStorage.removeItem(KEY);
  signedOutReason = reason;
  notify();
}

export function lastSignOutReason(): string | null {
  return signedOutReason;
}

export function setSignOutReason(reason: string | null): void {
  signedOutReason = reason;
  notify();
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(): void {
  for (const l of listeners) l();
}
