// Hand-written SVG charts (no chart library: the console's JavaScript stays small). Geometry is
// computed from integer cents and basis points; the labels are the formatted amounts.
import { formatCents } from '../../lib/money';

export function BarChart({ title, bars, unit = 'cents' }: { title: string; bars: { label: string; value: number; className?: string }[]; unit?: 'cents' | 'count' }) {
  const width = 560;
  const barHeight = 28;
  const labelWidth = 120;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const height = bars.length * (barHeight + 10) + 10;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${title}: ${bars.map((b) => `${b.label} ${unit === 'cents' ? formatCents(b.value) : b.value}`).join(', ')}`}>
        {bars.map((b, i) => {
          const y = 10 + i * (barHeight + 10);
          const w = Math.round(((width - labelWidth - 130) * b.value) / max);
          return (
            <g key={b.label}>
              <text x={0} y={y + 19} className="chart-label">
                {b.label}
              </text>
              <rect x={labelWidth} y={y} width={Math.max(w, 1)} height={barHeight} className={b.className ?? 'bar'} rx={3} />
              <text x={labelWidth + w + 8} y={y + 19} className="chart-value">
                {unit === 'cents' ? formatCents(b.value) : b.value}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption>{title}</figcaption>
    </figure>
  );
}

export type RateBar = { label: string; basisPoints: number | null; percent: string | null; targetBasisPoints?: number };

/** Rates as bars from 0 to 100 %, each with its target as a line. */
export function RateChart({ title, rates }: { title: string; rates: RateBar[] }) {
  const width = 560;
  const labelWidth = 150;
  const scale = width - labelWidth - 80;
  const rowHeight = 38;
  const height = rates.length * rowHeight + 24;
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`${title}: ${rates.map((r) => `${r.label} ${r.percent ?? 'no data'}${r.targetBasisPoints ? ` (target ${r.targetBasisPoints / 100} %)` : ''}`).join(', ')}`}
      >
        {rates.map((r, i) => {
          const y = 8 + i * rowHeight;
          const w = r.basisPoints === null ? 0 : Math.round((scale * Math.min(r.basisPoints, 10000)) / 10000);
          const met = r.targetBasisPoints === undefined || (r.basisPoints ?? 0) >= r.targetBasisPoints;
          return (
            <g key={r.label}>
              <text x={0} y={y + 18} className="chart-label">
                {r.label}
              </text>
              <rect x={labelWidth} y={y} width={scale} height={24} className="track" rx={3} />
              <rect x={labelWidth} y={y} width={w} height={24} className={met ? 'bar ok' : 'bar below'} rx={3} />
              {r.targetBasisPoints !== undefined && (
                <line
                  x1={labelWidth + Math.round((scale * r.targetBasisPoints) / 10000)}
                  x2={labelWidth + Math.round((scale * r.targetBasisPoints) / 10000)}
                  y1={y - 3}
                  y2={y + 27}
                  className="target"
                />
              )}
              <text x={labelWidth + scale + 8} y={y + 18} className="chart-value">
                {r.percent ?? '—'}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption>{title}; the lines are the spec's targets.</figcaption>
    </figure>
  );
}
