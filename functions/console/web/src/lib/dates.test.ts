import { describe, expect, it } from 'vitest';
import { addMonths, monthEnd, monthStart } from './dates';

describe('calendar dates', () => {
  it('adds months, keeping the day or taking the month\'s last', () => {
    expect(addMonths('2026-12-06', 12)).toBe('2027-12-06');
    expect(addMonths('2028-02-29', 12)).toBe('2029-02-28');
    expect(addMonths('2026-01-31', 1)).toBe('2026-02-28');
    expect(addMonths('2026-03-15', -3)).toBe('2025-12-15');
  });
  it('finds a month\'s first and last day', () => {
    expect(monthStart('2026-02-17')).toBe('2026-02-01');
    expect(monthEnd('2028-02-03')).toBe('2028-02-29');
    expect(monthEnd('2026-11-03')).toBe('2026-11-30');
  });
});
