import { useMemo, useState } from 'react';
import { CardElement, Elements, useElements, useStripe } from '@stripe/react-stripe-js';
import type { StripeCardElementChangeEvent } from '@stripe/stripe-js';
import { stripeFor } from '../../lib/stripe';
import { declineText } from './flow';
import { ErrorNote } from '../../../../src/components/ui';

export type CardFormProps = {
  publishableKey: string;
  clientSecret: string;
  /** A payment (the upgrade's first invoice) or a setup (a new card for later payments). */
  mode: 'payment' | 'setup';
  submitLabel: string;
  onConfirmed: () => void;
};

type Address = { name: string; line1: string; city: string; postal_code: string; country: string };

function Fields({ publishableKey: _key, clientSecret, mode, submitLabel, onConfirmed }: CardFormProps) {
  const stripe = useStripe();
  const elements = useElements();
  const [address, setAddress] = useState<Address>({ name: '', line1: '', city: '', postal_code: '', country: 'US' });
  const [cardState, setCardState] = useState<{ complete: boolean; error: string | null }>({ complete: false, error: null });
  const [ready, setReady] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const set = (field: keyof Address) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setAddress({ ...address, [field]: e.target.value });
  return (
    <form
      className="pay"
      aria-label={mode === 'payment' ? 'Payment' : 'New card'}
      onSubmit={async (e) => {
        e.preventDefault();
        if (busy || !stripe || !elements) return;
        const card = elements.getElement(CardElement);
        if (!card) return;
        if (!address.name.trim()) {
          setError('Enter the name on the card.');
          return;
        }
        setBusy(true);
        setError(null);
        const billing_details = {
          name: address.name.trim(),
          address: { line1: address.line1.trim() || null, city: address.city.trim() || null, postal_code: address.postal_code.trim() || null, country: address.country },
        };
        const result =
          mode === 'payment'
            ? await stripe.confirmCardPayment(clientSecret, { payment_method: { card, billing_details } })
            : await stripe.confirmCardSetup(clientSecret, { payment_method: { card, billing_details } });
        if (result.error) {
          setError(declineText(result.error));
          setBusy(false);
          return;
        }
        onConfirmed();
      }}
    >
      <fieldset>
        <legend>Card</legend>
        <div className="card-element" data-testid="card-element">
          <CardElement
            options={{ hidePostalCode: true, disabled: busy }}
            onReady={() => setReady(true)}
            onChange={(e: StripeCardElementChangeEvent) => setCardState({ complete: e.complete, error: e.error?.message ?? null })}
          />
        </div>
        {cardState.error && <p className="field-error">{cardState.error}</p>}
      </fieldset>
      <fieldset>
        <legend>Billing address</legend>
        <div className="address">
          <label>
            Name on card
            <input autoComplete="cc-name" value={address.name} onChange={set('name')} required />
          </label>
          <label>
            Address
            <input autoComplete="address-line1" value={address.line1} onChange={set('line1')} />
          </label>
          <label>
            City
            <input autoComplete="address-level2" value={address.city} onChange={set('city')} />
          </label>
          <label>
            Postal code
            <input autoComplete="postal-code" value={address.postal_code} onChange={set('postal_code')} />
          </label>
          <label>
            Country
            <select autoComplete="country" value={address.country} onChange={set('country')}>
              <option value="US">United States</option>
              <option value="CA">Canada</option>
              <option value="GB">United Kingdom</option>
            </select>
          </label>
        </div>
      </fieldset>
      <ErrorNote>{error}</ErrorNote>
      <button type="submit" className="primary" disabled={busy || !ready || !stripe}>
        {busy ? 'Confirming…' : submitLabel}
      </button>
    </form>
  );
}

/** Card and billing address in Stripe Elements, confirmed with the client secret the API handed out. */
export function CardForm(props: CardFormProps) {
  const stripe = useMemo(() => stripeFor(props.publishableKey), [props.publishableKey]);
  return (
    <Elements stripe={stripe} options={{ locale: 'en' }}>
      <Fields {...props} />
    </Elements>
  );
}
