import { useSyncExternalStore } from 'react';

// The small router both pages use: paths under one base (`/console`, `/partner`), the history API, no
// dependency. Each app makes its own (`src/lib/router.ts`, `partner/src/lib/router.ts`).

export interface Router {
  /** The base every path of the app is under. */
  BASE: string;
  /** The path after the base, with its query string (`/` at the base itself). */
  useLocation(): string;
  /** Goes to `to` (a path after the base) and tells the app. */
  navigate(to: string): void;
  /** The address of `to`, for links. */
  href(to: string): string;
}

function subscribe(callback: () => void): () => void {
  window.addEventListener('popstate', callback);
  return () => window.removeEventListener('popstate', callback);
}

/** The router of the app under `base`; `scrollToTop` moves to the page's top after each navigation. */
export function createRouter(base: string, options: { scrollToTop?: boolean } = {}): Router {
  const current = (): string => {
    const path = window.location.pathname;
    const rest = path.startsWith(base) ? path.slice(base.length) : path;
    return (rest === '' ? '/' : rest) + window.location.search;
  };
  return {
    BASE: base,
    useLocation: () => useSyncExternalStore(subscribe, current, current),
    navigate(to: string) {
      window.history.pushState(null, '', base + to);
      window.dispatchEvent(new PopStateEvent('popstate'));
      if (options.scrollToTop) window.scrollTo?.(0, 0);
    },
    href: (to: string) => base + to,
  };
}
