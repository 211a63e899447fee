// The partner portal's browser walks (make test, through infra/local/portal_e2e.sh): Debian's Chromium
// against the local stack, page and API on one origin, Stripe.js from the local stack (the project's
// fake, served by the localstripe compatibility layer), sign-in links read from moto's SES. Each walk
// fails when the page shows an error it did not expect or the browser logs one; pages are checked with
// axe-core and each step photographed at 1280x800 and 390x844 into SCREENSHOTS_DIR (portal-*.png).
// The walks run in order on one demo partner, keystone-payroll (free): sign in, upgrade to Power Gold
// (a declined card first), change the card, cancel and withdraw, export and erase; then isolation.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { DESKTOP, ORIGIN, PHONE, apiCall, axeViolations, launch, openPage, waitFor } from './lib.mjs';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SHOTS = `${resolve(ROOT, process.env.SCREENSHOTS_DIR ?? '.local/screenshots')}/`;
mkdirSync(SHOTS, { recursive: true });
const MOTO = process.env.AWS_ENDPOINT_URL ?? '';
if (!MOTO) throw new Error('AWS_ENDPOINT_URL (moto) is set by stack.py run');

const PARTNER = 'keystone-payroll';
const EMAIL = 'support@keystonepay.example';
const TOKEN_KEY = 'power100.partner-token';
const timings = {};

let browser;
let partnerToken = null; // the token of the first sign-in, reused by the later walks (one sign-in)
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
  console.log(`walk durations (s): ${JSON.stringify(timings)}`);
});

/** Runs `body` in a fresh tab (signed in with the walk's token when `signedIn`); afterwards no
 * unexpected console error and no error shown. */
async function inPage(body, { allowErrors = [], allowAlerts = [], viewport = DESKTOP, signedIn = true } = {}) {
  const { context, page, errors } = await openPage(browser, viewport);
  if (signedIn) {
    assert.ok(partnerToken, 'the sign-in walk ran first');
    await context.addInitScript(([key, value]) => sessionStorage.setItem(key, value), [TOKEN_KEY, partnerToken]);
  }
  try {
    await body(page);
    const shown = [...(await page.evaluate(() => window.__alerts ?? [])), ...(await page.locator('[role=alert]').allInnerTexts())].filter(
      (text) => !allowAlerts.some((re) => re.test(text)),
    );
    assert.deepEqual(shown, [], `the page showed an error: ${shown.join(' | ')}`);
    const unexpected = errors.filter((e) => !allowErrors.some((re) => re.test(e)));
    assert.deepEqual(unexpected, [], `the browser logged errors: ${unexpected.join(' | ')}`);
  } finally {
    await context.close();
  }
}

async function timed(name, body) {
  const started = Date.now();
  await body();
  timings[name] = Math.round((Date.now() - started) / 100) / 10;
}

async function noSeriousA11yViolations(page, name) {
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `axe on ${name}: ${JSON.stringify(violations, null, 1)}`);
}

/** The page as it is now, at desktop and phone sizes. */
async function photograph(page, name) {
  await page.screenshot({ path: `${SHOTS}portal-${name}-desktop.png`, fullPage: false });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: `${SHOTS}portal-${name}-phone.png`, fullPage: false });
  await page.setViewportSize(DESKTOP);
}

/** Every message moto's SES took for `to`, oldest first. */
async function mailTo(to) {
  const data = await (await fetch(`${MOTO}/moto-api/data.json`)).json();
  return (data.ses?.Message ?? []).filter((m) => (m.destinations?.ToAddresses ?? []).includes(to));
}

