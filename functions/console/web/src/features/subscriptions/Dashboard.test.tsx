import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';

const rows = [
  { partner_id: 'a-co', company_name: 'A Co', tier: 'gold', tier_label: 'Power Gold', monthly_price: '$3,600.00', subscription_end_date: '2026-12-08', days_left: 2, urgency: 'urgent', subscription_status: 'active', auto_renewal: true },
  { partner_id: 'b-co', company_name: 'B Co', tier: 'platinum', tier_label: 'Power Platinum', monthly_price: '$6,000.00', subscription_end_date: '2027-01-20', days_left: 45, urgency: 'normal', subscription_status: 'active', auto_renewal: false },
];
const calls: { method: string; url: string; body: string | null }[] = [];
let paged = false;

beforeEach(() => {
  calls.length = 0;
  sessionStorage.setItem('power100.admin-token', 't');
  vi.stubGlobal('fetch', async (input: Request) => {
    const body = input.method === 'GET' ? null : await input.text();
    calls.push({ method: input.method, url: input.url, body });
    const json = (value: unknown) => new Response(JSON.stringify(value), { status: 200, headers: { 'Content-Type': 'application/json' } });
    if (input.url.includes('/admin/subscriptions/renew')) {
      return json({ renewed: 1, results: [{ partner_id: 'a-co', status: 'renewed', subscription_end_date: '2027-12-08' }, { partner_id: 'b-co', status: 'not_subscribed', message: 'no paid term' }] });
    }
    if (input.url.includes('cursor=c1')) {
      return json({ tab: 'active', rows: [{ ...rows[1], partner_id: 'c-co', company_name: 'C Co' }], counts: {}, next_cursor: null });
    }
    return json({ tab: 'active', rows, counts: { active: 2, expiring: 1, expired: 0, cancelled: 3, history: 9 }, next_cursor: paged ? 'c1' : null });
  });
});
afterEach(() => {
  paged = false;
  cleanup();
  vi.unstubAllGlobals();
  sessionStorage.clear();
});

describe('the subscriptions dashboard', () => {
  it('shows every tab\'s count, the urgency, and each row\'s renewal outcome', async () => {
    const { Dashboard } = await import('./Dashboard');
    render(<Dashboard />);
    await screen.findByText('A Co');
    expect(screen.getByRole('tab', { name: /Active/ }).textContent).toContain('2');
    expect(screen.getByRole('tab', { name: /Cancelled/ }).textContent).toContain('3');
    expect(screen.getByText('● Urgent')).toBeTruthy();
    expect(calls[0]!.url).toContain('tab=active');
    expect(calls[0]!.url).toContain('sort=end_date');
    fireEvent.click(screen.getByRole('checkbox', { name: 'Select A Co' }));
    fireEvent.click(screen.getByRole('checkbox', { name: 'Select B Co' }));
    fireEvent.click(screen.getByRole('button', { name: 'Renew selected (2)' }));
    const results = await screen.findByTestId('renew-results');
    await waitFor(() => expect(results.textContent).toContain('a-co: renewed, now ends 2027-12-08'));
    expect(results.textContent).toContain('b-co: not_subscribed (no paid term)');
    const renew = calls.find((c) => c.url.endsWith('/admin/subscriptions/renew'))!;
    expect(JSON.parse(renew.body!)).toEqual({ partner_ids: ['a-co', 'b-co'] });
  });

  it('follows the cursor with Show more, appending the next page', async () => {
    paged = true;
    const { Dashboard } = await import('./Dashboard');
    render(<Dashboard />);
    await screen.findByText('A Co');
    fireEvent.click(screen.getByRole('button', { name: 'Show more' }));
    await screen.findByText('C Co');
    expect(screen.getByText('A Co')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Show more' })).toBeNull();
  });

  it('sorts by company when its heading is pressed', async () => {
    const { Dashboard } = await import('./Dashboard');
    render(<Dashboard />);
    await screen.findByText('A Co');
    fireEvent.click(screen.getByRole('button', { name: 'Company' }));
    await waitFor(() => expect(calls.some((c) => c.url.includes('sort=company_name') && c.url.includes('order=asc'))).toBe(true));
  });
});
