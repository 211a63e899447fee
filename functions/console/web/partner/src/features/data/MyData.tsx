import { useState } from 'react';
import { api, downloadExport, must, problemText, type Erasure } from '../../api/client';
import { ErrorNote, StatusNote } from '../../../../src/components/ui';

/** GDPR: everything held as one JSON file, and erasure of personal data from the payment history. */
export function MyData() {
  const [saved, setSaved] = useState<string | null>(null);
  const [erasure, setErasure] = useState<Erasure | null>(null);
  const [confirmed, setConfirmed] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  return (
    <section aria-labelledby="data-title">
      <h1 id="data-title">My data</h1>
      <div className="grid">
        <div className="card">
          <h2>Download</h2>
          <p>Everything Power100 holds about your company's subscription: profile, history, changes, invoices and emails, as one JSON file.</p>
          <button
            type="button"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              setFailure(null);
              try {
                setSaved(await downloadExport());
              } catch (err) {
                setFailure(problemText(err));
              } finally {
                setBusy(false);
              }
            }}
          >
            Download my data
          </button>
          {saved && <StatusNote>Downloaded {saved}.</StatusNote>}
        </div>
        <div className="card">
          <h2>Erase</h2>
          <p>
            Erase personal data from your payment history: notes and reasons, the payment method text, email recipients and subjects, and the copies
            of your data in our event records and card copy. Invoices are kept as tax law requires; the answer lists what is kept and why, and what
            is held elsewhere and for how long.
          </p>
          <label className="inline">
            <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} /> I want my personal data erased from the
            payment history.
          </label>
          <button
            type="button"
            className="danger"
            disabled={busy || !confirmed}
            onClick={async () => {
              setBusy(true);
              setFailure(null);
              try {
                setErasure(must(await api.DELETE('/portal/payment-history', { body: { confirm: true } })));
                setConfirmed(false);
              } catch (err) {
                setFailure(problemText(err));
              } finally {
                setBusy(false);
              }
            }}
          >
            Erase my personal data
          </button>
        </div>
      </div>
      <ErrorNote>{failure}</ErrorNote>
      {erasure && (
        <div className="card" data-testid="erasure">
          <StatusNote>
            Erased on {erasure.erased_at.slice(0, 10)}: {erasure.erased_fields}.
          </StatusNote>
          <h2>What is kept, and why</h2>
          <ul className="kept">
            {erasure.kept.map((k) => (
              <li key={k.what}>
                <strong>{k.what}</strong>: {k.why}
              </li>
            ))}
          </ul>
          <h2>Held elsewhere, and for how long</h2>
          <ul className="kept" data-testid="held-elsewhere">
            {erasure.held_elsewhere.map((k) => (
              <li key={k.what}>
                <strong>{k.what}</strong>: {k.why}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
