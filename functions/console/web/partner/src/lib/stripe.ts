import { loadStripe } from '@stripe/stripe-js/pure';
import type { Stripe } from '@stripe/stripe-js';

// Stripe.js for the page. In AWS it comes from Stripe (`loadStripe`, which adds Stripe's own script
// on first use: the `pure` entry point loads nothing before a payment step). In local runs and tests the
// pages function names a local Stripe.js in /partner/config.json (the project's fake, served by the
// localstripe compatibility layer): it is loaded first, and `loadStripe` then uses the `Stripe` it defines.

type PageConfig = { stripe_js: string | null };

let config: Promise<PageConfig> | null = null;
const instances = new Map<string, Promise<Stripe | null>>();

export function pageConfig(): Promise<PageConfig> {
  config ??= fetch('/partner/config.json')
    .then((res) => (res.ok ? (res.json() as Promise<PageConfig>) : { stripe_js: null }))
    .catch(() => ({ stripe_js: null }));
  return config;
}

function addScript(src: string): Promise<void> {
  if ((window as { Stripe?: unknown }).Stripe) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.async = true;
    script.addEventListener('load', () => resolve());
    script.addEventListener('error', () => reject(new Error('Stripe.js could not be loaded.')));
    document.head.appendChild(script);
  });
}

/** The Stripe object for `publishableKey` (one per key, loaded once). */
export function stripeFor(publishableKey: string): Promise<Stripe | null> {
  let instance = instances.get(publishableKey);
  if (!instance) {
    instance = pageConfig().then(async (cfg) => {
      if (cfg.stripe_js) await addScript(cfg.stripe_js);
      return loadStripe(publishableKey);
    });
    instances.set(publishableKey, instance);
  }
  return instance;
}
