import { describe, expect, it } from 'vitest';
import { leftToRefund, newIdempotencyKey } from './Invoices';

describe('left to refund', () => {
  it('is what was paid less what was refunded, never below zero', () => {
    expect(leftToRefund({ amount_paid_cents: 360000, amount_refunded_cents: 120000 })).toBe(240000);
    expect(leftToRefund({ amount_paid_cents: 360000, amount_refunded_cents: 360000 })).toBe(0);
    expect(leftToRefund({ amount_paid_cents: 0, amount_refunded_cents: 0 })).toBe(0);
  });
});

describe('the refund request key', () => {
  it('is new each time and fits the API\'s pattern', () => {
    const a = newIdempotencyKey();
    expect(a).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(newIdempotencyKey()).not.toBe(a);
  });
});
