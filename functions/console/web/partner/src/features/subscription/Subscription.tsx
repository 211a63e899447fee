import { api, must, type Account, type TierCard } from '../../api/client';
import { href, navigate } from '../../lib/router';
import { canCancel, canWithdraw, paymentStatus, pcr, pcrGain } from '../../lib/format';
import { ErrorNote, Loading, TierBadge, useLoad } from '../../../../src/components/ui';

export async function loadAccount(): Promise<{ account: Account; tiers: TierCard[] }> {
  const [me, tiers] = await Promise.all([api.GET('/portal/me'), api.GET('/portal/tiers')]);
  return { account: must(me), tiers: must(tiers).tiers };
}

function Link({ to, children }: { to: string; children: string }) {
  return (
    <a
      href={href(to)}
      onClick={(e) => {
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

export function CardOnFile({ account }: { account: Account }) {
  const pm = account.payment_method;
  if (pm.status === 'on_file' && pm.card) {
    const exp = pm.card.exp_month && pm.card.exp_year ? `, expires ${String(pm.card.exp_month).padStart(2, '0')}/${pm.card.exp_year}` : '';
    return (
      <span data-testid="card-on-file">
        {pm.card.brand} •••• {pm.card.last4}
        {exp}
      </span>
    );
  }
  return <span data-testid="card-on-file">{pm.status === 'unavailable' ? 'Not available right now' : 'No card on file'}</span>;
}

/** My subscription: tier, benefits, PCR now and on each tier, the term, payment, changes under way. */
export function Subscription() {
  const { data, error } = useLoad(loadAccount, []);
  if (error) return <ErrorNote>{error}</ErrorNote>;
  if (!data) return <Loading what="your subscription" />;
  const { account, tiers } = data;
  const s = account.subscription;
  const upgrades = tiers.filter((t) => t.can_upgrade);
  return (
    <section aria-labelledby="me-title">
      <h1 id="me-title">
        {account.company_name} <TierBadge tier={account.tier} label={account.tier_label} />
      </h1>
      {account.pending_upgrade?.tier && (
        <p className="note note-info" role="status">
          Your upgrade to {tiers.find((t) => t.tier === account.pending_upgrade?.tier)?.label ?? account.pending_upgrade.tier} is waiting for its
          payment. <Link to={`/upgrade?tier=${account.pending_upgrade.tier}`}>Continue the upgrade</Link>
        </p>
      )}
      {account.scheduled_change?.tier && (
        <p className="note note-info">
          Scheduled: {tiers.find((t) => t.tier === account.scheduled_change?.tier)?.label ?? account.scheduled_change.tier} from{' '}
          {account.scheduled_change.effective}.
        </p>
      )}
      <div className="grid">
        <div className="card">
          <h2>My subscription</h2>
          <dl className="facts">
            <dt>Tier</dt>
            <dd data-testid="tier">{account.tier_label}</dd>
            <dt>Payment multiplier</dt>
            <dd>{account.payment_multiplier}x</dd>
            <dt>Status</dt>
            <dd>{s.status}</dd>
            <dt>Term</dt>
            <dd>{s.start_date && s.end_date ? `${s.start_date} to ${s.end_date}` : 'No paid term'}</dd>
            {s.days_left !== null && (
              <>
                <dt>Days left</dt>
                <dd>{s.days_left}</dd>
              </>
            )}
            {s.renews_on && (
              <>
                <dt>Renews on</dt>
                <dd data-testid="renews-on">{s.renews_on}</dd>
              </>
            )}
            {s.access_until && (
              <>
                <dt>Access until</dt>
                <dd data-testid="access-until">{s.access_until}</dd>
              </>
            )}
            <dt>Billing</dt>
            <dd>{account.billing === 'stripe' ? 'Card, billed by Stripe' : 'Managed by Power100'}</dd>
            <dt>Payment</dt>
            <dd data-testid="payment-status">{paymentStatus(account.payment_status)}</dd>
            {account.last_payment_amount && (
              <>
                <dt>Last payment</dt>
                <dd>
                  {account.last_payment_amount} on {account.last_payment_date}
                </dd>
              </>
            )}
            <dt>Card</dt>
            <dd>
              <CardOnFile account={account} />
            </dd>
          </dl>
          <p className="row-actions">
            {upgrades.length > 0 && <Link to="/upgrade">Upgrade</Link>}
            {account.billing === 'stripe' && <Link to="/card">Change card</Link>}
            <Link to="/invoices">Invoices</Link>
            {(canCancel(account) || canWithdraw(account)) && <Link to="/cancel">{canWithdraw(account) ? 'Withdraw cancellation' : 'Cancel'}</Link>}
          </p>
        </div>
        <div className="card">
          <h2>Benefits</h2>
          <ul data-testid="benefits">
            {account.benefits.map((b) => (
              <li key={b}>{b}</li>
            ))}
          </ul>
        </div>
      </div>
      <div className="table-wrap">
        <table>
          <caption>
            Your PCR is <strong data-testid="pcr-now">{pcr(account.pcr.score)}</strong> (base {pcr(account.pcr.base)}, momentum {account.pcr.momentum}). On each tier:
          </caption>
          <thead>
            <tr>
              <th scope="col">Tier</th>
              <th scope="col">Price</th>
              <th scope="col">Multiplier</th>
              <th scope="col">Your PCR</th>
              <th scope="col">
                <span className="visually-hidden">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tiers.map((t) => (
              <tr key={t.tier} data-testid={`tier-row-${t.tier}`}>
                <th scope="row">
                  <TierBadge tier={t.tier} label={t.label} /> {t.current && <span className="muted">(yours)</span>}
                </th>
                <td className="num">{t.monthly_price_cents === 0 ? 'Free' : `${t.monthly_price} / month`}</td>
                <td className="num">{t.payment_multiplier}x</td>
                <td className="num">
                  {pcr(t.your_pcr)} {!t.current && <span className="delta">({pcrGain(account.pcr.score, t.your_pcr)})</span>}
                </td>
                <td>{t.can_upgrade && <Link to={`/upgrade?tier=${t.tier}`}>{`Upgrade to ${t.label}`}</Link>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
