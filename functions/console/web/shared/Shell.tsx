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

export function Shell(props: {
  brand: string;
  navLabel: string;
  nav: NavItem[];
  router: Pick<Router, 'href' | 'navigate'>;
  location: string;
  right: ReactNode;
  children: ReactNode;
}) {
  const path = props.location.split('?')[0] ?? '/';
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">{props.brand}</span>
        <nav aria-label={props.navLabel}>
          <ul>
            {props.nav.map((n) => (
              <li key={n.to}>
                <a
                  href={props.router.href(n.to)}
                  aria-current={n.match(path) ? 'page' : undefined}
                  onClick={(e) => {
                    e.preventDefault();
                    props.router.navigate(n.to);
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
