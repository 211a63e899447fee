// The admin's token: handed over in the URL fragment (`/console/#token=<jwt>`), which browsers never
// send to a server, so it reaches no log; kept in sessionStorage (this tab only, gone when it closes),
// never localStorage or a cookie. The fragment is removed from the address bar at once.

const KEY = 'power100.admin-token';
type Listener = () => void;
const listeners = new Set<Listener>();
let signedOutReason: string | null = null;

export function takeTokenFromFragment(loc: Location = window.location, hist: History = window.history): boolean {
  const hash = loc.hash.startsWith('#') ? loc.hash.slice(1) : loc.hash;
  const params = new URLSearchParams(hash);
  const token = params.get('token');
  if (token === null) return false;
  hist.replaceState(hist.state, '', loc.pathname + loc.search);
  if (token.trim() === '') return false;
  sessionStorage.setItem(KEY, token.trim());
  signedOutReason = null;
  notify();
  return true;
}

export function token(): string | null {
  return sessionStorage.getItem(KEY);
}

export function signIn(value: string): void {
  sessionStorage.setItem(KEY, value.trim());
  signedOutReason = null;
  notify();
}

export function signOut(reason: string | null = null): void {
  sessionStorage.removeItem(KEY);
  signedOutReason = reason;
  notify();
}

export function lastSignOutReason(): string | null {
  return signedOutReason;
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(): void {
  for (const l of listeners) l();
}

/** Who the token says signed in (its `sub`), for the header; the API checks the token itself. */
export function tokenSubject(jwt: string | null): string | null {
  if (!jwt) return null;
  const part = jwt.split('.')[1];
  if (!part) return null;
  try {
    const json = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as { sub?: unknown };
    return typeof json.sub === 'string' ? json.sub : null;
  } catch {
    return null;
  }
}
