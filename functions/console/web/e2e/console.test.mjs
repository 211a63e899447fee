// The console's browser tests (make test, through infra/local/console_e2e.sh): Debian's Chromium
// against the local stack, pages and API on one origin. Each test fails when the page shows an error
// it did not expect or the browser logs one; each page is checked with axe-core and photographed at
// 1280x800 and 390x844 into SCREENSHOTS_DIR (.local/screenshots/ in make test, so that a test run
// leaves the work tree clean; `make screenshots` writes the committed ones in docs/screenshots/).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { DESKTOP, ORIGIN, PHONE, TOKEN, apiCall, axeViolations, dollars, launch, openPage, signIn, waitFor } from './lib.mjs';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SHOTS = `${resolve(ROOT, process.env.SCREENSHOTS_DIR ?? '.local/screenshots')}/`;
mkdirSync(SHOTS, { recursive: true });

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Runs `body` in a fresh tab; afterwards no unexpected console error and no error shown. */
async function inPage(body, { allowErrors = [], allowAlerts = [], viewport = DESKTOP } = {}) {
  const { context, page, errors } = await openPage(browser, viewport);
  try {
    await body(page);
    // Any error shown at any time during the test (recorded by openPage), and any shown now.
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

async function noSeriousA11yViolations(page, name) {
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `axe on ${name}: ${JSON.stringify(violations, null, 1)}`);
}

/** Both sizes of `path`, after `ready` says the page is drawn. */
async function photograph(name, path, ready) {
  for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    await inPage(
      async (page) => {
        await signIn(page);
        if (path !== '/') await page.goto(`${ORIGIN}/console${path}`);
        await ready(page);
        await page.screenshot({ path: `${SHOTS}${name}-${size}.png` });
      },
      { viewport },
    );
  }
}

test('sign-in: the link signs in, the fragment leaves the address bar, the token stays in this tab only', async () => {
  await inPage(async (page) => {
    await page.goto(`${ORIGIN}/console/`);
    await page.getByRole('heading', { name: 'Power100 admin console' }).waitFor();
    await noSeriousA11yViolations(page, 'sign-in');
    await page.screenshot({ path: `${SHOTS}sign-in-desktop.png` });
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: `${SHOTS}sign-in-phone.png` });
    await page.setViewportSize(DESKTOP);
    await signIn(page);
    assert.equal(new URL(page.url()).hash, '', 'the fragment is removed');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('power100.admin-token')), TOKEN);
    assert.equal(await page.evaluate(() => localStorage.length), 0);
    assert.equal(await page.evaluate(() => document.cookie), '');
    // A refused token signs out.
    await page.evaluate(() => sessionStorage.setItem('power100.admin-token', 'not-a-token'));
    await page.getByRole('link', { name: 'Subscriptions' }).click();
    await page.getByRole('heading', { name: 'Power100 admin console' }).waitFor();
    await page.getByText('sign in again').waitFor();
  }, { allowErrors: [/status of 401/] });
});

