import { describe, expect, it } from 'vitest';
import { afterUpgradeAnswer, declineText, granted, initialTier, stepIndex } from './flow';
import type { Account, TierCard, UpgradeAnswer } from '../../api/client';

const answer = (status: UpgradeAnswer['status']) => ({ status, tier: 'gold', message: '', account: {} }) as unknown as UpgradeAnswer;

describe('the upgrade flow', () => {
  it('goes to payment, processing or done by the API answer', () => {
    expect(afterUpgradeAnswer('gold', answer('payment_required'))).toMatchObject({ step: 'pay', tier: 'gold' });
    expect(afterUpgradeAnswer('gold', answer('processing'))).toEqual({ step: 'processing', tier: 'gold' });
    expect(afterUpgradeAnswer('platinum', answer('upgraded'))).toEqual({ step: 'done', tier: 'platinum' });
    expect(stepIndex({ step: 'processing', tier: 'gold' })).toBe(3);
  });

  it('sees the tier granted when the account is on it or above', () => {
    expect(granted({ tier: 'gold' } as Account, 'gold')).toBe(true);
    expect(granted({ tier: 'platinum' } as Account, 'gold')).toBe(true);
    expect(granted({ tier: 'free' } as Account, 'gold')).toBe(false);
  });

  it('starts from the tier in the address only when it can be chosen', () => {
    const cards = [
      { tier: 'free', can_upgrade: false },
      { tier: 'gold', can_upgrade: true },
    ] as TierCard[];
    expect(initialTier('gold', cards)).toBe('gold');
    expect(initialTier('free', cards)).toBeNull();
    expect(initialTier('diamond', cards)).toBeNull();
  });

  it('says a declined card was declined and nothing was charged', () => {
    const text = declineText({ type: 'card_error', code: 'card_declined', message: 'Your card was declined.' });
    expect(text).toContain('Your card was declined');
    expect(text).toBe('Your card was declined. Nothing was charged. Try another card.');
    expect(declineText({ type: 'card_error', code: 'card_declined', message: 'Insufficient funds.' })).toBe(
      'Your card was declined: Insufficient funds. Nothing was charged. Try another card.',
    );
    expect(declineText({ type: 'validation_error', message: 'Your card number is incomplete.' })).toBe('Your card number is incomplete.');
  });
});
