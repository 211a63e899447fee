import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';

// The portal against a stubbed API (fetch): sign-in asks for a link and says the same for every
// address; a link's code is exchanged once for a token kept in sessionStorage; a refused code says so;
// the subscription page shows the account; a 401 signs out.
const calls: { method: string; url: string; body: string | null; auth: string | null }[] = [];
let sessionAnswer = 201;

const account = {
  partner_id: 'keystone-payroll', company_name: 'Keystone Payroll', tier: 'free', tier_label: 'Free Tier',
  benefits: ['Basic profile', 'Standard visibility'], payment_multiplier: 1.5,
  pcr: { base: 70, momentum: -3, score: 59, free_tier_score: 59 },
  subscription: { status: 'inactive', start_date: null, end_date: null, days_left: null, auto_renewal: true, renews_on: null, access_until: null, cancellation_date: null, cancelled_by: null, paused_until: null },
  billing: 'manual', payment_status: null, last_payment_date: null, last_payment_amount_cents: null, last_payment_amount: null,
  payment_method: { status: 'none' }, scheduled_change: null, pending_upgrade: null,
};
const tiers = [
  { tier: 'free', label: 'Free Tier', monthly_price_cents: 0, monthly_price: '$0.00', commitment_months: 0, benefits: [], payment_multiplier: 1.5, your_pcr: 59, current: true, can_upgrade: false },
  { tier: 'gold', label: 'Power Gold', monthly_price_cents: 360000, monthly_price: '$3,600.00', commitment_months: 12, benefits: ['Enhanced content package'], payment_multiplier: 2.5, your_pcr: 63, current: false, can_upgrade: true },
];

beforeEach(() => {
  calls.length = 0;
  sessionAnswer = 201;
  window.history.replaceState(null, '', '/partner/billing');
  vi.stubGlobal('fetch', async (input: Request) => {
    const body = input.method === 'GET' ? null : await input.text();
    calls.push({ method: input.method, url: input.url, body, auth: input.headers.get('Authorization') });
    const json = (status: number, value: unknown) => new Response(JSON.stringify(value), { status, headers: { 'Content-Type': 'application/json' } });
    if (input.url.endsWith('/portal/sign-in')) return json(202, { message: 'same for all' });
    if (input.url.endsWith('/portal/session')) {
      return sessionAnswer === 201
        ? json(201, { token: 'partner-jwt', token_type: 'Bearer', expires_at: '2026-12-06T11:00:00Z', expires_in: 3600 })
        : json(401, { type: 'urn:power100:problem:unauthorized', title: 'Unauthorized', status: 401, detail: 'used' });
    }
    if (input.headers.get('Authorization') !== 'Bearer partner-jwt') return json(401, { title: 'Unauthorized', status: 401, detail: 'invalid token' });
    if (input.url.endsWith('/portal/me')) return json(200, account);
    if (input.url.endsWith('/portal/tiers')) return json(200, { tiers });
    return json(404, { title: 'Not Found', status: 404, detail: 'no route' });
  });
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  sessionStorage.clear();
});

describe('the partner portal', () => {
  it('asks for a link and says the same whatever the address', async () => {
    const { App } = await import('./App');
    render(<App code={null} />);
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: 'someone@example.test' } });
    fireEvent.click(screen.getByRole('button', { name: 'Email me a sign-in link' }));
    const note = await screen.findByRole('status');
    expect(note.textContent).toContain('If someone@example.test is a Power100 partner contact, a sign-in link is on its way');
    expect(calls).toEqual([{ method: 'POST', url: expect.stringMatching(/\/portal\/sign-in$/), body: '{"email":"someone@example.test"}', auth: null }]);
  });

  it('exchanges a link\'s code once, keeps the token in this tab, and shows the subscription', async () => {
    const { App } = await import('./App');
    render(<App code={'c'.repeat(43)} />);
    await screen.findByRole('heading', { name: /Keystone Payroll/ });
    expect(sessionStorage.getItem('power100.partner-token')).toBe('partner-jwt');
    expect(localStorage.length).toBe(0);
    expect(calls.filter((c) => c.url.endsWith('/portal/session'))).toHaveLength(1);
    expect(screen.getByTestId('tier').textContent).toBe('Free Tier');
    expect(screen.getByTestId('pcr-now').textContent).toBe('59');
    expect(screen.getByTestId('tier-row-gold').textContent).toContain('(+4 points)');
    expect(screen.getByTestId('card-on-file').textContent).toBe('No card on file');
  });

  it('says a used link is used, and a refused token signs out', async () => {
    sessionAnswer = 401;
    const { App } = await import('./App');
    render(<App code={'d'.repeat(43)} />);
    await screen.findByText(/That sign-in link was used already or has expired/);
    expect(sessionStorage.getItem('power100.partner-token')).toBeNull();
    cleanup();
    sessionStorage.setItem('power100.partner-token', 'stale');
    render(<App code={null} />);
    await waitFor(() => expect(screen.getByText(/Your session ended/)).toBeTruthy());
    expect(sessionStorage.getItem('power100.partner-token')).toBeNull();
  });
});