function linkIn(message) {
  return /https?:\/\/[^"\s<>]+#code=[A-Za-z0-9_-]{43}/.exec(message?.body ?? '')?.[0] ?? null;
}

/** The portal API with the partner's token. */
async function portal(method, path, body, { redirect = 'follow' } = {}) {
  const res = await fetch(ORIGIN + path, {
    method,
    redirect,
    headers: { Authorization: `Bearer ${partnerToken}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, headers: res.headers };
}

async function fillCard(page, number) {
  const card = page.getByTestId('card-element');
  await card.getByLabel('Card number').fill(number);
  await card.getByLabel('Expiration date (MM / YY)').fill('12 / 34');
  await card.getByLabel('Security code (CVC)').fill('123');
}

async function fillBillingAddress(page) {
  await page.getByLabel('Name on card').fill('Kim Keystone');
  await page.getByLabel('Address', { exact: true }).fill('100 Market Street');
  await page.getByLabel('City', { exact: true }).fill('Philadelphia');
  await page.getByLabel('Postal code').fill('19106');
}

test('sign-in walk: a link by email, read from moto\'s SES, signs in; a used link and an unknown address', async () => {
  await timed('sign-in', () =>
    inPage(
      async (page) => {
        const before = (await mailTo(EMAIL)).length;
        // An unknown address: the same answer, no mail.
        await page.goto(`${ORIGIN}/partner/billing`);
        await page.getByRole('heading', { name: 'Power100 partner portal' }).waitFor();
        await noSeriousA11yViolations(page, 'sign-in');
        await photograph(page, 'sign-in');
        await page.getByLabel('Email').fill('nobody@keystonepay.example');
        await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
        const unknownNote = await page.getByRole('status').filter({ hasText: 'a sign-in link is on its way' }).innerText();
        assert.equal((await mailTo('nobody@keystonepay.example')).length, 0, 'no mail to an unknown address');
        // The partner's contact address: the same note, and a mail with the link.
        await page.getByLabel('Email').fill(EMAIL);
        await page.getByRole('button', { name: 'Send another link' }).click();
        await page.getByRole('status').filter({ hasText: EMAIL }).waitFor();
        assert.equal(unknownNote.replace('nobody@keystonepay.example', EMAIL), await page.getByRole('status').filter({ hasText: EMAIL }).innerText());
        const message = await waitFor(async () => {
          const all = await mailTo(EMAIL);
          return all.length > before ? all[all.length - 1] : null;
        }, 'the sign-in mail');
        assert.equal(message.subject, 'Your Power100 partner portal sign-in link');
        const link = linkIn(message);
        assert.ok(link?.startsWith(`${ORIGIN}/partner/billing#code=`), `the link lands on the page: ${link}`);
        await photograph(page, 'sign-in-sent');
        // The link signs in; the code leaves the address bar; the token stays in this tab only.
        await page.goto(link);
        await page.getByRole('heading', { name: /Keystone Payroll/ }).waitFor();
        assert.equal(new URL(page.url()).hash, '', 'the code is removed from the address bar');
        partnerToken = await page.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY);
        assert.ok(partnerToken, 'a token in sessionStorage');
        assert.equal(await page.evaluate(() => localStorage.length), 0);
        assert.equal(await page.evaluate(() => document.cookie), '');
        // The same link again, in a new tab: used already.
        const { context: other, page: second } = await openPage(browser);
        await second.goto(link);
        await second.getByText('That sign-in link was used already or has expired').waitFor();
        await other.close();
      },
      { signedIn: false, allowErrors: [/status of 401/] },
    ),
  );
});

test('my subscription: tier badge, benefits, PCR now and on each tier, payment and card', async () => {
  await timed('subscription', () =>
    inPage(async (page) => {
      await page.goto(`${ORIGIN}/partner/`);
      await page.getByRole('heading', { name: /Keystone Payroll/ }).waitFor();
      const me = (await portal('GET', '/portal/me')).json;
      const tiers = (await portal('GET', '/portal/tiers')).json.tiers;
      assert.equal(me.partner_id, PARTNER);
      assert.equal(await page.getByTestId('tier').innerText(), me.tier_label);
      assert.equal(await page.getByTestId('pcr-now').innerText(), String(me.pcr.score));
      for (const t of tiers) assert.match(await page.getByTestId(`tier-row-${t.tier}`).innerText(), new RegExp(String(t.your_pcr)));
      assert.match(await page.getByTestId('benefits').innerText(), new RegExp(me.benefits[0]));
      await noSeriousA11yViolations(page, 'subscription');
      await photograph(page, 'subscription');
    }),
  );
});

