// Money is integer cents. The API formats most amounts itself ("$3,600.00") and pages show that text;
// where it sends cents only (metrics) or a page must show a difference of two amounts (left to refund),
// these turn integer cents into text with integer operations only: no float ever holds money.

export function formatCents(cents: number): string {
  if (!Number.isSafeInteger(cents)) throw new RangeError(`not a whole number of cents: ${cents}`);
  const negative = cents < 0;
  const abs = negative ? -cents : cents;
  const rest = abs % 100;
  const dollars = (abs - rest) / 100;
  const grouped = String(dollars).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}$${grouped}.${String(rest).padStart(2, '0')}`;
}

/** "1,200.5" or "$1200.50" typed by an admin -> 120050 cents; null when it is not an amount. */
export function parseDollars(text: string): number | null {
  const cleaned = text.trim().replace(/^\$/, '').replace(/,/g, '');
  const match = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(cleaned);
  if (!match) return null;
  const whole = Number(match[1]);
  const fraction = Number((match[2] ?? '').padEnd(2, '0'));
  return whole * 100 + fraction;
}
