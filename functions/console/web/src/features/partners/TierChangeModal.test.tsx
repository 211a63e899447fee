import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { TierChangeModal, type Preview } from './TierChangeModal';
import { matchesSearch } from './PartnersList';

afterEach(cleanup);

const preview: Preview = {
  currentTier: 'free',
  currentLabel: 'Free Tier',
  currentPcr: 58,
  proposedTier: 'gold',
  proposedLabel: 'Power Gold',
  proposedPcr: 62,
  deltaText: '+4 points',
  multiplier: 2.5,
};

function renderModal(overrides: Partial<Parameters<typeof TierChangeModal>[0]> = {}) {
  const props = {
    preview,
    start: '2026-12-06',
    end: '2027-12-06',
    price: '$3,600.00',
    busy: false,
    error: null,
    conflict: null,
    onConfirm: vi.fn(),
    onCancel: vi.fn(),
    onReload: vi.fn(),
    ...overrides,
  };
  render(<TierChangeModal {...props} />);
  return props;
}

describe('the tier change confirmation', () => {
  it('shows the PCR impact, the dates and the price', () => {
    renderModal();
    const dialog = screen.getByRole('dialog', { name: 'Confirm tier change' });
    expect(dialog.textContent).toContain('58 → 62 (+4 points)');
    expect(dialog.textContent).toContain('2026-12-06 to 2027-12-06');
    expect(dialog.textContent).toContain('$3,600.00 / month');
    expect(document.activeElement?.id).toBe('change-reason');
  });

  it('asks for a reason before it confirms', () => {
    const props = renderModal();
    fireEvent.click(screen.getByRole('button', { name: 'Confirm' }));
    expect(props.onConfirm).not.toHaveBeenCalled();
    expect(screen.getByText('Say why the tier changes.')).toBeTruthy();
    fireEvent.change(screen.getByLabelText(/Reason/), { target: { value: '  signed Power Gold ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Confirm' }));
    expect(props.onConfirm).toHaveBeenCalledWith('signed Power Gold');
  });

  it('cancels on Escape and keeps Tab inside', () => {
    const props = renderModal();
    const cancel = screen.getByRole('button', { name: 'Cancel' });
    cancel.focus();
    fireEvent.keyDown(cancel, { key: 'Tab' });
    expect(document.activeElement?.id).toBe('change-reason');
    fireEvent.keyDown(document.activeElement!, { key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(cancel);
    fireEvent.keyDown(cancel, { key: 'Escape' });
    expect(props.onCancel).toHaveBeenCalled();
  });

  it('says someone else changed the partner and offers a reload on a 409', () => {
    const props = renderModal({ conflict: { detail: 'version 3 expected, the partner is at 4' } });
    expect(screen.getByRole('alert').textContent).toContain('Someone else changed this partner');
    expect((screen.getByRole('button', { name: 'Confirm' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Reload partner' }));
    expect(props.onReload).toHaveBeenCalled();
  });
});

describe('the partner search', () => {
  it('matches company, id or email, ignoring case', () => {
    const p = { company_name: 'Summit Roofing Supply', id: 'summit-roofing', primary_email: 'ops@summitroofing.example' };
    expect(matchesSearch(p, 'summit roofing')).toBe(true);
    expect(matchesSearch(p, 'OPS@')).toBe(true);
    expect(matchesSearch(p, '')).toBe(true);
    expect(matchesSearch(p, 'apex')).toBe(false);
  });
});
