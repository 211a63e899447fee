import { useState } from 'react';
import { api, must, type Metrics } from '../../api/client';
import { ErrorNote, Loading, useLoad } from '../../components/ui';
import { addMonths, monthEnd, monthStart, todayIso } from '../../lib/dates';
import { formatCents } from '../../lib/money';
import { BarChart, RateChart } from './Charts';

/** The spec's targets, in basis points: renewal rate > 80 %, payment success > 95 %. */
export const TARGETS = { renewal: 8000, paymentSuccess: 9500 } as const;

async function loadRevenue(from: string, to: string) {
  const today = todayIso();
  // Revenue collected month by month (the last six), one window each.
  const months = [5, 4, 3, 2, 1, 0].map((back) => monthStart(addMonths(today, -back)));
  const [current, ...byMonth] = await Promise.all([
    api.GET('/admin/metrics', { params: { query: { from, to } } }).then(must),
    ...months.map((m) =>
      api.GET('/admin/metrics', { params: { query: { from: m, to: m === monthStart(today) ? today : monthEnd(m) } } }).then(must),
    ),
  ]);
  return { current, byMonth: byMonth.map((m, i) => ({ month: months[i]!.slice(0, 7), metrics: m })) };
}

function Figure({ label, value, testid }: { label: string; value: string | number; testid?: string }) {
  return (
    <div className="figure">
      <dt>{label}</dt>
      <dd data-testid={testid}>{value}</dd>
    </div>
  );
}

function rate(r: Metrics['renewal_rate']) {
  return `${r.percent ?? '—'} (${r.numerator} of ${r.denominator})`;
}

export function Revenue() {
  const today = todayIso();
  const [from, setFrom] = useState(monthStart(today));
  const [to, setTo] = useState(today);
  const data = useLoad(() => loadRevenue(from, to), [from, to]);
  const m = data.data?.current;
  return (
    <section aria-labelledby="rev-title">
      <h1 id="rev-title">Revenue</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          From
          <input type="date" value={from} onChange={(e) => e.target.value && setFrom(e.target.value)} />
        </label>
        <label>
          To
          <input type="date" value={to} onChange={(e) => e.target.value && setTo(e.target.value)} />
        </label>
      </form>
      <ErrorNote>{data.error}</ErrorNote>
      {!m ? (
        !data.error && <Loading what="revenue" />
      ) : (
        <>
          <dl className="figures">
            <Figure label="MRR" value={formatCents(m.mrr.total_cents)} testid="mrr" />
            <Figure label="ARR" value={formatCents(m.arr.total_cents)} testid="arr" />
            <Figure label="Paid partners" value={`${m.active_paid_partners.gold + m.active_paid_partners.platinum} (${m.active_paid_partners.gold} Gold, ${m.active_paid_partners.platinum} Platinum)`} />
            <Figure label="Revenue collected" value={formatCents(m.collections.revenue_cents)} testid="revenue" />
            <Figure label="Renewal rate (target > 80 %)" value={rate(m.renewal_rate)} />
            <Figure label="Payment success (target > 95 %)" value={rate(m.collections.payment_success)} />
            <Figure label="Dunning recovery" value={rate(m.collections.dunning_recovery)} />
            <Figure label="Churn rate" value={rate(m.churn_rate)} />
          </dl>
          <div className="grid two">
            <div className="card">
              <h2>MRR by tier (now)</h2>
              <BarChart
                title="Monthly recurring revenue by tier"
                bars={[
                  { label: 'Power Gold', value: m.mrr.gold_cents, className: 'bar gold' },
                  { label: 'Power Platinum', value: m.mrr.platinum_cents, className: 'bar platinum' },
                ]}
              />
              <table className="compact">
                <caption>MRR and ARR by tier</caption>
                <thead>
                  <tr>
                    <th scope="col">Tier</th>
                    <th scope="col">MRR</th>
                    <th scope="col">ARR</th>
                  </tr>
                </thead>
                <tbody>
                  <tr>
                    <th scope="row">Power Gold</th>
                    <td className="num">{formatCents(m.mrr.gold_cents)}</td>
                    <td className="num">{formatCents(m.arr.gold_cents)}</td>
                  </tr>
                  <tr>
                    <th scope="row">Power Platinum</th>
                    <td className="num">{formatCents(m.mrr.platinum_cents)}</td>
                    <td className="num">{formatCents(m.arr.platinum_cents)}</td>
                  </tr>
                </tbody>
              </table>
            </div>
            <div className="card">
              <h2>Rates against targets</h2>
              <RateChart
                title="Rates in the window"
                rates={[
                  { label: 'Renewal rate', basisPoints: m.renewal_rate.basis_points, percent: m.renewal_rate.percent, targetBasisPoints: TARGETS.renewal },
                  { label: 'Payment success', basisPoints: m.collections.payment_success.basis_points, percent: m.collections.payment_success.percent, targetBasisPoints: TARGETS.paymentSuccess },
                  { label: 'Dunning recovery', basisPoints: m.collections.dunning_recovery.basis_points, percent: m.collections.dunning_recovery.percent },
                ]}
              />
            </div>
            <div className="card">
              <h2>Movements</h2>
              <BarChart
                title="Partners in the window"
                unit="count"
                bars={[
                  { label: 'New', value: m.movements.new },
                  { label: 'Upgraded', value: m.movements.upgraded },
                  { label: 'Downgraded', value: m.movements.downgraded },
                  { label: 'Churned', value: m.movements.churned },
                  { label: 'Renewed', value: m.movements.renewed },
                ]}
              />
            </div>
            <div className="card">
              <h2>Revenue collected by month</h2>
              <BarChart title="Paid minus refunded, by month" bars={(data.data?.byMonth ?? []).map((b) => ({ label: b.month, value: b.metrics.collections.revenue_cents }))} />
            </div>
          </div>
        </>
      )}
    </section>
  );
}
