import { Shell, type Frame, type NavItem } from '../../shared/Shell';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { api } from './api/client';
import { endSession, setSignOutReason, startSession, subscribe, takeCodeFromFragment, token } from './lib/session';
import { href, navigate, useLocation } from './lib/router';
import { SignIn } from './features/signin/SignIn';
import { Subscription } from './features/subscription/Subscription';
import { Upgrade } from './features/upgrade/Upgrade';
import { PaymentMethod } from './features/card/PaymentMethod';
import { Invoices } from './features/invoices/Invoices';
import { Cancel } from './features/cancel/Cancel';
import { MyData } from './features/data/MyData';

const NAV: NavItem[] = [
  { to: '/', label: 'My subscription', match: (p: string) => p === '/' || p === '/billing' },
  { to: '/upgrade', label: 'Upgrade', match: (p: string) => p.startsWith('/upgrade') },
  { to: '/card', label: 'Payment method', match: (p: string) => p.startsWith('/card') },
  { to: '/invoices', label: 'Invoices', match: (p: string) => p.startsWith('/invoices') },
  { to: '/cancel', label: 'Cancel', match: (p: string) => p.startsWith('/cancel') },
  { to: '/data', label: 'My data', match: (p: string) => p.startsWith('/data') },
];

const FRAME: Frame = { brand: 'Power100 · Partner portal', navLabel: 'Portal', nav: NAV, router: { href, navigate } };

function Page({ location }: { location: string }) {
  const [path, search] = location.split('?', 2) as [string, string | undefined];
  const invoice = /^\/invoices\/([^/]+)$/.exec(path);
  if (invoice) return <Invoices id={decodeURIComponent(invoice[1]!)} />;
  switch (path) {
    case '/':
    case '/billing':
      return <Subscription />;
    case '/upgrade':
      return <Upgrade asked={new URLSearchParams(search ?? '').get('tier')} />;
    case '/card':
      return <PaymentMethod />;
    case '/invoices':
      return <Invoices id={null} />;
    case '/cancel':
      return <Cancel />;
    case '/data':
      return <MyData />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            No page here. <a href={href('/')}>My subscription</a>
          </p>
        </section>
      );
  }
}

/** Exchanges a sign-in link's code for a token (once: a code works one time). The code comes from the
 * fragment at load, or later when a link is opened in a tab that has the page already. */
function useCodeExchange(initial: string | null): boolean {
  const [code, setCode] = useState(initial);
  const [pending, setPending] = useState(initial !== null);
  useEffect(() => {
    const onHash = () => {
      const next = takeCodeFromFragment();
      if (next !== null) {
        setPending(true);
        setCode(next);
      }
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    if (code === null) return;
    let live = true;
    void (async () => {
      const res = await api.POST('/portal/session', { body: { code } });
      if (!live) return;
      if (res.data) startSession(res.data.token);
      else setSignOutReason('That sign-in link was used already or has expired: ask for a new one.');
      setPending(false);
    })().catch(() => {
      setSignOutReason('Signing in failed: ask for a new link.');
      setPending(false);
    });
    return () => {
      live = false;
    };
  }, [code]);
  return pending;
}

export function App({ code }: { code: string | null }) {
  const current = useSyncExternalStore(subscribe, token, token);
  const location = useLocation();
  const exchanging = useCodeExchange(code);
  if (exchanging) {
    return (
      <main className="signin" id="main">
        <p className="loading" aria-busy="true">
          Signing you in…
        </p>
      </main>
    );
  }
  if (!current) return <SignIn />;
  return (
    <Shell
      frame={FRAME}
      location={location}
      right={
        <button
          type="button"
          className="link who"
          onClick={async () => {
            // The API refuses this token from now on; the page forgets it either way.
            await api.POST('/portal/sign-out', { body: {} }).catch(() => undefined);
            endSession('You signed out.');
          }}
        >
          Sign out
        </button>
      }
    >
      <Page location={location} />
    </Shell>
  );
}
