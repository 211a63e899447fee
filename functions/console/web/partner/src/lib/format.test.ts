import { describe, expect, it } from 'vitest';
import { canCancel, canWithdraw, cancellationRule, commitmentTotal, paymentStatus, pcr, pcrGain } from './format';
import type { Account } from '../api/client';

describe('the portal formats money and PCR on integers', () => {
  it('totals a 12-month commitment in cents', () => {
    expect(commitmentTotal(360000, 12)).toBe('$43,200.00');
    expect(commitmentTotal(600000, 12)).toBe('$72,000.00');
    expect(commitmentTotal(1, 12)).toBe('$0.12');
  });

  it('says the PCR gain with its sign, without float noise', () => {
    expect(pcrGain(59, 63)).toBe('+4 points');
    expect(pcrGain(59, 73)).toBe('+14 points');
    expect(pcrGain(63, 62)).toBe('-1 point');
    expect(pcrGain(0.1 + 0.2, 0.3)).toBe('no change');
    expect(pcrGain(58.25, 59.75)).toBe('+1.5 points');
    expect(pcr(59.0)).toBe('59');
    expect(pcr(62.35)).toBe('62.35');
  });

  it('names the payment status', () => {
    expect(paymentStatus('current')).toBe('Paid up');
    expect(paymentStatus(null)).toBe('No payments');
  });

  it('says the cancellation rule and when it applies', () => {
    expect(cancellationRule('Power Gold', '2027-12-06')).toContain('you keep Power Gold until 2027-12-06');
    expect(cancellationRule('Power Gold', '2027-12-06')).toContain('not refunded');
    const base = { tier: 'gold', subscription: { status: 'active', cancelled_by: null } } as unknown as Account;
    expect(canCancel(base)).toBe(true);
    expect(canWithdraw(base)).toBe(false);
    const cancelled = { tier: 'gold', subscription: { status: 'cancelled', cancelled_by: 'partner' } } as unknown as Account;
    expect(canCancel(cancelled)).toBe(false);
    expect(canWithdraw(cancelled)).toBe(true);
    expect(canWithdraw({ ...cancelled, subscription: { status: 'cancelled', cancelled_by: 'power100' } } as unknown as Account)).toBe(false);
  });
});
