// The web page through a relay, in Chromium: `token-api relay serve` (a real process) serves the
// page at /app/, a real token-api (its own SQLite file) connects out to it, and the page, given
// a client token or a pairing code, lists an agent registered at home and follows the feed
// through the relay; a mode change made on the page reaches home. With a pairing code (the
// `relay pair` QR code's #pair= link) every frame the page sends is sealed (WebCrypto) and home
// holds an end-to-end session. A read-only token disables write controls, saying why, and a
// write forced anyway is refused by the relay (403) in words, home untouched. The relay runs on
// plain http on 127.0.0.1: a browser gives WebCrypto to loopback pages as to https ones.
// A managed session started from the page (the fake `claude`) shows its output live through the
// relay, a late viewer gets its history, and with a pairing the relay carries none of it readable.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { browserSkip, builtWeb, launchBrowser, newContext, PHONE, type Browser, type Page } from './support/browser.js';
import { runCli } from './support/process.js';
import { startRelayProcess, type RelayProcess } from './support/relay.js';
import { FAKE_CLAUDE } from './support/sessions.js';
import { hookPayload, startTestServer, tempHome, type TestServer } from './support/system.js';

describe('the web page through a relay', { skip: browserSkip }, () => {
  const dir = tempHome('token-api-web-relay-');
  const relayHome = join(dir.dir, 'relay');
  const homeDir = join(dir.dir, 'home');
  let relay: RelayProcess;
  let home: TestServer;
  let browser: Browser;
  const json = async (args: string[]) => {
    const r = await runCli([...args, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const homeMode = async () => (await home.request('GET', '/api/mode')).body.mode as string;

  before(async () => {
    const webRoot = (await builtWeb()).dir;
    const room = await json(['relay', 'room', 'add', 'home', '--home', relayHome]);
    relay = await startRelayProcess(relayHome, ['--web-root', webRoot]);
    const repo = join(dir.dir, 'shop');
    mkdirSync(repo);
    mkdirSync(homeDir, { recursive: true });
    writeFileSync(join(homeDir, 'relay-key'), `${room.server_key}\n`, { mode: 0o600 });
    home = await startTestServer(homeDir, { relay: { url: relay.url, room: 'home' }, repos: [{ name: 'shop', path: repo }], sessions: { claude_bin: FAKE_CLAUDE, stop_grace_seconds: 2 } });
    await home.system.relay!.connected();
    assert.equal((await home.hook(hookPayload('at-home', 'SessionStart', { source: 'startup' }), `?pid=${process.pid}`)).status, 200);
    assert.equal((await home.hook(hookPayload('at-home', 'PreToolUse', { tool_name: 'Grep', tool_input: {} }), `?pid=${process.pid}`)).status, 200);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await home?.close();
    await relay?.stop();
    dir.cleanup();
  });

  /** A page that records every frame it sends to the relay and receives from it, and every error it raises. */
  async function openPage(url: string): Promise<{ page: Page; sent: string[]; received: string[]; problems: string[]; close(): Promise<void> }> {
    const ctx = await newContext(browser, PHONE);
    const page = await ctx.newPage();
    const sent: string[] = [];
    const received: string[] = [];
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('websocket', (ws) => {
      ws.on('framesent', (f) => sent.push(String(f.payload)));
      ws.on('framereceived', (f) => received.push(String(f.payload)));
    });
    await page.goto(url);
    return { page, sent, received, problems, close: () => ctx.close() };
  }

  /** Starts a session of the fake `claude` from the Sessions tab with a first prompt; its id, once the chat shows its answer. */
  async function startSession(page: Page, name: string, prompt: string): Promise<string> {
    await page.goto(`${relay.url}/app/#/sessions`);
    await page.getByLabel('Repository').selectOption('shop');
    await page.getByLabel('Name (optional)').fill(name);
    await page.getByLabel('First prompt (optional)').fill(prompt);
    await page.getByRole('button', { name: 'Start' }).click();
    await page.waitForURL(/#\/sessions\/ses-[0-9a-f]{12}$/);
    await page.locator('[data-testid=chat] li', { hasText: `echo: ${prompt}` }).first().waitFor();
    return decodeURIComponent(new URL(page.url()).hash.split('/')[2]!);
  }

  const answers = async (page: Page, text: string) => page.locator('[data-testid=chat] li', { hasText: text }).count();

  async function login(page: Page, credential: string): Promise<void> {
    await page.locator('#relay-credential').fill(credential);
    await page.getByRole('button', { name: 'Connect' }).click();
  }

  const agentAtHome = (page: Page) => page.locator('[data-testid=agents] li[data-state=working]', { hasText: 'Grep' }).waitFor();

  it('with an admin client token: the agents at home, live, and a mode change reaching home', async () => {
    const admin = await json(['relay', 'token', 'add', '--home', relayHome, '--room', 'home', '--role', 'admin', '--name', 'phone']);
    const p = await openPage(`${relay.url}/app/`);
    await login(p.page, admin.token);
    await agentAtHome(p.page);
    assert.equal(await p.page.locator('[data-testid=read-only]').count(), 0);
    // The feed comes through the relay: a hook at home shows without a reload.
    await home.hook(hookPayload('later-at-home', 'SessionStart', { source: 'startup' }), `?pid=${process.pid}`);
    await home.hook(hookPayload('later-at-home', 'PreToolUse', { tool_name: 'WebFetch', tool_input: {} }), `?pid=${process.pid}`);
    await p.page.locator('[data-testid=agents] li', { hasText: 'WebFetch' }).waitFor();
    // A break set on the page is set at home.
    await p.page.goto(`${relay.url}/app/#/mode`);
    await p.page.getByRole('button', { name: '15 min' }).click();
    await p.page.locator('[data-testid=countdown]').waitFor();
    assert.equal(await homeMode(), 'break');
    assert.ok(p.sent.some((f) => f.includes('"t":"req"') && f.includes('/api/mode')), 'sent in the clear: no pairing');
    // Kept in this browser: a reload goes straight to the app (live: a change at home shows);
    // Log out forgets the token.
    await p.page.reload();
    await home.request('POST', '/api/mode', { mode: 'off' });
    await p.page.locator('[data-testid=current-mode]', { hasText: 'off' }).waitFor();
    await p.page.getByRole('button', { name: 'Log out' }).click();
    await p.page.locator('#relay-credential').waitFor();
    assert.equal(await p.page.evaluate(() => localStorage.getItem('token-api:relay')), null);
    assert.deepEqual(p.problems, []);
    await p.close();
  });

  it('opened from a pairing link (#pair=tapi1:…): encrypted end to end, and a mode change reaching home', async () => {
    const paired = await json(['relay', 'pair', '--home', homeDir, '--role', 'admin', '--name', 'tablet']);
    assert.equal(paired.page_url, `${relay.url}/app/#pair=${paired.code}`);
    const sessionsBefore = home.system.relay!.status().sessions;
    const p = await openPage(paired.page_url);
    await agentAtHome(p.page);
    assert.equal(new URL(p.page.url()).hash, '', 'the code is taken out of the address');
    assert.ok(home.system.relay!.status().sessions > sessionsBefore, 'home holds an end-to-end session');
    await p.page.goto(`${relay.url}/app/#/mode`);
    await p.page.getByRole('button', { name: '30 min' }).click();
    await p.page.locator('[data-testid=countdown]').waitFor();
    assert.equal(await homeMode(), 'break');
    assert.ok(p.sent.some((f) => f.includes('"t":"hello"')));
    assert.ok(p.sent.some((f) => f.includes('"t":"sreq"') && f.includes('/api/mode')));
    assert.ok(!p.sent.some((f) => f.includes('"t":"req"') || f.includes('"minutes"')), 'no request and no body in the clear');
    await home.request('POST', '/api/mode', { mode: 'off' });
    assert.deepEqual(p.problems, []);
    await p.close();
  });

  it('a read-only token: write controls disabled with the reason; a write forced anyway is refused (403) in words, home untouched', async () => {
    const reader = await json(['relay', 'token', 'add', '--home', relayHome, '--room', 'home', '--role', 'read-only', '--name', 'watch']);
    const p = await openPage(`${relay.url}/app/#/mode`);
    await login(p.page, reader.token);
    await p.page.locator('[data-testid=read-only]', { hasText: 'read-only' }).waitFor();
    const button = p.page.getByRole('button', { name: '15 min' });
    await p.page.locator('[data-testid=current-mode]', { hasText: 'off' }).waitFor();
    assert.equal(await button.isDisabled(), true);
    assert.match((await button.getAttribute('title')) ?? '', /read-only/);
    await button.evaluate((b) => b.removeAttribute('disabled'));
    await button.click();
    assert.match(await p.page.getByRole('alert').innerText(), /read-only/);
    assert.equal(await homeMode(), 'off');
    assert.deepEqual(p.problems, []);
    await p.close();
  });

  it('a session started from the page through the relay: its output live, a late viewer given its history, stopped from the page', async () => {
    const admin = await json(['relay', 'token', 'add', '--home', relayHome, '--room', 'home', '--role', 'admin', '--name', 'chat']);
    const p = await openPage(`${relay.url}/app/`);
    await login(p.page, admin.token);
    await agentAtHome(p.page);
    const id = await startSession(p.page, 'through the relay', 'hello over the relay');
    assert.match(await p.page.locator('[data-testid=session-state]').innerText(), /shop · claude headless/);
    // Live: a second prompt's answer comes while the chat is open.
    await p.page.getByLabel('Prompt', { exact: true }).fill('and one more');
    await p.page.getByRole('button', { name: 'Send' }).click();
    await p.page.locator('[data-testid=chat] li', { hasText: 'echo: and one more' }).first().waitFor();
    assert.ok(p.sent.some((f) => f.includes('"t":"send"') && f.includes('subscribe_session')), 'followed over the relayed feed');

    // A late viewer, on another phone: the history so far, each answer once.
    const late = await openPage(`${relay.url}/app/`);
    await login(late.page, admin.token);
    await agentAtHome(late.page);
    await late.page.goto(`${relay.url}/app/#/sessions/${id}`);
    await late.page.locator('[data-testid=chat] li', { hasText: 'echo: and one more' }).first().waitFor();
    assert.equal(await answers(late.page, 'echo: hello over the relay'), 1);
    assert.equal(await answers(late.page, 'echo: and one more'), 1);

    await p.page.getByRole('button', { name: 'Stop' }).click();
    await p.page.locator('[data-testid=session-state]', { hasText: 'exited' }).waitFor();
    await late.page.locator('[data-testid=session-state]', { hasText: 'exited' }).waitFor();
    assert.equal((await home.request('GET', `/api/sessions/${id}`)).body.state, 'exited');
    assert.deepEqual(p.problems, []);
    assert.deepEqual(late.problems, []);
    await late.close();
    await p.close();
  });

  it("with a pairing: the session's output shown, and the relay carries none of it readable", async () => {
    const paired = await json(['relay', 'pair', '--home', homeDir, '--role', 'admin', '--name', 'sealed-chat']);
    const p = await openPage(paired.page_url);
    await agentAtHome(p.page);
    const id = await startSession(p.page, 'sealed', 'pelican wisdom');
    await p.page.getByLabel('Prompt', { exact: true }).fill('heron secrets');
    await p.page.getByRole('button', { name: 'Send' }).click();
    await p.page.locator('[data-testid=chat] li', { hasText: 'echo: heron secrets' }).first().waitFor();
    assert.ok(p.received.some((f) => f.includes('"t":"data"') && f.includes('"sealed"')), 'the feed came sealed');
    const readable = [...p.sent, ...p.received].filter((f) => /pelican|heron|session_output|subscribe_session|echo:/.test(f));
    assert.deepEqual(readable, [], 'neither the prompts, the answers nor the subscription pass the relay in the clear');
    await p.page.getByRole('button', { name: 'Stop' }).click();
    await p.page.locator('[data-testid=session-state]', { hasText: 'exited' }).waitFor();
    assert.equal((await home.request('GET', `/api/sessions/${id}`)).body.state, 'exited');
    assert.deepEqual(p.problems, []);
    await p.close();
  });
});