test('upgrade walk: Power Gold, a declined card first (tier unchanged), then 4242 with a billing address -> processing -> Gold; the invoice and its PDF', async () => {
  await timed('upgrade', () =>
    inPage(
      async (page) => {
        await page.goto(`${ORIGIN}/partner/`);
        await page.getByRole('link', { name: 'Upgrade to Power Gold' }).click();
        await page.getByRole('heading', { name: 'Upgrade', exact: true }).waitFor();
        assert.equal(await page.getByRole('radio', { name: /Power Gold/ }).isChecked(), true, 'the tier from the link is chosen');
        await noSeriousA11yViolations(page, 'upgrade: choose');
        await photograph(page, 'upgrade-1-choose');
        await page.getByRole('button', { name: 'Continue' }).click();
        const summary = page.getByTestId('order-summary');
        await summary.waitFor();
        const text = await summary.innerText();
        assert.match(text, /\$3,600\.00 \/ month/);
        assert.match(text, /12 months \(\$43,200\.00 in all\)/);
        assert.match(text, /59 → 63 \(\+4 points\)/);
        await photograph(page, 'upgrade-2-review');
        await page.getByLabel(/I agree to the 12-month commitment/).check();
        await page.getByRole('button', { name: 'Continue to payment' }).click();
        const pay = page.getByRole('button', { name: 'Pay $3,600.00' });
        await pay.waitFor();
        await waitFor(() => pay.isEnabled(), 'Stripe Elements ready');
        await noSeriousA11yViolations(page, 'upgrade: pay');
        // A declined card: the message, nothing granted, the form ready for another card.
        await fillCard(page, '4000 0000 0000 0002');
        await fillBillingAddress(page);
        await photograph(page, 'upgrade-3-pay');
        await pay.click();
        const declined = page.getByRole('alert').filter({ hasText: 'Your card was declined' });
        await declined.waitFor();
        assert.match(await declined.innerText(), /Nothing was charged\. Try another card\./);
        await photograph(page, 'upgrade-3-declined');
        assert.equal((await portal('GET', '/portal/me')).json.tier, 'free', 'a declined card grants nothing');
        // Another card: paid, processing until the paid invoice's webhook grants the tier.
        await fillCard(page, '4242 4242 4242 4242');
        await pay.click();
        await page.getByRole('heading', { name: 'Processing your payment' }).or(page.getByRole('heading', { name: 'Welcome to Power Gold!' })).first().waitFor();
        await photograph(page, 'upgrade-4-processing');
        await page.getByRole('heading', { name: 'Welcome to Power Gold!' }).waitFor({ timeout: 30000 });
        const me = (await portal('GET', '/portal/me')).json;
        assert.equal(me.tier, 'gold');
        const done = await page.getByTestId('upgrade-done').innerText();
        assert.match(done, /Your PCR has been upgraded: 59 → 63/);
        assert.match(done, new RegExp(`renews on ${me.subscription.renews_on}`));
        await photograph(page, 'upgrade-4-done');
        // One payment only: one invoice, paid, listed with its amounts; the PDF route answers Stripe's document.
        const invoices = (await portal('GET', '/portal/invoices')).json.invoices;
        assert.equal(invoices.length, 1, 'one invoice: the declined attempt made no second payment');
        const [invoice] = invoices;
        assert.equal(invoice.status, 'paid');
        assert.equal(invoice.amount_paid_cents, 360000);
        await page.getByRole('link', { name: 'See your invoice' }).click();
        const row = page.getByTestId(`invoice-${invoice.invoice_id}`);
        await row.waitFor();
        assert.match(await row.innerText(), /Paid\s+\$3,600\.00\s+\$3,600\.00/);
        const pdf = row.getByRole('link', { name: /PDF of invoice/ });
        assert.equal(await pdf.getAttribute('href'), invoice.invoice_pdf_url);
        const redirect = await portal('GET', `/portal/invoices/${invoice.invoice_id}/pdf`, null, { redirect: 'manual' });
        assert.equal(redirect.status, 302);
        assert.equal(redirect.headers.get('location'), invoice.invoice_pdf_url);
        assert.match(invoice.invoice_pdf_url, /^https:\/\/[a-z.]*stripe\.com\//);
        await noSeriousA11yViolations(page, 'invoices');
        await photograph(page, 'invoices');
      },
      { allowAlerts: [/Your card was declined/], allowErrors: [/status of 402/] },
    ),
  );
});

test('card change walk: a new card through the SetupIntent shows as the card on file', async () => {
  await timed('card-change', () =>
    inPage(async (page) => {
      await page.goto(`${ORIGIN}/partner/card`);
      await page.getByRole('heading', { name: 'Payment method' }).waitFor();
      await page.getByTestId('card-on-file').filter({ hasText: '4242' }).waitFor();
      await page.getByRole('button', { name: 'Change card' }).click();
      const save = page.getByRole('button', { name: 'Save card' });
      await save.waitFor();
      await waitFor(() => save.isEnabled(), 'Stripe Elements ready');
      await fillCard(page, '5555 5555 5555 4444');
      await fillBillingAddress(page);
      await photograph(page, 'card-change');
      await save.click();
      await page.getByText('Your new card is saved').waitFor({ timeout: 40000 });
      await page.getByTestId('card-on-file').filter({ hasText: '4444' }).waitFor();
      assert.match(await page.getByTestId('card-on-file').innerText(), /mastercard •••• 4444/);
      await noSeriousA11yViolations(page, 'card');
      await photograph(page, 'card-saved');
    }),
  );
});

test('cancel and withdraw walk: the rule in words, a confirmation, then withdraw', async () => {
  await timed('cancel-withdraw', () =>
    inPage(async (page) => {
      const me = (await portal('GET', '/portal/me')).json;
      await page.goto(`${ORIGIN}/partner/cancel`);
      const rule = await page.getByTestId('cancel-rule').innerText();
      assert.match(rule, new RegExp(`you keep Power Gold until ${me.subscription.end_date}`));
      assert.match(rule, /not refunded/);
      await noSeriousA11yViolations(page, 'cancel');
      await page.getByLabel('Why do you cancel?').fill('budget moves to field marketing');
      await page.getByLabel(/I understand/).check();
      await photograph(page, 'cancel');
      await page.getByRole('button', { name: 'Cancel at the end of the term' }).click();
      await page.getByTestId('cancelled').waitFor();
      assert.match(await page.getByRole('status').first().innerText(), /cancelled at the end of its 12-month commitment/);
      const cancelled = (await portal('GET', '/portal/me')).json;
      assert.equal(cancelled.subscription.status, 'cancelled');
      assert.equal(cancelled.subscription.access_until, me.subscription.end_date);
      await photograph(page, 'cancelled');
      await page.getByRole('button', { name: 'Withdraw cancellation' }).click();
      await page.getByText('Your cancellation is withdrawn').waitFor();
      assert.equal((await portal('GET', '/portal/me')).json.subscription.status, 'active');
    }),
  );
});

test('my data walk: the export downloads as JSON; erasure answers what is kept and why', async () => {
  await timed('data', () =>
    inPage(async (page) => {
      await page.goto(`${ORIGIN}/partner/data`);
      await page.getByRole('heading', { name: 'My data' }).waitFor();
      await noSeriousA11yViolations(page, 'data');
      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: 'Download my data' }).click();
      const file = await download;
      assert.equal(file.suggestedFilename(), `power100-data-${PARTNER}.json`);
      const exported = JSON.parse(readFileSync(await file.path(), 'utf8'));
      assert.equal(exported.partner_id, PARTNER);
      assert.ok(exported.records.invoices.length >= 1);
      await page.getByText(`Downloaded power100-data-${PARTNER}.json`).waitFor();
      await page.getByLabel(/I want my personal data erased/).check();
      await page.getByRole('button', { name: 'Erase my personal data' }).click();
      const erasure = page.getByTestId('erasure');
      await erasure.waitFor();
      assert.match(await erasure.innerText(), /invoices: number, amounts billed/);
      assert.match(await erasure.innerText(), /tax and accounting law/);
      const elsewhere = await page.getByTestId('held-elsewhere').innerText();
      assert.match(elsewhere, /Stripe's customer record/);
      assert.match(elsewhere, /35 days/);
      await photograph(page, 'data');
    }),
  );
});

