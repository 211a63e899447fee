import { useSyncExternalStore } from 'react';

// The portal's few pages: paths under /partner/, history API, no dependency. `/partner/billing` (the
// address the emails link to) is the subscription page.
export const BASE = '/partner';

function subscribe(callback: () => void): () => void {
  window.addEventListener('popstate', callback);
  return () => window.removeEventListener('popstate', callback);
}

function current(): string {
  const path = window.location.pathname;
  const rest = path.startsWith(BASE) ? path.slice(BASE.length) : path;
  return (rest === '' ? '/' : rest) + window.location.search;
}

export function useLocation(): string {
  return useSyncExternalStore(subscribe, current, current);
}

export function navigate(to: string): void {
  window.history.pushState(null, '', BASE + to);
  window.dispatchEvent(new PopStateEvent('popstate'));
  window.scrollTo?.(0, 0);
}

export function href(to: string): string {
  return BASE + to;
}