test('a tier change: find Summit Roofing, free -> gold, "+4 points" in the confirmation, gold badge, history with the reason', async () => {
  const preview = await apiCall('GET', '/admin/partners/summit-roofing/tier-preview?tier=gold');
  assert.equal(preview.status, 200);
  assert.equal(preview.json.pcr_delta_text, '+4 points', 'the seed partner gains 4 points (PCR 58 -> 62)');
  await inPage(async (page) => {
    await signIn(page);
    await noSeriousA11yViolations(page, 'partners');
    await page.getByRole('searchbox', { name: 'Search by name' }).fill('Summit Roofing');
    await page.getByRole('link', { name: 'Summit Roofing Supply' }).click();
    await page.getByRole('heading', { name: /Summit Roofing Supply/ }).waitFor();
    await page.getByRole('radio', { name: /Power Gold/ }).check();
    const start = await page.getByLabel('Start').inputValue();
    const end = await page.getByLabel('End').inputValue();
    assert.equal(Number(end.slice(0, 4)), Number(start.slice(0, 4)) + 1, 'the end defaults to 12 months after the start');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirm tier change' });
    await dialog.waitFor();
    await noSeriousA11yViolations(page, 'tier change modal');
    assert.match(await dialog.getByTestId('pcr-impact').innerText(), /58 → 62 \(\+4 points\)/);
    assert.match(await dialog.innerText(), /\$3,600\.00 \/ month/);
    assert.match(await dialog.innerText(), new RegExp(`${start} to ${end}`));
    // The focus trap: Tab from the last control comes back to the first, Escape cancels.
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'change-reason');
    for (let i = 0; i < 6; i++) await page.keyboard.press('Tab');
    assert.ok(await page.evaluate(() => !!document.activeElement?.closest('[role=dialog]')), 'focus stays in the modal');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Save', 'focus returns to Save');
    // The reason is required; then the change, keyboard only.
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await dialog.getByText('Say why the tier changes.').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'change-reason', 'focus goes to the missing reason');
    await page.keyboard.type('signed Power Gold at the summit call');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    await page.locator('h1 .badge-gold').waitFor();
    await page.getByRole('status').getByText('Saved: Power Gold.').waitFor();
    const history = page.getByTestId('history');
    await history.getByText('signed Power Gold at the summit call').waitFor();
    assert.match(await history.locator('li').first().innerText(), /upgrade free → gold \(PCR 58 → 62\)/);
    await page.screenshot({ path: `${SHOTS}partner-after-change-desktop.png` });
  });
  const partner = await apiCall('GET', '/admin/partners/summit-roofing');
  assert.equal(partner.json.engagement_tier, 'gold');
});

test('a 409 when someone else changed the partner meanwhile, with a reload', async () => {
  await inPage(
    async (page) => {
      await signIn(page);
      await page.goto(`${ORIGIN}/console/partners/maple-recruiting`);
      await page.getByRole('radio', { name: /Power Platinum/ }).check();
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Confirm tier change' });
      await dialog.waitFor();
      // Another admin saves first.
      const other = await apiCall('PATCH', '/api/partners/maple-recruiting/engagement-tier', { engagement_tier: 'gold', reason: 'the other admin' });
      assert.equal(other.status, 200);
      await dialog.getByLabel(/Reason/).fill('platinum deal');
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await dialog.getByText('Someone else changed this partner since you opened it').waitFor();
      await page.screenshot({ path: `${SHOTS}partner-conflict-desktop.png` });
      await dialog.getByRole('button', { name: 'Reload partner' }).click();
      await dialog.waitFor({ state: 'detached' });
      await page.locator('h1 .badge-gold').waitFor();
      await page.getByTestId('history').getByText('the other admin').waitFor();
    },
    { allowErrors: [/status of 409/], allowAlerts: [/Someone else changed this partner/] },
  );
});

