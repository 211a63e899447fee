import { useEffect, useRef, useState } from 'react';
import { api, download, must, problemText, type Partner, type Tier, type TierCatalog } from '../../api/client';
import { ErrorNote, Loading, StatusNote, TierBadge, useLoad } from '../../components/ui';
import { addMonths, shortDateTime, todayIso } from '../../lib/dates';
import { href, navigate } from '../../lib/router';
import { TierChangeModal, type Conflict, type Preview } from './TierChangeModal';
import { Timeline } from './Timeline';

type Loaded = { partner: Partner; tiers: TierCatalog };

async function loadPartner(id: string): Promise<Loaded> {
  const [partner, catalog] = await Promise.all([
    api.GET('/admin/partners/{id}', { params: { path: { id } } }).then(must),
    api.GET('/admin/tiers').then(must),
  ]);
  return { partner, tiers: catalog.tiers ?? [] };
}

export function PartnerPage({ id, preselect }: { id: string; preselect: Tier | null }) {
  const loaded = useLoad(() => loadPartner(id), [id]);
  const [timelineKey, setTimelineKey] = useState(0);
  // Kept above the view, which starts afresh with every version of the partner.
  const [message, setMessage] = useState<string | null>(null);
  if (loaded.error) return <ErrorNote>{loaded.error}</ErrorNote>;
  if (!loaded.data) return <Loading what="the partner" />;
  return (
    <PartnerView
      key={`${loaded.data.partner.id}-${loaded.data.partner.version}`}
      data={loaded.data}
      preselect={preselect}
      timelineKey={timelineKey}
      message={message}
      setMessage={setMessage}
      reload={() => {
        loaded.reload();
        setTimelineKey((k) => k + 1);
      }}
    />
  );
}

