import { api, must, type Invoice } from '../../api/client';
import { href, navigate } from '../../lib/router';
import { ErrorNote, Loading, useLoad } from '../../../../src/components/ui';

/** Every invoice of the partner (the API pages by 100; a partner has about one a month). */
export async function allInvoices(): Promise<Invoice[]> {
  const out: Invoice[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 20; page++) {
    const res = must(await api.GET('/portal/invoices', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }));
    out.push(...res.invoices);
    if (!res.next_cursor) break;
    cursor = res.next_cursor;
  }
  return out;
}

const STATUS: Record<Invoice['status'], string> = {
  pending: 'Open',
  paid: 'Paid',
  failed: 'Payment failed',
  refunded: 'Refunded',
  partially_refunded: 'Partly refunded',
};

function Row({ inv }: { inv: Invoice }) {
  return (
    <tr data-testid={`invoice-${inv.invoice_id}`}>
      <th scope="row">
        <a
          href={href(`/invoices/${encodeURIComponent(inv.invoice_id)}`)}
          onClick={(e) => {
            e.preventDefault();
            navigate(`/invoices/${encodeURIComponent(inv.invoice_id)}`);
          }}
        >
          {inv.number ?? inv.invoice_id}
        </a>
      </th>
      <td>{inv.created_at.slice(0, 10)}</td>
      <td>
        {inv.period_start} to {inv.period_end}
      </td>
      <td>
        <span className={`status status-${inv.status}`}>{STATUS[inv.status]}</span>
      </td>
      <td className="num">{inv.amount}</td>
      <td className="num">{inv.amount_paid}</td>
      <td className="num">{inv.amount_refunded_cents > 0 ? inv.amount_refunded : '—'}</td>
      <td>
        {inv.invoice_pdf_url ? (
          <a href={inv.invoice_pdf_url} target="_blank" rel="noreferrer noopener" aria-label={`PDF of invoice ${inv.number ?? inv.invoice_id}`}>
            PDF
          </a>
        ) : (
          <span className="muted">Not issued yet</span>
        )}
      </td>
    </tr>
  );
}

function Table({ invoices }: { invoices: Invoice[] }) {
  return (
    <div className="table-wrap">
      <table>
        <caption>Amounts in US dollars; the PDF is the invoice as Stripe issued it.</caption>
        <thead>
          <tr>
            <th scope="col">Invoice</th>
            <th scope="col">Date</th>
            <th scope="col">Period</th>
            <th scope="col">Status</th>
            <th scope="col">Amount</th>
            <th scope="col">Paid</th>
            <th scope="col">Refunded</th>
            <th scope="col">Document</th>
          </tr>
        </thead>
        <tbody>
          {invoices.map((inv) => (
            <Row key={inv.invoice_id} inv={inv} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The partner's invoices; with `id`, that one invoice when it is the partner's (else "no such invoice"). */
export function Invoices({ id }: { id: string | null }) {
  const { data, error } = useLoad(allInvoices, []);
  if (error) return <ErrorNote>{error}</ErrorNote>;
  if (!data) return <Loading what="your invoices" />;
  if (id !== null) {
    const one = data.filter((inv) => inv.invoice_id === id);
    return (
      <section aria-labelledby="invoice-title">
        <p className="crumbs">
          <a href={href('/invoices')}>Invoices</a>
        </p>
        <h1 id="invoice-title">Invoice</h1>
        {one.length ? <Table invoices={one} /> : <p data-testid="no-invoice">There is no invoice {id} on your account.</p>}
      </section>
    );
  }
  return (
    <section aria-labelledby="invoices-title">
      <h1 id="invoices-title">Invoices</h1>
      {data.length === 0 ? <p>No invoices yet.</p> : <Table invoices={data} />}
    </section>
  );
}