test('the dashboard: tab counts equal the API\'s, a reminder, a bulk renewal of two rows', async () => {
  const api = await apiCall('GET', '/admin/subscriptions?tab=active&limit=100');
  assert.equal(api.status, 200);
  await inPage(async (page) => {
    await signIn(page);
    await page.getByRole('link', { name: 'Subscriptions' }).click();
    await page.locator('[data-partner]').first().waitFor();
    for (const tab of ['active', 'expiring', 'expired', 'cancelled', 'history']) {
      assert.equal(await page.locator(`[data-count=${tab}]`).innerText(), String(api.json.counts[tab]), `${tab} count`);
    }
    await noSeriousA11yViolations(page, 'subscriptions');
    const rows = page.locator('tbody tr[data-partner]');
    const first = await rows.nth(0).getAttribute('data-partner');
    const second = await rows.nth(1).getAttribute('data-partner');
    await rows.nth(0).getByRole('button', { name: /Send reminder/ }).click();
    await page.getByRole('status').getByText(/Reminder sent to/).waitFor();
    const endsBefore = (await apiCall('GET', `/admin/partners/${first}`)).json.subscription_end_date;
    await rows.nth(0).getByRole('checkbox').check();
    await rows.nth(1).getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Renew selected (2)' }).click();
    const results = page.getByTestId('renew-results');
    await results.waitFor();
    assert.equal(await results.locator('li[data-status=renewed]').count(), 2, await results.innerText());
    assert.match(await results.innerText(), new RegExp(`${first}: renewed`));
    assert.match(await results.innerText(), new RegExp(`${second}: renewed`));
    const endsAfter = (await apiCall('GET', `/admin/partners/${first}`)).json.subscription_end_date;
    assert.ok(endsAfter > endsBefore, `${first}'s term moved on (${endsBefore} -> ${endsAfter})`);
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    assert.match(csv.suggestedFilename(), /^subscriptions-active.*\.csv$/);
    const text = readFileSync(await csv.path(), 'utf8');
    assert.match(text.split('\n')[0], /^partner_id,company_name,tier/);
    assert.equal(text.trim().split('\n').length - 1, api.json.counts.active, 'one line per active subscription');
    await page.getByRole('tab', { name: /Expiring soon/ }).click();
    await page.getByRole('tab', { name: /History/ }).click();
    await page.getByRole('cell', { name: 'renewal' }).first().waitFor();
  });
});

test('invoices: mark one paid, refund part of another, "left to refund" drops', async () => {
  // A card-billed partner whose first invoice localstripe pays, and one billed by emailed invoice.
  assert.equal((await apiCall('POST', '/admin/partners/keystone-payroll/billing', { tier: 'gold' })).status < 300, true);
  assert.equal((await apiCall('POST', '/admin/partners/northstar-marketing/billing', { tier: 'gold', collection: 'send_invoice' })).status < 300, true);
  const invoices = await waitFor(async () => {
    const list = (await apiCall('GET', '/admin/invoices')).json.invoices;
    const paid = list.find((i) => i.partner_id === 'keystone-payroll' && i.status === 'paid');
    const open = list.find((i) => i.partner_id === 'northstar-marketing' && i.status === 'pending');
    return paid && open ? { paid, open } : null;
  }, 'localstripe\'s invoices');
  await inPage(async (page) => {
    await signIn(page);
    await page.getByRole('link', { name: 'Invoices' }).click();
    const paidRow = page.locator(`tr[data-invoice="${invoices.paid.invoice_id}"]`);
    const openRow = page.locator(`tr[data-invoice="${invoices.open.invoice_id}"]`);
    await paidRow.waitFor();
    await noSeriousA11yViolations(page, 'invoices');
    await openRow.getByRole('button', { name: 'Mark paid' }).click();
    const markDialog = page.getByRole('dialog');
    await markDialog.getByLabel(/Reason/).fill('paid by bank transfer, ref 8812');
    await markDialog.getByRole('button', { name: 'Mark paid' }).click();
    await page.getByRole('status').getByText(/marked paid/).waitFor();
    await openRow.getByText('paid', { exact: true }).waitFor();
    assert.equal(await paidRow.getByTestId('left').innerText(), dollars(invoices.paid.amount_paid_cents));
    await paidRow.getByRole('button', { name: 'Refund' }).click();
    const refund = page.getByRole('dialog');
    assert.equal(await refund.getByTestId('dialog-left').innerText(), '$3,600.00');
    await refund.getByLabel(/Amount in dollars/).fill('1,200');
    await refund.getByLabel(/Reason/).fill('November outage credit');
    await refund.getByRole('button', { name: 'Refund' }).click();
    await page.getByRole('status').getByText('Refunded $1,200.00; $2,400.00 left to refund.').waitFor();
    await waitFor(async () => (await paidRow.getByTestId('left').innerText()) === '$2,400.00', 'left to refund to drop');
    assert.match(await paidRow.innerText(), /partially refunded/);
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const lines = readFileSync(await csv.path(), 'utf8').trim().split('\n');
    assert.equal(lines.length, 3, 'a header and the two invoices');
    assert.ok(lines.slice(1).some((l) => l.includes(invoices.paid.invoice_id)));
  });
});

