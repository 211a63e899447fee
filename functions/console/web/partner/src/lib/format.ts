import { formatCents } from '../../../src/lib/money';
import type { Account } from '../api/client';

// What the page says about money and terms, computed on integers (cents, whole PCR hundredths).

/** The total of a commitment: `months` times the monthly price, in cents. */
export function commitmentTotal(monthlyCents: number, months: number): string {
  return formatCents(monthlyCents * months);
}

/** "+4 points", "-1.5 points", "no change": the PCR gained moving from `from` to `to`. */
export function pcrGain(from: number, to: number): string {
  const hundredths = Math.round(to * 100) - Math.round(from * 100);
  if (hundredths === 0) return 'no change';
  const abs = Math.abs(hundredths);
  const text = abs % 100 === 0 ? String(abs / 100) : (abs / 100).toFixed(abs % 10 === 0 ? 1 : 2);
  return `${hundredths > 0 ? '+' : '-'}${text} point${abs === 100 ? '' : 's'}`;
}

/** A PCR score as the API gives it (two decimals at most), without trailing zeros. */
export function pcr(score: number): string {
  return String(Math.round(score * 100) / 100);
}

const PAYMENT: Record<string, string> = {
  current: 'Paid up',
  past_due: 'Past due',
  failed: 'Payment failed',
  pending: 'Waiting for a payment',
  awaiting_payment: 'Invoice sent, waiting for payment',
};

export function paymentStatus(status: Account['payment_status']): string {
  return status ? (PAYMENT[status] ?? status) : 'No payments';
}

/** The cancellation rule in words, for a term ending on `end`. */
export function cancellationRule(tierLabel: string, end: string | null): string {
  const until = end ? `until ${end}` : 'until the end of the term';
  return `Your subscription is a 12-month commitment. If you cancel, it ends at the end of the term: you keep ${tierLabel} ${until}, it does not renew, and the months already committed are not refunded. You can withdraw the cancellation until then.`;
}

/** Whether the partner may withdraw: its own cancellation, before the term ends. */
export function canWithdraw(account: Account): boolean {
  const s = account.subscription;
  return s.status === 'cancelled' && s.cancelled_by === 'partner';
}

/** Whether there is a paid term to cancel. */
export function canCancel(account: Account): boolean {
  return account.tier !== 'free' && account.subscription.status === 'active';
}