test('isolation: another partner\'s invoice never shows, even with its id in the address', async () => {
  await timed('isolation', async () => {
    // Partner B (NorthStar Marketing) gets a paid invoice through the admin's billing start.
    assert.ok((await apiCall('POST', '/admin/partners/northstar-marketing/billing', { tier: 'gold' })).status < 300);
    const other = await waitFor(async () => {
      const list = (await apiCall('GET', '/admin/invoices')).json?.invoices ?? [];
      return list.find((i) => i.partner_id === 'northstar-marketing') ?? null;
    }, "NorthStar's invoice");
    await inPage(async (page) => {
      await page.goto(`${ORIGIN}/partner/invoices/${other.invoice_id}`);
      await page.getByTestId('no-invoice').waitFor();
      assert.equal(await page.getByText(/NorthStar/i).count(), 0);
      assert.equal(await page.getByText('$3,600.00').count(), 0, 'none of its amounts');
      await page.goto(`${ORIGIN}/partner/invoices`);
      await page.getByRole('heading', { name: 'Invoices' }).waitFor();
      assert.equal(await page.getByTestId(`invoice-${other.invoice_id}`).count(), 0);
      const pdf = await portal('GET', `/portal/invoices/${other.invoice_id}/pdf`, null, { redirect: 'manual' });
      assert.equal(pdf.status, 404, "another partner's invoice answers as an unknown one");
      const named = await portal('GET', '/portal/me?partner_id=northstar-marketing');
      assert.equal(named.status, 403);
    });
  });
});

test('sign-out: the token is refused afterwards and the page asks to sign in', async () => {
  await inPage(
    async (page) => {
      await page.goto(`${ORIGIN}/partner/`);
      await page.getByRole('heading', { name: /Keystone Payroll/ }).waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Power100 partner portal' }).waitFor();
      await page.getByText('You signed out.').waitFor();
      assert.equal(await page.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY), null);
      assert.equal((await portal('GET', '/portal/me')).status, 401);
    },
    { allowErrors: [/status of 401/] },
  );
});
