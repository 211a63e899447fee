import { Shell, type Frame, type NavItem } from '../shared/Shell';
import { useSyncExternalStore } from 'react';
import { signOut, subscribe, token, tokenSubject } from './lib/auth';
import { href, navigate, useLocation } from './lib/router';
import { PartnersList } from './features/partners/PartnersList';
import { PartnerPage } from './features/partners/PartnerPage';
import { Dashboard } from './features/subscriptions/Dashboard';
import { Invoices } from './features/invoices/Invoices';
import { Revenue } from './features/revenue/Revenue';
import { SignIn } from './features/signin/SignIn';
import type { Tier } from './api/client';

const NAV: NavItem[] = [
  { to: '/', label: 'Partners', match: (p: string) => p === '/' || p.startsWith('/partners') },
  { to: '/subscriptions', label: 'Subscriptions', match: (p: string) => p.startsWith('/subscriptions') },
  { to: '/invoices', label: 'Invoices', match: (p: string) => p.startsWith('/invoices') },
  { to: '/revenue', label: 'Revenue', match: (p: string) => p.startsWith('/revenue') },
];

const FRAME: Frame = { brand: 'Power100 · Partner payments', navLabel: 'Console', nav: NAV, router: { href, navigate } };

function Page({ location }: { location: string }) {
  const [path, search] = location.split('?', 2) as [string, string | undefined];
  const partner = /^\/partners\/([^/]+)$/.exec(path);
  if (partner) {
    const tier = new URLSearchParams(search ?? '').get('tier');
    const preselect = tier === 'free' || tier === 'gold' || tier === 'platinum' ? (tier as Tier) : null;
    return <PartnerPage id={decodeURIComponent(partner[1]!)} preselect={preselect} />;
  }
  switch (path) {
    case '/':
    case '/partners':
      return <PartnersList />;
    case '/subscriptions':
      return <Dashboard />;
    case '/invoices':
      return <Invoices />;
    case '/revenue':
      return <Revenue />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            No page here. <a href={href('/')}>Partners</a>
          </p>
        </section>
      );
  }
}

export function App() {
  const current = useSyncExternalStore(subscribe, token, token);
  const location = useLocation();
  if (!current) return <SignIn />;
  return (
    <Shell
      frame={FRAME}
      location={location}
      right={
        <>
          <span className="who">{tokenSubject(current)}</span>
          <button type="button" className="link" onClick={() => signOut('You signed out.')}>
            Sign out
          </button>
        </>
      }
    >
      <Page location={location} />
    </Shell>
  );
}