function PartnerView({
  data,
  preselect,
  reload,
  timelineKey,
  message,
  setMessage,
}: {
  data: Loaded;
  preselect: Tier | null;
  reload: () => void;
  timelineKey: number;
  message: string | null;
  setMessage: (message: string | null) => void;
}) {
  const { partner, tiers } = data;
  const today = todayIso();
  const [tier, setTier] = useState<Tier>(preselect ?? partner.engagement_tier);
  const [start, setStart] = useState(partner.engagement_tier !== 'free' && partner.subscription_start_date ? partner.subscription_start_date : today);
  const [end, setEnd] = useState(
    partner.engagement_tier !== 'free' && partner.subscription_end_date ? partner.subscription_end_date : addMonths(today, 12),
  );
  const [endTouched, setEndTouched] = useState(false);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [busy, setBusy] = useState(false);
  const [modalError, setModalError] = useState<string | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [pageError, setPageError] = useState<string | null>(null);
  const paid = tier !== 'free';
  const stripeBilled = partner.billing === 'stripe';
  const selected = tiers.find((t) => t.tier === tier);
  const unchanged = tier === partner.engagement_tier && (!paid || (start === partner.subscription_start_date && end === partner.subscription_end_date));
  const autoOpened = useRef(false);

  async function openConfirmation() {
    setPageError(null);
    setMessage(null);
    if (paid && !stripeBilled && end <= start) {
      setPageError('The end date must be after the start date.');
      return;
    }
    const result = await api.GET('/admin/partners/{id}/tier-preview', { params: { path: { id: partner.id }, query: { tier } } });
    if (result.error || !result.data) {
      setPageError(problemText(result.error));
      return;
    }
    const p = result.data;
    setModalError(null);
    setConflict(null);
    setPreview({
      currentTier: p.current?.tier ?? partner.engagement_tier,
      currentLabel: p.current?.label ?? partner.tier_label,
      currentPcr: p.current?.final_pcr_score ?? partner.final_pcr_score,
      proposedTier: p.proposed?.tier ?? tier,
      proposedLabel: p.proposed?.label ?? tier,
      proposedPcr: p.proposed?.final_pcr_score ?? partner.final_pcr_score,
      deltaText: p.pcr_delta_text ?? '',
      multiplier: p.proposed?.multiplier ?? 0,
    });
  }

  useEffect(() => {
    if (preselect && preselect !== partner.engagement_tier && !autoOpened.current) {
      autoOpened.current = true;
      void openConfirmation();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  async function confirm(reason: string) {
    setBusy(true);
    setModalError(null);
    const sendDates = paid && !stripeBilled;
    const result = await api.PATCH('/api/partners/{id}/engagement-tier', {
      params: { path: { id: partner.id } },
      body: {
        engagement_tier: tier,
        reason,
        expected_version: partner.version,
        ...(sendDates ? { subscription_start_date: start, subscription_end_date: end } : {}),
      },
    });
    setBusy(false);
    if (result.response.status === 409) {
      setConflict({ detail: problemText(result.error, 'The partner changed meanwhile.') });
      return;
    }
    if (result.error || !result.data) {
      setModalError(problemText(result.error));
      return;
    }
    setPreview(null);
    if (preselect) window.history.replaceState(null, '', href(`/partners/${encodeURIComponent(partner.id)}`));
    setMessage(result.response.status === 202 ? 'Saved; Stripe has not confirmed yet (retried until it does).' : `Saved: ${result.data.partner?.tier_label ?? tier}.`);
    reload();
  }

  return (
    <section aria-labelledby="partner-title" className="partner">
      <p className="crumbs">
        <a href={href('/')} onClick={(e) => { e.preventDefault(); navigate('/'); }}>
          Partners
        </a>{' '}
        / {partner.company_name}
      </p>
      <h1 id="partner-title">
        {partner.company_name} <TierBadge tier={partner.engagement_tier} label={partner.tier_label} />
      </h1>
      {message && <StatusNote>{message}</StatusNote>}
      <ErrorNote>{pageError}</ErrorNote>
      <div className="grid">
        <div className="card">
          <h2>Profile</h2>
          <dl className="facts">
            <dt>Email</dt>
            <dd>{partner.primary_email}</dd>
            <dt>PCR</dt>
            <dd data-testid="pcr">{partner.final_pcr_score} <span className="muted">(base {partner.base_pcr_score}, momentum {partner.momentum_modifier})</span></dd>
            <dt>Multiplier</dt>
            <dd>{partner.payment_multiplier}×</dd>
            <dt>Price</dt>
            <dd>{partner.monthly_price} / month</dd>
            <dt>Status</dt>
            <dd>{partner.subscription_status}{partner.auto_renewal ? ', renews automatically' : ''}</dd>
            {partner.subscription_end_date && (
              <>
                <dt>Term</dt>
                <dd>
                  {partner.subscription_start_date} to {partner.subscription_end_date}
                  {partner.days_left !== undefined && ` (${partner.days_left} days left)`}
                </dd>
              </>
            )}
          </dl>
        </div>
        <form
          className="card"
          aria-labelledby="tier-form-title"
          onSubmit={(e) => {
            e.preventDefault();
            void openConfirmation();
          }}
        >
          <h2 id="tier-form-title">Tier</h2>
          <fieldset className="tiers">
            <legend>Engagement tier</legend>
            {tiers.map((t) =>
              t.tier ? (
                <label key={t.tier} className={`tier-option ${tier === t.tier ? 'selected' : ''}`}>
                  <input type="radio" name="tier" value={t.tier} checked={tier === t.tier} onChange={() => setTier(t.tier!)} />
                  <span className="tier-name">{t.label}</span>
                  <span className="tier-meta">
                    {t.monthly_price}/mo · {t.multiplier}× PCR
                  </span>
                </label>
              ) : null,
            )}
          </fieldset>
          {paid && (
            <div className="dates">
              <label>
                Start
                <input
                  type="date"
                  value={start}
                  disabled={stripeBilled}
                  onChange={(e) => {
                    setStart(e.target.value);
                    if (!endTouched && e.target.value) setEnd(addMonths(e.target.value, 12));
                  }}
                />
              </label>
              <label>
                End
                <input
                  type="date"
                  value={end}
                  disabled={stripeBilled}
                  onChange={(e) => {
                    setEnd(e.target.value);
                    setEndTouched(true);
                  }}
                />
              </label>
              {stripeBilled && <p className="muted">Stripe bills this partner: its periods set the dates.</p>}
            </div>
          )}
          <p className="muted">
            {selected ? `${selected.label}: ${selected.monthly_price}/month, ${selected.multiplier}× multiplier.` : ''}
          </p>
          <button type="submit" className="primary" disabled={unchanged}>
            Save
          </button>
        </form>
        <Notes partner={partner} onSaved={reload} />
        <Billing partner={partner} onChanged={reload} />
      </div>
      <Timeline partnerId={partner.id} refresh={timelineKey} />
      {preview && selected && (
        <TierChangeModal
          preview={preview}
          start={paid ? start : null}
          end={paid ? end : null}
          price={selected.monthly_price ?? ''}
          busy={busy}
          error={modalError}
          conflict={conflict}
          onConfirm={(reason) => void confirm(reason)}
          onCancel={() => setPreview(null)}
          onReload={() => {
            setPreview(null);
            reload();
          }}
        />
      )}
    </section>
  );
}

function Notes({ partner, onSaved }: { partner: Partner; onSaved: () => void }) {
  const [notes, setNotes] = useState(partner.subscription_notes ?? '');
  const [auto, setAuto] = useState(partner.auto_renewal);
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      className="card"
      aria-labelledby="notes-title"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        const r = await api.PATCH('/admin/partners/{id}/subscription', {
          params: { path: { id: partner.id } },
          body: { subscription_notes: notes, auto_renewal: auto, expected_version: partner.version },
        });
        if (r.error) setError(problemText(r.error));
        else onSaved();
      }}
    >
      <h2 id="notes-title">Notes and renewal</h2>
      <label htmlFor="notes">Subscription notes</label>
      <textarea id="notes" rows={3} value={notes} onChange={(e) => setNotes(e.target.value)} />
      <label className="inline">
        <input type="checkbox" checked={auto} onChange={(e) => setAuto(e.target.checked)} /> Renews automatically
      </label>
      <ErrorNote>{error}</ErrorNote>
      <button type="submit">Save notes</button>
    </form>
  );
}

