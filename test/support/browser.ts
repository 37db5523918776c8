/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Browser tests' harness: Debian's Chromium driven by playwright-core (nothing downloaded),
// one browser per test file and a fresh context per test; the web page built once per
// process into a temporary folder (so tests always run the current src/web); the phone and
// desktop viewports; and the layout checks (horizontal overflow, every control reachable).
// Where Chromium is missing, `browserSkip` says why and the tests are skipped.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { buildWeb, type BuildReport } from '../../scripts/build-web.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];

/** Why browser tests cannot run here (a reason to print), or false when they can. */
export const browserSkip: string | false =
  process.env.TOKEN_API_BROWSER_TESTS === '0'
    ? 'browser tests turned off (TOKEN_API_BROWSER_TESTS=0)'
    : existsSync(CHROMIUM)
      ? false
      : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH); .ci/run installs it`;

export const ARTIFACTS = join(process.cwd(), 'test-artifacts');

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

let built: Promise<{ dir: string; report: BuildReport }> | null = null;
/** The page built from the current sources into a temporary folder, once per process. */
export function builtWeb(): Promise<{ dir: string; report: BuildReport }> {
  built ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'token-api-web-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return { dir, report: await buildWeb({ outDir: dir }) };
  })();
  return built;
}

export const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme: 'dark' };
export const DESKTOP: BrowserContextOptions = { viewport: { width: 1440, height: 900 }, colorScheme: 'dark' };

/** A context whose page-side functions survive tsx's __name() wrapping (esbuild keepNames). */
export async function newContext(browser: Browser, options: BrowserContextOptions): Promise<BrowserContext> {
  const ctx = await browser.newContext(options);
  await ctx.addInitScript('globalThis.__name = (f) => f;');
  return ctx;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true, scale: 'css' });
  return path;
}

/** How far the page is wider than the viewport (0 when nothing overflows). */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.scrollingElement!.scrollWidth - innerWidth);
}

/**
 * Controls that cannot be used: each link, button, field and focusable element is scrolled
 * into view, and must then be on screen horizontally, at least 24x24 px, and the topmost
 * element at its centre (not covered by a bar or another element).
 */
export function unreachableControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const bad: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])')) {
      if (el.closest('[hidden]') || getComputedStyle(el).visibility === 'hidden') continue;
      el.scrollIntoView({ block: 'center', inline: 'center' });
      const r = el.getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      const what = el.outerHTML.slice(0, 100);
      if (r.width === 0 || r.height === 0) bad.push(`no size: ${what}`);
      else if (r.left < 0 || r.right > innerWidth + 0.5) bad.push(`off screen (${Math.round(r.left)}..${Math.round(r.right)}): ${what}`);
      else if (!(hit === el || el.contains(hit) || (el instanceof HTMLInputElement && el.labels?.[0]?.contains(hit)))) bad.push(`covered by ${hit?.outerHTML.slice(0, 60)}: ${what}`);
      else if (r.width < 24 || r.height < 24) bad.push(`small (${Math.round(r.width)}x${Math.round(r.height)}): ${what}`);
    }
    scrollTo(0, 0);
    return bad;
  });
}

const AXE = readFileSync(join(process.cwd(), 'node_modules/axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page as it is. */
export async function axeViolations(page: Page): Promise<string[]> {
  // addScriptTag would add an inline script, which the page's CSP refuses; evaluate is not subject to it.
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id} (${v.help}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
  });
}

export type { Browser, BrowserContext, Page };
