import type { ReactNode } from 'react';
import type { Router } from './router';

// The frame both pages share: a skip link, the top bar (brand, the app's navigation with the current
// page marked, what the app puts on the right: who is signed in, sign out) and the main landmark.

export interface NavItem {
  to: string;
  label: string;
  /** Whether the current path (without its query) is this item's page. */
  match: (path: string) => boolean;
}

/** What names an app in its frame: the brand, its navigation (and the navigation's label), its router. */
export interface Frame {
  brand: string;
  navLabel: string;
  nav: NavItem[];
  router: Pick<Router, 'href' | 'navigate'>;
}

export function Shell(props: { frame: Frame; location: string; right: ReactNode; children: ReactNode }) {
  const { brand, navLabel, nav, router } = props.frame;
  const path = props.location.split('?')[0] ?? '/';
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">{brand}</span>
        <nav aria-label={navLabel}>
          <ul>
            {nav.map((n) => (
              <li key={n.to}>
                <a
                  href={router.href(n.to)}
                  aria-current={n.match(path) ? 'page' : undefined}
                  onClick={(e) => {
                    e.preventDefault();
                    router.navigate(n.to);
                  }}
                >
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        {props.right}
      </header>
      <main id="main" tabIndex={-1}>
        {props.children}
      </main>
    </>
  );
}
