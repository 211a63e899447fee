import { useRef, useState } from 'react';
import type { Tier } from '../../api/client';
import { Modal, TierBadge } from '../../components/ui';

export type Preview = {
  currentTier: Tier;
  currentLabel: string;
  currentPcr: number;
  proposedTier: Tier;
  proposedLabel: string;
  proposedPcr: number;
  deltaText: string;
  multiplier: number;
};

export type Conflict = { detail: string };

/**
 * The confirmation the spec draws: the PCR impact (from tier-preview), the dates and the price, a
 * required reason, Confirm and Cancel. A 409 shows in place, with a reload.
 */
export function TierChangeModal({
  preview,
  start,
  end,
  price,
  busy,
  error,
  conflict,
  onConfirm,
  onCancel,
  onReload,
}: {
  preview: Preview;
  start: string | null;
  end: string | null;
  price: string;
  busy: boolean;
  error: string | null;
  conflict: Conflict | null;
  onConfirm: (reason: string) => void;
  onCancel: () => void;
  onReload: () => void;
}) {
  const [reason, setReason] = useState('');
  const [touched, setTouched] = useState(false);
  const missing = reason.trim() === '';
  const reasonBox = useRef<HTMLTextAreaElement>(null);
  return (
    <Modal title="Confirm tier change" onClose={onCancel}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setTouched(true);
          if (missing) reasonBox.current?.focus();
          else if (!busy) onConfirm(reason.trim());
        }}
      >
        <dl className="impact">
          <dt>Tier</dt>
          <dd>
            <TierBadge tier={preview.currentTier} label={preview.currentLabel} /> → <TierBadge tier={preview.proposedTier} label={preview.proposedLabel} />
          </dd>
          <dt>PCR impact</dt>
          <dd data-testid="pcr-impact">
            {preview.currentPcr} → {preview.proposedPcr} <strong className="delta">({preview.deltaText})</strong>
          </dd>
          <dt>Multiplier</dt>
          <dd>{preview.multiplier}×</dd>
          <dt>Price</dt>
          <dd>{price} / month</dd>
          {start && end && (
            <>
              <dt>Term</dt>
              <dd>
                {start} to {end}
              </dd>
            </>
          )}
        </dl>
        <label htmlFor="change-reason">Reason (required, kept in the audit trail)</label>
        <textarea
          id="change-reason"
          ref={reasonBox}
          data-autofocus
          aria-required="true"
          aria-invalid={touched && missing}
          aria-describedby={touched && missing ? 'reason-missing' : undefined}
          value={reason}
          maxLength={1000}
          rows={3}
          onChange={(e) => setReason(e.target.value)}
        />
        {touched && missing && (
          <p id="reason-missing" className="field-error">
            Say why the tier changes.
          </p>
        )}
        {conflict && (
          <div className="note note-error" role="alert" data-conflict>
            <p>{conflict.detail}</p>
            <p>Someone else changed this partner since you opened it. Reload to see their change, then decide again.</p>
            <button type="button" onClick={onReload}>
              Reload partner
            </button>
          </div>
        )}
        {error && (
          <div className="note note-error" role="alert">
            {error}
          </div>
        )}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy || conflict !== null}>
            {busy ? 'Saving…' : 'Confirm'}
          </button>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </Modal>
  );
}
