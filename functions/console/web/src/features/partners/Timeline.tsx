import { api, must, type HistoryEntry } from '../../api/client';
import { ErrorNote, Loading, useLoad } from '../../components/ui';
import { shortDateTime } from '../../lib/dates';

type AuditEntry = NonNullable<Awaited<ReturnType<typeof loadTimeline>>['audit']>[number];

async function loadTimeline(id: string) {
  const [history, audit] = await Promise.all([
    api.GET('/admin/partners/{id}/history', { params: { path: { id }, query: { limit: 50 } } }).then(must),
    api.GET('/admin/partners/{id}/audit', { params: { path: { id }, query: { limit: 50 } } }).then(must),
  ]);
  return { history: history.history ?? [], audit: audit.audit ?? [] };
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** History and audit, newest first: who, when, why, before → after. */
export function Timeline({ partnerId, refresh }: { partnerId: string; refresh: number }) {
  const t = useLoad(() => loadTimeline(partnerId), [partnerId, refresh]);
  if (t.error) return <ErrorNote>{t.error}</ErrorNote>;
  if (!t.data) return <Loading what="history" />;
  return (
    <div className="grid two">
      <section className="card" aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        <ol className="timeline" data-testid="history">
          {t.data.history.map((h: HistoryEntry) => (
            <li key={h.id}>
              <p>
                <strong>{h.event_type?.replace(/_/g, ' ')}</strong> {h.from_tier} → {h.to_tier}
                {h.pcr_before !== undefined && h.pcr_after !== undefined && ` (PCR ${h.pcr_before} → ${h.pcr_after})`}
              </p>
              <p className="muted">
                {h.created_at && shortDateTime(h.created_at)} by {h.created_by}
                {h.subscription_end && `, term ${h.subscription_start} to ${h.subscription_end}`}
              </p>
              {h.notes && <p className="why">“{h.notes}”</p>}
            </li>
          ))}
        </ol>
      </section>
      <section className="card" aria-labelledby="audit-title">
        <h2 id="audit-title">Audit</h2>
        <ol className="timeline">
          {t.data.audit.map((a: AuditEntry) => (
            <li key={a.id}>
              <p>
                <strong>{a.action?.replace(/_/g, ' ')}</strong> by {a.actor}
              </p>
              <p className="muted">{a.at && shortDateTime(a.at)}</p>
              {a.reason && <p className="why">“{a.reason}”</p>}
              {a.changes && a.changes.length > 0 && (
                <ul className="changes">
                  {a.changes.map((c, i) => (
                    <li key={i}>
                      {c.field}: {show(c.from)} → {show(c.to)}
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ol>
      </section>
    </div>
  );
}
