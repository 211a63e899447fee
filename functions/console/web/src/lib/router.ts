import { useSyncExternalStore } from 'react';

// A small router for the console's few pages: paths under /console/, history API, no dependency.
export const BASE = '/console';

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
}

export function href(to: string): string {
  return BASE + to;
}
