// The one way the test scripts open code-server's workbench: Debian's headless Chromium driven by playwright-core,
// with one page whose console errors and page errors are kept (and echoed with WAN_DEBUG=1).
import { chromium } from 'playwright-core';

/** Flags for a root, GPU-less, offline machine: without the networking ones Chromium keeps calling out and is refused. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  // The e2e suite and the README's demo check that results play with sound, untouched by a user.
  '--autoplay-policy=no-user-gesture-required',
];

/**
 * @param {object} opts
 * @param {string} opts.executablePath  Chromium (installCodeServer's `chromium`)
 * @param {{ width: number, height: number }} [opts.viewport]
 * @returns {Promise<{ browser: import('playwright-core').Browser, page: import('playwright-core').Page, errors: string[] }>}
 */
export async function launchWorkbenchBrowser({ executablePath, viewport }) {
  const debug = !!process.env.WAN_DEBUG;
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  const page = await browser.newPage(viewport ? { viewport } : {});
  // The first page load makes code-server load its VS Code server (lazily, at the first request): seconds alone,
  // and well over Playwright's default 30 s on a machine shared by several test runs.
  page.setDefaultNavigationTimeout(120_000);
  /** @type {string[]} */
  const errors = [];
  page.on('console', (m) => {
    if (debug) process.stderr.write(`[browser ${m.type()}] ${m.text()}\n`);
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => {
    if (debug) process.stderr.write(`[page error] ${e}\n`);
    errors.push(String(e));
  });
  return { browser, page, errors };
}

/** The last browser errors, for a failure message. */
export function browserErrorsNote(errors) {
  return errors.length ? `\nbrowser errors:\n  ${errors.slice(-10).join('\n  ')}` : '';
}
