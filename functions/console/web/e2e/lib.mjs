// Shared by the browser tests and the bench: Debian's Chromium driven by playwright-core (Playwright's
// own browser builds cannot be downloaded here), console errors collected, axe-core injected.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// The console's tests (console_e2e.sh) or the portal's (portal_e2e.sh, which also needs an admin token).
export const ORIGIN = process.env.CONSOLE_ORIGIN ?? process.env.PORTAL_ORIGIN ?? '';
export const TOKEN = process.env.CONSOLE_ADMIN_TOKEN ?? process.env.PORTAL_ADMIN_TOKEN ?? '';
if (!ORIGIN || !TOKEN) throw new Error('CONSOLE_ORIGIN and CONSOLE_ADMIN_TOKEN (or PORTAL_*) are set by infra/local/console_e2e.sh or portal_e2e.sh');

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export async function launch() {
  return chromium.launch({
    // Debian's chromium package (make installs it), found on the PATH; CHROMIUM names another.
    executablePath: process.env.CHROMIUM ?? execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim(),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** A fresh tab that records every console error and uncaught exception. */
export async function openPage(browser, viewport = DESKTOP) {
  const context = await browser.newContext({ viewport });
  // Every error the page shows, even one that goes away again ([role=alert] added at any time).
  await context.addInitScript(() => {
    window.__alerts = [];
    new MutationObserver(() => {
      for (const el of document.querySelectorAll('[role=alert]')) {
        const text = el.textContent ?? '';
        if (!window.__alerts.includes(text)) window.__alerts.push(text);
      }
    }).observe(document, { childList: true, subtree: true, characterData: true });
  });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
  return { context, page, errors };
}

/** Signs in as `make dev`'s link does: the token in the fragment. */
export async function signIn(page) {
  await page.goto(`${ORIGIN}/console/#token=${TOKEN}`);
  await page.getByRole('heading', { name: 'Partners', level: 1 }).waitFor();
}

/** The admin API, called directly (the tests compare the pages with it). */
export async function apiCall(method, path, body) {
  const res = await fetch(ORIGIN + path, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* CSV and the like */
  }
  return { status: res.status, json, text };
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function axeViolations(page) {
  // Runtime evaluation is not subject to the page's CSP (an injected <script> would be, rightly).
  await page.evaluate(`${AXE};0`);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Integer cents as the API formats them ("$3,600.00"), written here independently of the pages. */
export function dollars(cents) {
  const abs = Math.abs(cents);
  const whole = Math.floor(abs / 100).toLocaleString('en-US');
  return `${cents < 0 ? '-' : ''}$${whole}.${String(abs % 100).padStart(2, '0')}`;
}

export async function waitFor(check, what, seconds = 20) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
