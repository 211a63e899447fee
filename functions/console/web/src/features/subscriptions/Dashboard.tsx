import { useState } from 'react';
import { api, download, must, problemText, type SubscriptionRow } from '../../api/client';
import { ErrorNote, Loading, StatusNote, TierBadge, useLoad } from '../../components/ui';
import { shortDateTime } from '../../lib/dates';
import { href, navigate } from '../../lib/router';

export const TABS = ['active', 'expiring', 'expired', 'cancelled', 'history'] as const;
export type Tab = (typeof TABS)[number];
type Sort = 'end_date' | 'company_name';
type RenewResult = { partner_id?: string; status?: string; subscription_end_date?: string; message?: string };

const TAB_LABEL: Record<Tab, string> = { active: 'Active', expiring: 'Expiring soon', expired: 'Expired', cancelled: 'Cancelled', history: 'History' };

function Urgency({ row }: { row: SubscriptionRow }) {
  if (row.urgency === 'urgent') return <span className="urgency urgent" title="ends within 7 days">● Urgent</span>;
  if (row.urgency === 'ended') return <span className="urgency ended">Ended</span>;
  return null;
}

export function Dashboard() {
  const [tab, setTab] = useState<Tab>('active');
  const [tier, setTier] = useState<'' | 'gold' | 'platinum'>('');
  const [sort, setSort] = useState<Sort>('end_date');
  const [order, setOrder] = useState<'asc' | 'desc'>('asc');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [results, setResults] = useState<RenewResult[] | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const page = useLoad(
    () => api.GET('/admin/subscriptions', { params: { query: { tab, tier, ...(tab === 'history' ? {} : { sort, order }), limit: 100 } } }).then(must),
    [tab, tier, sort, order],
  );
  // Later pages (the API pages by cursor), appended below the first; a new view starts over.
  const [more, setMore] = useState<{ key: string; rows: SubscriptionRow[]; history: NonNullable<typeof page.data>['history']; cursor: string | null }>({ key: '', rows: [], history: [], cursor: null });
  const viewKey = `${tab}|${tier}|${sort}|${order}|${page.data?.next_cursor ?? ''}`;
  const extra = more.key === viewKey ? more : { key: viewKey, rows: [], history: [], cursor: page.data?.next_cursor ?? null };
  const rows = [...(page.data?.rows ?? []), ...extra.rows];
  const historyRows = [...(page.data?.history ?? []), ...(extra.history ?? [])];

  async function loadMore() {
    if (!extra.cursor) return;
    const r = await api.GET('/admin/subscriptions', { params: { query: { tab, tier, ...(tab === 'history' ? {} : { sort, order }), limit: 100, cursor: extra.cursor } } });
    if (r.error || !r.data) {
      setError(problemText(r.error));
      return;
    }
    setMore({ key: viewKey, rows: [...extra.rows, ...(r.data.rows ?? [])], history: [...(extra.history ?? []), ...(r.data.history ?? [])], cursor: r.data.next_cursor ?? null });
  }

  function toggleSort(column: Sort) {
    if (sort === column) setOrder(order === 'asc' ? 'desc' : 'asc');
    else {
      setSort(column);
      setOrder('asc');
    }
  }

  async function renew(ids: string[]) {
    setError(null);
    setMessage(null);
    const r = await api.POST('/admin/subscriptions/renew', { body: { partner_ids: ids } });
    if (r.error || !r.data) {
      setError(problemText(r.error));
      return;
    }
    setResults(r.data.results ?? []);
    setSelected(new Set());
    page.reload();
  }

  async function remind(row: SubscriptionRow) {
    setError(null);
    setMessage(null);
    const r = await api.POST('/admin/partners/{id}/reminders', { params: { path: { id: row.partner_id ?? '' } } });
    if (r.error !== undefined) setError(`Reminder to ${row.company_name}: ${problemText(r.error)}`);
    else setMessage(`Reminder sent to ${row.company_name}.`);
  }

  const sortMark = (column: Sort) => (sort === column ? (order === 'asc' ? 'ascending' : 'descending') : 'none');

  return (
    <section aria-labelledby="subs-title">
      <h1 id="subs-title">Subscriptions</h1>
      <div className="tabs" role="tablist" aria-label="Subscription tabs">
        {TABS.map((t) => (
          <button
            key={t}
            role="tab"
            id={`tab-${t}`}
            aria-selected={tab === t}
            aria-controls="subs-panel"
            data-tab={t}
            onClick={() => {
              setTab(t);
              setSelected(new Set());
              setResults(null);
            }}
          >
            {TAB_LABEL[t]} <span className="count" data-count={t}>{page.data?.counts?.[t] ?? '…'}</span>
          </button>
        ))}
      </div>
      <div id="subs-panel" role="tabpanel" aria-labelledby={`tab-${tab}`}>
        <div className="filters">
          <label>
            Tier
            <select value={tier} onChange={(e) => setTier(e.target.value as typeof tier)}>
              <option value="">All paid tiers</option>
              <option value="gold">Power Gold</option>
              <option value="platinum">Power Platinum</option>
            </select>
          </label>
          <button type="button" onClick={() => download(`/admin/subscriptions/export.csv?tab=${tab}${tier ? `&tier=${tier}` : ''}`, `subscriptions-${tab}.csv`).catch((e: unknown) => setError(problemText(e)))}>
            Export CSV
          </button>
          {tab !== 'history' && (
            <button type="button" className="primary" disabled={selected.size === 0} onClick={() => void renew([...selected])}>
              Renew selected ({selected.size})
            </button>
          )}
        </div>
        {message && <StatusNote>{message}</StatusNote>}
        <ErrorNote>{error ?? page.error}</ErrorNote>
        {results && (
          <div className="card" role="status" aria-live="polite">
            <h2>Renewal results</h2>
            <ul className="results" data-testid="renew-results">
              {results.map((r) => (
                <li key={r.partner_id} data-status={r.status}>
                  {r.partner_id}: {r.status}
                  {r.subscription_end_date ? `, now ends ${r.subscription_end_date}` : ''}
                  {r.message ? ` (${r.message})` : ''}
                </li>
              ))}
            </ul>
          </div>
        )}
        {page.loading && !page.data ? (
          <Loading what="subscriptions" />
        ) : tab === 'history' ? (
          <div className="table-wrap">
            <table>
              <caption>Changes across partners, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Partner</th>
                  <th scope="col">Event</th>
                  <th scope="col">Tiers</th>
                  <th scope="col">By</th>
                </tr>
              </thead>
              <tbody>
                {historyRows.map((h) => (
                  <tr key={h.id}>
                    <td>{h.created_at && shortDateTime(h.created_at)}</td>
                    <td>{h.partner_id}</td>
                    <td>{h.event_type?.replace(/_/g, ' ')}</td>
                    <td>
                      {h.from_tier} → {h.to_tier}
                    </td>
                    <td>{h.created_by}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <div className="table-wrap">
            <table>
              <caption>{TAB_LABEL[tab]} subscriptions</caption>
              <thead>
                <tr>
                  <th scope="col">
                    <span className="visually-hidden">Select</span>
                  </th>
                  <th scope="col" aria-sort={sortMark('company_name')}>
                    <button type="button" className="link" onClick={() => toggleSort('company_name')}>
                      Company
                    </button>
                  </th>
                  <th scope="col">Tier</th>
                  <th scope="col">Monthly</th>
                  <th scope="col" aria-sort={sortMark('end_date')}>
                    <button type="button" className="link" onClick={() => toggleSort('end_date')}>
                      Ends
                    </button>
                  </th>
                  <th scope="col">Days left</th>
                  <th scope="col">Status</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => {
                  const id = row.partner_id ?? '';
                  return (
                    <tr key={id} data-partner={id} className={row.urgency === 'urgent' ? 'row-urgent' : undefined}>
                      <td>
                        <input
                          type="checkbox"
                          aria-label={`Select ${row.company_name}`}
                          checked={selected.has(id)}
                          onChange={(e) => {
                            const next = new Set(selected);
                            if (e.target.checked) next.add(id);
                            else next.delete(id);
                            setSelected(next);
                          }}
                        />
                      </td>
                      <th scope="row">{row.company_name}</th>
                      <td>{row.tier && <TierBadge tier={row.tier} label={row.tier_label} />}</td>
                      <td className="num">{row.monthly_price}</td>
                      <td>{row.subscription_end_date}</td>
                      <td className="num">
                        {row.days_left} <Urgency row={row} />
                      </td>
                      <td>
                        {row.subscription_status}
                        {row.auto_renewal ? ', auto-renews' : ''}
                      </td>
                      <td className="row-actions">
                        <button type="button" onClick={() => void remind(row)} aria-label={`Send reminder to ${row.company_name}`}>
                          Send reminder
                        </button>
                        <button type="button" onClick={() => void renew([id])} aria-label={`Renew ${row.company_name}`}>
                          Renew
                        </button>
                        <a href={href(`/partners/${encodeURIComponent(id)}`)} onClick={(e) => { e.preventDefault(); navigate(`/partners/${encodeURIComponent(id)}`); }} aria-label={`View ${row.company_name}`}>
                          View
                        </a>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        {extra.cursor && (
          <button type="button" className="more" onClick={() => void loadMore()}>
            Show more
          </button>
        )}
      </div>
    </section>
  );
}
