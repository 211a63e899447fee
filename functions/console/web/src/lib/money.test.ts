import { describe, expect, it } from 'vitest';
import { formatCents, parseDollars } from './money';

describe('money in integer cents', () => {
  it('formats cents as the API does', () => {
    expect(formatCents(360000)).toBe('$3,600.00');
    expect(formatCents(6720000)).toBe('$67,200.00');
    expect(formatCents(5)).toBe('$0.05');
    expect(formatCents(0)).toBe('$0.00');
    expect(formatCents(-120050)).toBe('-$1,200.50');
    expect(formatCents(Number.MAX_SAFE_INTEGER)).toBe('$90,071,992,547,409.91');
  });
  it('refuses what is not a whole number of cents', () => {
    expect(() => formatCents(0.1 + 0.2)).toThrow(RangeError);
  });
  it('reads typed dollars without floats', () => {
    expect(parseDollars('1,200')).toBe(120000);
    expect(parseDollars('$1200.5')).toBe(120050);
    expect(parseDollars('0.07')).toBe(7);
    expect(parseDollars('19.99')).toBe(1999);
    expect(parseDollars('1.234')).toBeNull();
    expect(parseDollars('-5')).toBeNull();
    expect(parseDollars('abc')).toBeNull();
  });
});