function Billing({ partner, onChanged }: { partner: Partner; onChanged: () => void }) {
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [billTier, setBillTier] = useState<'gold' | 'platinum'>(partner.engagement_tier === 'platinum' ? 'platinum' : 'gold');
  const [collection, setCollection] = useState<'charge_automatically' | 'send_invoice'>('charge_automatically');
  const [months, setMonths] = useState(1);
  const id = partner.id;
  const path = { params: { path: { id } } };

  async function run(what: string, call: () => Promise<{ error?: unknown; response: Response }>, stripe = true) {
    setMessage(null);
    setError(null);
    const r = await call();
    if (r.error !== undefined) {
      setError(`${what}: ${problemText(r.error)}`);
      return;
    }
    setMessage(`${what}: done${stripe && r.response.status === 202 ? ' (Stripe confirms later)' : ''}.`);
    onChanged();
  }

  return (
    <div className="card" aria-labelledby="billing-title">
      <h2 id="billing-title">Billing</h2>
      <dl className="facts">
        <dt>Billed</dt>
        <dd data-testid="billing">{partner.billing === 'stripe' ? 'by Stripe' : 'manually'}</dd>
        {partner.payment_status && (<><dt>Payment</dt><dd>{partner.payment_status}{partner.payment_due_date ? `, due ${partner.payment_due_date}` : ''}</dd></>)}
        {partner.stripe_subscription_status && (<><dt>Stripe</dt><dd>{partner.stripe_subscription_status}</dd></>)}
        {partner.paid_through && (<><dt>Paid through</dt><dd>{partner.paid_through}</dd></>)}
        {partner.pending_billing && (<><dt>Pending start</dt><dd>{partner.pending_billing.tier}, {partner.pending_billing.collection.replace('_', ' ')} since {shortDateTime(partner.pending_billing.requested_at)}</dd></>)}
        {partner.stripe_sync && (<><dt>Pending sync</dt><dd>{partner.stripe_sync.action.replace(/_/g, ' ')} ({partner.stripe_sync.attempts} attempts){partner.stripe_sync.last_error ? `: ${partner.stripe_sync.last_error}` : ''}</dd></>)}
        {partner.scheduled_tier_change && (<><dt>Scheduled</dt><dd>{partner.scheduled_tier_change.tier} from {partner.scheduled_tier_change.effective}</dd></>)}
        {partner.paused_until && (<><dt>Paused until</dt><dd>{partner.paused_until}</dd></>)}
      </dl>
      {message && <StatusNote>{message}</StatusNote>}
      <ErrorNote>{error}</ErrorNote>
      <div className="action-group">
        <label>
          Bill tier
          <select value={billTier} onChange={(e) => setBillTier(e.target.value as 'gold' | 'platinum')}>
            <option value="gold">Power Gold</option>
            <option value="platinum">Power Platinum</option>
          </select>
        </label>
        <label>
          Collection
          <select value={collection} onChange={(e) => setCollection(e.target.value as typeof collection)}>
            <option value="charge_automatically">Card on file</option>
            <option value="send_invoice">Emailed invoice</option>
          </select>
        </label>
        <button type="button" onClick={() => void run('Start billing', () => api.POST('/admin/partners/{id}/billing', { ...path, body: { tier: billTier, collection } }))}>
          Start billing
        </button>
      </div>
      <div className="action-group">
        <button type="button" onClick={() => void run('Reminder', () => api.POST('/admin/partners/{id}/reminders', path), false)}>
          Send reminder now
        </button>
        <button type="button" onClick={() => void run('Cancel at term end', () => api.POST('/admin/partners/{id}/cancel', { ...path, body: { effective: 'term_end' } }))}>
          Cancel at term end
        </button>
        <button
          type="button"
          className="danger"
          onClick={() => window.confirm(`Cancel ${partner.company_name} now and downgrade to Free?`) && void run('Cancel now', () => api.POST('/admin/partners/{id}/cancel', { ...path, body: { effective: 'immediately' } }))}
        >
          Cancel now
        </button>
      </div>
      <div className="action-group">
        <label>
          Pause months
          <input type="number" min={1} max={6} value={months} onChange={(e) => setMonths(Math.max(1, Math.min(6, Number(e.target.value) || 1)))} />
        </label>
        <button type="button" onClick={() => void run('Pause', () => api.POST('/admin/partners/{id}/pause', { ...path, body: { months } }))}>
          Pause
        </button>
        <button type="button" onClick={() => void run('Resume', () => api.POST('/admin/partners/{id}/resume', { ...path, body: {} }))}>
          Resume
        </button>
      </div>
      <div className="action-group">
        <button
          type="button"
          onClick={() => {
            setError(null);
            download(`/admin/partners/${encodeURIComponent(id)}/export`, `${id}-export.json`).then(
              () => setMessage('GDPR export downloaded.'),
              (e: unknown) => setError(problemText(e)),
            );
          }}
        >
          GDPR export
        </button>
        <button
          type="button"
          className="danger"
          onClick={() =>
            window.confirm(`Erase the personal data in ${partner.company_name}'s payment history?`) &&
            void run('GDPR erase', () => api.DELETE('/admin/partners/{id}/payment-history', { ...path, body: { confirm: true } }))
          }
        >
          GDPR erase
        </button>
      </div>
    </div>
  );
}
