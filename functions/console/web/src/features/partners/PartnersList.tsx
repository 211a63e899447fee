import { useMemo, useState } from 'react';
import { api, must, problemText, type Partner, type Tier } from '../../api/client';
import { ErrorNote, Loading, StatusNote, TierBadge, useLoad } from '../../components/ui';
import { href, navigate } from '../../lib/router';

type Status = Partner['subscription_status'];

/** Every partner of the directory (it pages by company name; the console reads all pages). */
export async function loadAllPartners(tier: Tier | '', status: Status | ''): Promise<Partner[]> {
  const partners: Partner[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const data = must(await api.GET('/admin/partners', { params: { query: { tier, status, limit: 100, ...(cursor ? { cursor } : {}) } } }));
    partners.push(...data.partners);
    if (!data.next_cursor) break;
    cursor = data.next_cursor;
  }
  return partners;
}

export function matchesSearch(partner: Pick<Partner, 'company_name' | 'id' | 'primary_email'>, search: string): boolean {
  const q = search.trim().toLowerCase();
  if (!q) return true;
  return [partner.company_name, partner.id, partner.primary_email].some((v) => v.toLowerCase().includes(q));
}

export function PartnersList() {
  const [tier, setTier] = useState<Tier | ''>('');
  const [status, setStatus] = useState<Status | ''>('');
  const [search, setSearch] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const list = useLoad(() => loadAllPartners(tier, status), [tier, status]);
  const shown = useMemo(() => (list.data ?? []).filter((p) => matchesSearch(p, search)), [list.data, search]);

  async function quickChange(p: Partner, to: Tier) {
    setError(null);
    setMessage(null);
    // The quick change keeps the default dates; the partner page asks for a reason and shows the PCR impact.
    navigate(`/partners/${encodeURIComponent(p.id)}?tier=${to}`);
  }

  return (
    <section aria-labelledby="partners-title">
      <h1 id="partners-title">Partners</h1>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search by name
          <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Company, id or email" />
        </label>
        <label>
          Tier
          <select value={tier} onChange={(e) => setTier(e.target.value as Tier | '')}>
            <option value="">All tiers</option>
            <option value="free">Free</option>
            <option value="gold">Power Gold</option>
            <option value="platinum">Power Platinum</option>
          </select>
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value as Status | '')}>
            <option value="">All statuses</option>
            <option value="inactive">Inactive</option>
            <option value="active">Active</option>
            <option value="expired">Expired</option>
            <option value="cancelled">Cancelled</option>
          </select>
        </label>
      </form>
      {message && <StatusNote>{message}</StatusNote>}
      <ErrorNote>{error ?? (list.error ? problemText(list.error) : null)}</ErrorNote>
      {list.loading && !list.data ? (
        <Loading what="partners" />
      ) : (
        <div className="table-wrap">
          <table className="partners" aria-describedby="partners-count">
            <caption id="partners-count">
              {shown.length} of {list.data?.length ?? 0} partners
            </caption>
            <thead>
              <tr>
                <th scope="col">Company</th>
                <th scope="col">Tier</th>
                <th scope="col">PCR</th>
                <th scope="col">Status</th>
                <th scope="col">Days left</th>
                <th scope="col">Change tier</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((p) => (
                <tr key={p.id} data-partner={p.id}>
                  <th scope="row">
                    <a href={href(`/partners/${encodeURIComponent(p.id)}`)} onClick={(e) => { e.preventDefault(); navigate(`/partners/${encodeURIComponent(p.id)}`); }}>
                      {p.company_name}
                    </a>
                  </th>
                  <td>
                    <TierBadge tier={p.engagement_tier} label={p.tier_label} />
                  </td>
                  <td className="num">{p.final_pcr_score}</td>
                  <td>{p.subscription_status}</td>
                  <td className="num">{p.days_left ?? '—'}</td>
                  <td>
                    <label className="visually-hidden" htmlFor={`quick-${p.id}`}>
                      Change tier of {p.company_name}
                    </label>
                    <select
                      id={`quick-${p.id}`}
                      value=""
                      onChange={(e) => e.target.value && void quickChange(p, e.target.value as Tier)}
                    >
                      <option value="">Change…</option>
                      {(['free', 'gold', 'platinum'] as const)
                        .filter((t) => t !== p.engagement_tier)
                        .map((t) => (
                          <option key={t} value={t}>
                            {t === 'free' ? 'Free' : t === 'gold' ? 'Power Gold' : 'Power Platinum'}
                          </option>
                        ))}
                    </select>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
