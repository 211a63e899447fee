import type { Account, Tier, TierCard, UpgradeAnswer } from '../../api/client';

// The upgrade's four steps, as pure functions: choose -> review -> pay -> processing -> done.

export type Step =
  | { step: 'choose'; tier: Tier | null }
  | { step: 'review'; tier: Tier }
  | { step: 'pay'; tier: Tier; answer: UpgradeAnswer | null }
  | { step: 'processing'; tier: Tier }
  | { step: 'done'; tier: Tier };

export const STEPS = ['Choose a tier', 'Review', 'Pay', 'Confirmation'] as const;

export function stepIndex(s: Step): number {
  switch (s.step) {
    case 'choose':
      return 0;
    case 'review':
      return 1;
    case 'pay':
      return 2;
    default:
      return 3;
  }
}

/** Where the API's answer to POST /portal/upgrade leads. */
export function afterUpgradeAnswer(tier: Tier, answer: UpgradeAnswer): Step {
  switch (answer.status) {
    case 'upgraded':
      return { step: 'done', tier };
    case 'processing':
      return { step: 'processing', tier };
    default:
      return { step: 'pay', tier, answer };
  }
}

/** Whether the account shows the tier granted (the paid invoice's webhook did its work). */
export function granted(account: Account, tier: Tier): boolean {
  const rank: Record<Tier, number> = { free: 0, gold: 1, platinum: 2 };
  return rank[account.tier] >= rank[tier];
}

/** The tier to start from: the one asked for in the address, when it can be chosen. */
export function initialTier(asked: string | null, cards: TierCard[]): Tier | null {
  const card = cards.find((c) => c.tier === asked && c.can_upgrade);
  return card ? card.tier : null;
}

/** What a refused confirmation says to the partner. */
export function declineText(error: { type?: string; code?: string; decline_code?: string; message?: string }): string {
  if (error.type === 'card_error' && (error.code === 'card_declined' || error.decline_code)) {
    const said = error.message && !/^your card was declined\.?$/i.test(error.message.trim()) ? `: ${error.message.trim().replace(/\.$/, '')}.` : '.';
    return `Your card was declined${said} Nothing was charged. Try another card.`;
  }
  if (error.type === 'validation_error') return error.message ?? 'Check the card details.';
  return error.message ?? 'The payment was not confirmed. Nothing was charged; try again.';
}
