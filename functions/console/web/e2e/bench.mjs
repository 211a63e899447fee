// `make bench`'s console figures (through infra/local/console_e2e.sh bench, on a stack of its own):
// the JavaScript the console loads, gzipped; the time to a usable partner list in Chromium; and the
// tier-change walk of the spec (find the partner, pick Power Gold, Save, give a reason, Confirm) with
// its clicks and keystrokes and the time from opening the partner page to the confirmed save.
// Prints one JSON line (the figures) that infra/bench/bench.py reads.
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { ORIGIN, TOKEN, launch, openPage, signIn } from './lib.mjs';

const ASSETS = fileURLToPath(new URL('../dist/assets/', import.meta.url));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

function gzippedBytes(ext) {
  return readdirSync(ASSETS)
    .filter((f) => f.endsWith(ext))
    .reduce((sum, f) => sum + gzipSync(readFileSync(ASSETS + f), { level: 9 }).length, 0);
}

const browser = await launch();
try {
  // Time to a usable partner list: a fresh tab (empty cache) from the sign-in link to the first
  // row on screen.
  const listMs = [];
  for (let i = 0; i < 5; i++) {
    const { context, page } = await openPage(browser);
    const started = performance.now();
    await page.goto(`${ORIGIN}/console/#token=${TOKEN}`);
    await page.locator('tr[data-partner]').first().waitFor();
    listMs.push(performance.now() - started);
    await context.close();
  }

  // The walk, on each free demo partner in turn (a tier change is made once per partner).
  const walks = [];
  const reason = 'signed Power Gold';
  for (const [name, id] of [
    ['Summit Roofing', 'summit-roofing'],
    ['NorthStar', 'northstar-marketing'],
    ['Maple', 'maple-recruiting'],
    ['Keystone', 'keystone-payroll'],
  ]) {
    const { context, page, errors } = await openPage(browser);
    await signIn(page);
    let clicks = 0;
    let keys = 0;
    await page.getByRole('searchbox', { name: 'Search by name' }).fill(name);
    keys += name.length;
    const started = performance.now();
    await page.locator(`tr[data-partner="${id}"] th a`).click();
    clicks++;
    await page.getByRole('radio', { name: /Power Gold/ }).check();
    clicks++;
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    clicks++;
    await page.getByLabel(/Reason/).fill(reason);
    keys += reason.length;
    await page.getByRole('button', { name: 'Confirm' }).click();
    clicks++;
    await page.locator('h1 .badge-gold').waitFor();
    walks.push({ ms: performance.now() - started, clicks, keys, errors: errors.length });
    await context.close();
  }

  console.log(
    JSON.stringify({
      js_gzip_bytes: gzippedBytes('.js'),
      css_gzip_bytes: gzippedBytes('.css'),
      list_ms: median(listMs),
      list_runs: listMs.length,
      walk_ms: median(walks.map((w) => w.ms)),
      walk_max_ms: Math.max(...walks.map((w) => w.ms)),
      walk_runs: walks.length,
      walk_clicks: walks[0].clicks,
      walk_keystrokes: walks[0].keys,
      walk_errors: walks.reduce((n, w) => n + w.errors, 0),
    }),
  );
} finally {
  await browser.close();
}
