import { useState } from 'react';
import { api, download, must, problemText, type Invoice } from '../../api/client';
import { ErrorNote, Loading, Modal, StatusNote, useLoad } from '../../components/ui';
import { shortDateTime } from '../../lib/dates';
import { formatCents, parseDollars } from '../../lib/money';

type Status = '' | Invoice['status'];

/** What a refund can still give back, in cents (integers only). */
export function leftToRefund(invoice: Pick<Invoice, 'amount_paid_cents' | 'amount_refunded_cents'>): number {
  return Math.max(0, invoice.amount_paid_cents - invoice.amount_refunded_cents);
}

type Dialog = { kind: 'mark-paid' | 'refund'; invoice: Invoice } | null;

/** A key naming one refund request: a retry after a lost answer repeats it instead of refunding twice. */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `console-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export function Invoices() {
  const [status, setStatus] = useState<Status>('');
  const [partner, setPartner] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [dialog, setDialog] = useState<Dialog>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const query = { status, partner_id: partner.trim(), from, to };
  const list = useLoad(() => api.GET('/admin/invoices', { params: { query: { ...query, limit: 100 } } }).then(must), [status, partner, from, to]);
  const csvQuery = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== '')).toString();

  async function resend(inv: Invoice) {
    setError(null);
    setMessage(null);
    const r = await api.POST('/admin/invoices/{invoice_id}/resend', { params: { path: { invoice_id: inv.invoice_id } } });
    if (r.error !== undefined) setError(problemText(r.error));
    else setMessage(r.data?.message ?? 'Invoice sent again.');
  }

  return (
    <section aria-labelledby="inv-title">
      <h1 id="inv-title">Invoices</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value as Status)}>
            <option value="">All</option>
            <option value="pending">Pending</option>
            <option value="paid">Paid</option>
            <option value="failed">Failed</option>
            <option value="partially_refunded">Partially refunded</option>
            <option value="refunded">Refunded</option>
          </select>
        </label>
        <label>
          Partner id
          <input value={partner} onChange={(e) => setPartner(e.target.value)} pattern="[A-Za-z0-9_\-]*" />
        </label>
        <label>
          From
          <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label>
          To
          <input type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
        <button type="button" onClick={() => download(`/admin/invoices/export.csv${csvQuery ? `?${csvQuery}` : ''}`, 'invoices.csv').catch((e: unknown) => setError(problemText(e)))}>
          Export CSV
        </button>
      </form>
      {message && <StatusNote>{message}</StatusNote>}
      <ErrorNote>{error ?? list.error}</ErrorNote>
      {list.loading && !list.data ? (
        <Loading what="invoices" />
      ) : (
        <div className="table-wrap">
          <table>
            <caption>{list.data?.invoices?.length ?? 0} invoices, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Invoice</th>
                <th scope="col">Partner</th>
                <th scope="col">Status</th>
                <th scope="col">Amount</th>
                <th scope="col">Paid</th>
                <th scope="col">Refunded</th>
                <th scope="col">Left to refund</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {(list.data?.invoices ?? []).map((inv) => (
                <tr key={inv.invoice_id} data-invoice={inv.invoice_id}>
                  <th scope="row">{inv.number ?? inv.invoice_id}</th>
                  <td>{inv.company_name ?? inv.partner_id}</td>
                  <td>
                    <span className={`status status-${inv.status}`}>{inv.status.replace('_', ' ')}</span>
                  </td>
                  <td className="num">{inv.amount}</td>
                  <td className="num">{inv.amount_paid}</td>
                  <td className="num">{inv.amount_refunded}</td>
                  <td className="num" data-testid="left">{formatCents(leftToRefund(inv))}</td>
                  <td>{shortDateTime(inv.created_at)}</td>
                  <td className="row-actions">
                    {inv.invoice_pdf_url && (
                      <a href={inv.invoice_pdf_url} target="_blank" rel="noreferrer noopener">
                        PDF
                      </a>
                    )}
                    <button type="button" onClick={() => void resend(inv)}>
                      Resend
                    </button>
                    {(inv.status === 'failed' || inv.status === 'pending') && (
                      <button type="button" onClick={() => setDialog({ kind: 'mark-paid', invoice: inv })}>
                        Mark paid
                      </button>
                    )}
                    {leftToRefund(inv) > 0 && (
                      <button type="button" onClick={() => setDialog({ kind: 'refund', invoice: inv })}>
                        Refund
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {dialog && (
        <InvoiceDialog
          dialog={dialog}
          onClose={() => setDialog(null)}
          onDone={(text) => {
            setDialog(null);
            setMessage(text);
            list.reload();
          }}
        />
      )}
    </section>
  );
}

function InvoiceDialog({ dialog, onClose, onDone }: { dialog: NonNullable<Dialog>; onClose: () => void; onDone: (message: string) => void }) {
  const inv = dialog.invoice;
  const [reason, setReason] = useState('');
  const [restore, setRestore] = useState(true);
  const [amount, setAmount] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // One key per refund asked for: the same amount retried keeps it, another amount gets a new one.
  const [refundKey, setRefundKey] = useState(newIdempotencyKey);
  const left = leftToRefund(inv);

  async function submit() {
    setError(null);
    if (!reason.trim()) {
      setError('A reason is required.');
      return;
    }
    setBusy(true);
    if (dialog.kind === 'mark-paid') {
      const r = await api.POST('/admin/invoices/{invoice_id}/mark-paid', { params: { path: { invoice_id: inv.invoice_id } }, body: { reason: reason.trim(), restore_tier: restore } });
      setBusy(false);
      if (r.error !== undefined) setError(problemText(r.error));
      else onDone(`Invoice ${inv.number ?? inv.invoice_id} marked paid.`);
      return;
    }
    const cents = amount.trim() === '' ? null : parseDollars(amount);
    if (amount.trim() !== '' && cents === null) {
      setBusy(false);
      setError('Type the amount in dollars, such as 1200 or 1,200.00.');
      return;
    }
    const r = await api.POST('/admin/invoices/{invoice_id}/refund', {
      params: { path: { invoice_id: inv.invoice_id }, header: { 'Idempotency-Key': refundKey } },
      body: { reason: reason.trim(), amount_cents: cents },
    });
    setBusy(false);
    if (r.error !== undefined || !r.data) setError(problemText(r.error));
    else onDone(`Refunded ${r.data.amount}; ${formatCents(Math.max(0, inv.amount_paid_cents - r.data.total_refunded_cents))} left to refund.`);
  }

  return (
    <Modal title={dialog.kind === 'refund' ? `Refund ${inv.number ?? inv.invoice_id}` : `Mark ${inv.number ?? inv.invoice_id} paid`} onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <p>
          {inv.company_name ?? inv.partner_id}: {inv.amount}, paid {inv.amount_paid}, refunded {inv.amount_refunded}.
        </p>
        {dialog.kind === 'refund' && (
          <>
            <p>
              Left to refund: <strong data-testid="dialog-left">{formatCents(left)}</strong>
            </p>
            <label htmlFor="refund-amount">Amount in dollars (empty: all that is left)</label>
            <input
              id="refund-amount"
              inputMode="decimal"
              data-autofocus
              value={amount}
              onChange={(e) => {
                setAmount(e.target.value);
                setRefundKey(newIdempotencyKey());
              }}
            />
          </>
        )}
        <label htmlFor="invoice-reason">Reason (required)</label>
        <textarea id="invoice-reason" aria-required="true" rows={2} value={reason} onChange={(e) => setReason(e.target.value)} {...(dialog.kind === 'mark-paid' ? { 'data-autofocus': true } : {})} />
        {dialog.kind === 'mark-paid' && (
          <label className="inline">
            <input type="checkbox" checked={restore} onChange={(e) => setRestore(e.target.checked)} /> Restore the tier dunning took
          </label>
        )}
        {error && (
          <div className="note note-error" role="alert">
            {error}
          </div>
        )}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {dialog.kind === 'refund' ? 'Refund' : 'Mark paid'}
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Modal>
  );
}