/** Presses Tab until `check` holds for the focused element (at most `limit` times). */
async function tabUntil(page, check, what, limit = 60) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(check)) return;
  }
  throw new Error(`Tab never reached ${what}`);
}

test('the tier change by keyboard alone: search, open, pick Platinum, Save, reason, Confirm', async () => {
  await inPage(async (page) => {
    await signIn(page);
    await tabUntil(page, () => document.activeElement?.getAttribute('type') === 'search', 'the search box');
    await page.keyboard.type('Vertex');
    await tabUntil(page, () => document.activeElement?.textContent === 'Vertex Lending', 'the partner link');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /Vertex Lending/ }).waitFor();
    await tabUntil(page, () => document.activeElement?.getAttribute('name') === 'tier', 'the tier choice');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('value')), 'platinum');
    await tabUntil(page, () => document.activeElement?.textContent === 'Save', 'Save');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    await page.keyboard.type('moved to Power Platinum by keyboard');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.locator('h1 .badge-platinum').waitFor();
    await page.getByTestId('history').getByText('moved to Power Platinum by keyboard').waitFor();
  });
});

test('a partner\'s actions: reminder, pause and resume, GDPR export', async () => {
  await inPage(async (page) => {
    await signIn(page);
    await page.goto(`${ORIGIN}/console/partners/apex-hvac`);
    await page.getByRole('button', { name: 'Send reminder now' }).click();
    await page.getByRole('status').getByText('Reminder: done.').waitFor();
    await page.getByLabel('Pause months').fill('2');
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await page.getByRole('status').getByText('Pause: done.').waitFor();
    await page.getByTestId('history').getByText(/^pause/).first().waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('status').getByText('Resume: done.').waitFor();
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'GDPR export' }).click()]);
    const exported = JSON.parse(readFileSync(await file.path(), 'utf8'));
    assert.equal(exported.partner_id, 'apex-hvac');
    assert.ok(exported.records.history.length > 0);
    await noSeriousA11yViolations(page, 'partner');
  });
});

test('revenue: the fixture\'s MRR to the cent, rates against their targets', async () => {
  const metrics = (await apiCall('GET', '/admin/metrics')).json;
  assert.ok(metrics.mrr.total_cents > 0);
  await inPage(async (page) => {
    await signIn(page);
    await page.getByRole('link', { name: 'Revenue' }).click();
    await page.getByTestId('mrr').waitFor();
    assert.equal(await page.getByTestId('mrr').innerText(), dollars(metrics.mrr.total_cents));
    assert.equal(await page.getByTestId('arr').innerText(), dollars(metrics.arr.total_cents));
    assert.equal(await page.getByTestId('revenue').innerText(), dollars(metrics.collections.revenue_cents));
    await page.getByRole('img', { name: /Rates in the window/ }).waitFor();
    await noSeriousA11yViolations(page, 'revenue');
  });
});

test('screenshots of every page at 1280x800 and 390x844', async () => {
  await photograph('partners', '/', (page) => page.locator('tr[data-partner]').first().waitFor());
  await photograph('partner', '/partners/buildpro-crm', (page) => page.getByTestId('history').locator('li').first().waitFor());
  await photograph('partner-modal', '/partners/apex-hvac?tier=platinum', (page) => page.getByRole('dialog').getByTestId('pcr-impact').waitFor());
  await photograph('subscriptions', '/subscriptions', (page) => page.locator('tr[data-partner]').first().waitFor());
  await photograph('invoices', '/invoices', (page) => page.locator('tr[data-invoice]').first().waitFor());
  await photograph('revenue', '/revenue', (page) => page.getByTestId('mrr').waitFor());
});
