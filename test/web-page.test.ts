// The web page in a real browser (Debian's Chromium through playwright-core) against the real
// server with real hook events: every tab at 390x844 and 1440x900 (screenshots saved in
// test-artifacts/, nothing overflowing sideways, every control reachable), axe-core in the
// dark and the light theme, the agents list following hook events, a break set from the page
// counting down and ending by itself, a session's chat following it on the live feed (and going
// on where it left off after the feed drops), the last state shown stale offline and the page live
// again when the server returns, and a login from beyond loopback with a one-time link.
// Speed (event-to-page latency, long tasks) is measured by `npm run bench`, not here.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from './support/clock.js';
import { FAKE_CLAUDE, until } from './support/sessions.js';
import { startFeedServer, type FeedServer } from './support/feed.js';
import { axeViolations, browserSkip, builtWeb, DESKTOP, horizontalOverflow, launchBrowser, newContext, PHONE, screenshot, unreachableControls, type Browser, type Page } from './support/browser.js';
import type { WebSocketRoute } from 'playwright-core';
import { hookPayload, tempHome } from './support/system.js';

if (browserSkip) console.log(`# web page tests skipped: ${browserSkip}`);

const QUIET = { notifications: { speech: { engine: 'none' as const }, sound: { player: 'none' as const } } };
const TABS = ['agents', 'approvals', 'sessions', 'mode', 'usage', 'notifications', 'activity'];

function hook(s: FeedServer, session: string, event: string, extra: Record<string, unknown> = {}) {
  return s.post('/api/hooks', { session_id: session, hook_event_name: event, cwd: `/home/me/src/${session}`, transcript_path: `/tmp/${session}.jsonl`, ...extra });
}

/** A few agents in every state, with a notification, as the hooks of real sessions make them. */
async function someAgents(s: FeedServer): Promise<void> {
  for (let i = 1; i <= 5; i++) {
    const id = `project-${i}`;
    assert.equal((await hook(s, id, 'SessionStart', { source: 'startup' })).status, 200);
    await hook(s, id, 'UserPromptSubmit', { prompt: 'make the tests pass' });
    await hook(s, id, 'PreToolUse', { tool_name: 'Bash', tool_input: { command: 'npm test' }, tool_use_id: `tool-${i}` });
    if (i === 1) await hook(s, id, 'PermissionRequest', { tool_name: 'Bash', tool_input: { command: 'rm -rf build' } });
    if (i >= 4) {
      await hook(s, id, 'PostToolUse', { tool_name: 'Bash', tool_use_id: `tool-${i}` });
      await hook(s, id, 'Stop');
    }
  }
}

async function openTab(page: Page, url: string, tab: string): Promise<void> {
  await page.goto(`${url}/app/#/${tab}`);
  await page.locator(`nav a[data-tab=${tab}][aria-current=page]`).waitFor();
  await page.locator('[data-testid=banner]').waitFor({ state: 'detached' });
  await page.locator('main [aria-busy=true]').first().waitFor({ state: 'detached' });
}

describe('the web page in Chromium', { skip: browserSkip }, () => {
  const home = tempHome();
  const clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000);
  let s: FeedServer;
  let browser: Browser;
  let webRoot: string;
  before(async () => {
    webRoot = (await builtWeb()).dir;
    const repo = join(home.dir, 'shop');
    mkdirSync(repo);
    s = await startFeedServer(home.dir, { ...QUIET, repos: [{ name: 'shop', path: repo }], sessions: { claude_bin: FAKE_CLAUDE, stop_grace_seconds: 2 } }, { webRoot, clock });
    await someAgents(s);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await s?.close();
    home.cleanup();
  });

  for (const [name, options] of [['phone', PHONE], ['desktop', DESKTOP]] as const) {
    it(`${name}: every tab fits the width, every control is reachable, no serious accessibility problem in either theme`, async () => {
      const ctx = await newContext(browser, options);
      const page = await ctx.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      // What the page's content security policy refused (read before axe runs: axe itself evaluates code).
      await page.addInitScript(() => {
        const w = window as unknown as { refused: string[] };
        w.refused = [];
        document.addEventListener('securitypolicyviolation', (e) => w.refused.push(`${e.effectiveDirective} ${e.sourceFile}:${e.lineNumber} ${e.sample}`));
      });
      const refused = () => page.evaluate(() => (window as unknown as { refused: string[] }).refused);
      for (const tab of TABS) {
        await openTab(page, s.url, tab);
        assert.ok((await horizontalOverflow(page)) <= 0, `${name} ${tab}: the page is wider than the screen`);
        assert.deepEqual(await unreachableControls(page), [], `${name} ${tab}: controls that cannot be used`);
        assert.deepEqual(await refused(), [], `${name} ${tab}: refused by the content security policy`);
        await screenshot(page, `${name}-${tab}-dark`);
        assert.deepEqual(await axeViolations(page), [], `${name} ${tab}, dark theme`);
      }
      await page.getByRole('button', { name: 'Use the light theme' }).click();
      assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
      for (const tab of TABS) {
        await openTab(page, s.url, tab);
        assert.deepEqual(await refused(), [], `${name} ${tab}, light: refused by the content security policy`);
        await screenshot(page, `${name}-${tab}-light`);
        assert.deepEqual(await axeViolations(page), [], `${name} ${tab}, light theme`);
      }
      // An agent's page: its timeline pairs the tool's start and end.
      await openTab(page, s.url, 'agents');
      await page.locator('[data-testid=agents] li[data-id] a', { hasText: 'project-4' }).or(page.locator('[data-testid=agents] li[data-state=idle] a')).first().click();
      await page.locator('[data-testid=timeline] li.tl-tool').first().waitFor();
      const tool = page.locator('[data-testid=timeline] li.tl-tool');
      assert.equal(await tool.count(), 1, 'the start and the end of one tool are one item');
      // Read as text, not as rendered: rows skip rendering until they are on screen (content-visibility: auto).
      assert.equal(await tool.locator('.tl-text').textContent(), 'Bash: npm test');
      assert.match((await tool.locator('.tl-duration').textContent()) ?? '', /^\d+s$/, 'with its duration');
      assert.ok((await horizontalOverflow(page)) <= 0);
      await screenshot(page, `${name}-agent-light`);
      assert.deepEqual(problems, [], 'errors in the page');
      await ctx.close();
    });
  }

  it('puts the waiting agent first and unmistakable, and follows hook events as they come', async () => {
    const ctx = await newContext(browser, PHONE);
    const page = await ctx.newPage();
    await openTab(page, s.url, 'agents');
    const first = page.locator('[data-testid=agents] li').first();
    assert.equal(await first.getAttribute('data-state'), 'awaiting');
    assert.match((await first.textContent()) ?? '', /needs you/);
    assert.equal(await page.locator('nav a[data-tab=agents] .badge').innerText(), '1');
    // A new session and its prompt reach the list without a reload.
    await hook(s, 'fresh-project', 'SessionStart', { source: 'startup' });
    await hook(s, 'fresh-project', 'UserPromptSubmit', { prompt: 'hello' });
    await page.locator('[data-testid=agents] li[data-state=working]', { hasText: 'fresh-project' }).waitFor();
    // The permission is granted in the terminal: the agent goes back to work, off the top.
    await hook(s, 'project-1', 'PostToolUse', { tool_name: 'Bash', tool_use_id: 'tool-1' });
    await page.locator('nav a[data-tab=agents] .badge').waitFor({ state: 'detached' });
    await ctx.close();
  });

  it('decides a held permission request from the page: the waiting hook gets the decision; one decided elsewhere leaves the list at once', async () => {
    const ctx = await newContext(browser, PHONE);
    const page = await ctx.newPage();
    await openTab(page, s.url, 'approvals');
    const held = (session: string, command: string, eventId: string) =>
      fetch(`${s.url}/api/approvals/wait?event_id=${eventId}`, {
        method: 'POST',
        body: JSON.stringify(hookPayload(session, 'PermissionRequest', { tool_name: 'Bash', tool_input: { command, description: 'run it' }, permission_mode: 'default' })),
      });
    const publish = held('web-approve', 'npm publish --tag next', 'web-approval-0001');
    const other = held('web-other', 'git push --force', 'web-approval-0002');
    const card = page.locator('[data-testid=approvals-pending] li[data-id=web-approval-0001]');
    await card.waitFor();
    await page.locator('[data-testid=approvals-pending] li[data-id=web-approval-0002]').waitFor();
    assert.equal(await page.locator('nav a[data-tab=approvals] .badge').innerText(), '2');
    assert.match((await card.textContent()) ?? '', /Bash/);
    assert.equal((await card.locator('[data-testid=tool-input]').textContent()) ?? '', 'npm publish --tag next');
    assert.ok((await horizontalOverflow(page)) <= 0, 'a pending request fits the phone');
    assert.deepEqual(await unreachableControls(page), []);
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, 'phone-approvals-pending');

    await card.getByLabel('Message for the agent (optional)').fill('not from this branch');
    await card.getByRole('button', { name: 'Deny' }).click();
    const answer = await publish;
    assert.equal(answer.status, 200);
    assert.deepEqual((await answer.json()).hookSpecificOutput.decision, { behavior: 'deny', message: 'not from this branch' });
    const done = page.locator('[data-testid=approvals-resolved] li[data-id=web-approval-0001]');
    await done.waitFor();
    assert.match((await done.locator('[data-testid=outcome]').textContent()) ?? '', /Denied by \w+: not from this branch/);

    // Another client decides the second one: the page follows the feed, no reload.
    const elsewhere = await s.post('/api/approvals/web-approval-0002', { behavior: 'allow' });
    assert.equal(elsewhere.status, 200);
    assert.deepEqual((await (await other).json()).hookSpecificOutput.decision, { behavior: 'allow' });
    await page.locator('[data-testid=approvals-pending] li[data-id=web-approval-0002]').waitFor({ state: 'detached' });
    assert.match((await page.locator('[data-testid=approvals-resolved] li[data-id=web-approval-0002] [data-testid=outcome]').textContent()) ?? '', /Allowed by/);
    await page.locator('nav a[data-tab=approvals] .badge').waitFor({ state: 'detached' });
    await ctx.close();
  });

  it('starts a headless session from the page, shows its output as a chat, sends a prompt and stops it', async () => {
    const ctx = await newContext(browser, PHONE);
    const page = await ctx.newPage();
    await openTab(page, s.url, 'sessions');
    await page.getByLabel('Repository').selectOption('shop');
    await page.getByLabel('Name (optional)').fill('from the page');
    await page.getByLabel('First prompt (optional)').fill('hello from the page');
    await page.getByRole('button', { name: 'Start' }).click();
    await page.waitForURL(/#\/sessions\/ses-[0-9a-f]{12}$/);
    const id = decodeURIComponent(new URL(page.url()).hash.split('/')[2]!);
    const chat = page.locator('[data-testid=chat]');
    await chat.locator('li', { hasText: 'echo: hello from the page' }).first().waitFor();
    assert.equal(await chat.locator('li.chat-you').first().locator('.chat-text').innerText(), 'hello from the page', 'the first prompt heads the chat');
    assert.match(await page.locator('[data-testid=session-state]').innerText(), /shop · claude headless/);
    assert.ok((await horizontalOverflow(page)) <= 0, 'the chat fits the phone');
    assert.deepEqual(await unreachableControls(page), []);
    assert.deepEqual(await axeViolations(page), []);

    await page.getByLabel('Prompt', { exact: true }).fill('and a second one');
    await page.getByRole('button', { name: 'Send' }).click();
    await chat.locator('li.chat-you', { hasText: 'and a second one' }).waitFor();
    await chat.locator('li', { hasText: 'echo: and a second one' }).first().waitFor();
    await screenshot(page, 'phone-session-chat');

    await page.getByRole('button', { name: 'Stop' }).click();
    await page.locator('[data-testid=session-state]', { hasText: 'exited' }).waitFor();
    assert.equal((await s.get(`/api/sessions/${id}`)).body.state, 'exited', 'the server stopped it');
    await page.getByRole('link', { name: 'Sessions' }).first().click();
    await page.locator(`[data-testid=sessions] li[data-id=${id}]`, { hasText: 'from the page' }).waitFor();
    await ctx.close();
  });

  it('keeps the Sessions list live: a session started, renamed, stopped and forgotten elsewhere shows each change without a reload', async () => {
    const ctx = await newContext(browser, PHONE);
    const page = await ctx.newPage();
    const asked: string[] = [];
    await page.routeWebSocket(/\/ws$/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((m) => {
        if (String(m).includes('"get_snapshot"')) asked.push(String(m));
        server.send(m);
      });
    });
    await openTab(page, s.url, 'sessions');
    await page.locator('[data-testid=sessions]').waitFor({ state: 'attached' });
    const started = await s.post('/api/sessions', { repo: 'shop', name: 'started elsewhere' });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const card = page.locator(`[data-testid=sessions] li[data-id=${started.body.id}]`);
    await card.locator('.state', { hasText: /^ready$/ }).waitFor();
    assert.match((await card.textContent()) ?? '', /started elsewhere/);
    assert.equal((await fetch(`${s.url}/api/sessions/${started.body.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'renamed elsewhere' }) })).status, 200);
    await card.locator('.name', { hasText: 'renamed elsewhere' }).waitFor();
    assert.equal((await fetch(`${s.url}/api/sessions/${started.body.id}`, { method: 'DELETE' })).status, 200);
    await card.locator('.state', { hasText: /^exited$/ }).waitFor();
    assert.equal(await card.getAttribute('class'), 'card state-stopped');
    // Forgotten by a cleanup: gone from the page, though the page saw it change.
    const cleaned = await fetch(`${s.url}/api/sessions/cleanup`, { method: 'DELETE' });
    assert.equal(cleaned.status, 200);
    assert.ok(((await cleaned.json()) as { forgotten: string[] }).forgotten.includes(started.body.id));
    await card.waitFor({ state: 'detached' });
    // session_changed messages count in the feed's numbering: none made the page think it had
    // missed one and ask for a fresh snapshot.
    assert.deepEqual(asked, []);
    await ctx.close();
  });

  it('the chat follows its session on the live feed: after the feed drops it goes on from the last message it had, none repeated', async () => {
    const ctx = await newContext(browser, PHONE);
    const page = await ctx.newPage();
    // Every socket the page opens goes through here to the real server; the test can cut one.
    const sockets: string[] = [];
    const subscriptions: { after: number }[] = [];
    const feeds: WebSocketRoute[] = [];
    await page.routeWebSocket(/\/ws/, (ws) => {
      sockets.push(new URL(ws.url()).pathname);
      const server = ws.connectToServer();
      ws.onMessage((m) => {
        const text = String(m);
        if (text.includes('"subscribe_session"')) subscriptions.push(JSON.parse(text) as { after: number });
        server.send(m);
      });
      feeds.push(ws);
    });
    await openTab(page, s.url, 'sessions');
    await page.getByLabel('Repository').selectOption('shop');
    await page.getByLabel('First prompt (optional)').fill('before the drop');
    await page.getByRole('button', { name: 'Start' }).click();
    await page.waitForURL(/#\/sessions\/ses-[0-9a-f]{12}$/);
    const id = decodeURIComponent(new URL(page.url()).hash.split('/')[2]!);
    const chat = page.locator('[data-testid=chat]');
    await chat.locator('li', { hasText: 'echo: before the drop' }).first().waitFor();

    await feeds.at(-1)!.close({ code: 4000, reason: 'cut by the test' });
    await until(async () => subscriptions.length, (n) => n === 2, 'the session followed again on the new feed');
    assert.equal((await s.post(`/api/sessions/${id}/send`, { prompt: 'after the drop' })).status, 202);
    await chat.locator('li', { hasText: 'echo: after the drop' }).first().waitFor();
    assert.equal(await chat.locator('li', { hasText: 'echo: before the drop' }).count(), 1, 'the answer before the drop, once');
    assert.equal(await chat.locator('li', { hasText: 'Turn done.' }).count(), 2, 'each turn ended once');
    assert.deepEqual(
      subscriptions.map((m) => m.after > 0),
      [false, true],
      'subscribed again after the drop, from the last stored message the chat had',
    );
    assert.deepEqual([...new Set(sockets)], ['/ws'], 'the main feed only: no socket of its own');
    assert.equal((await fetch(`${s.url}/api/sessions/${id}`, { method: 'DELETE' })).status, 200);
    await ctx.close();
  });

  it('sets a break from the page, shows its countdown, and the break ends by itself', async () => {
    const ctx = await newContext(browser, PHONE);
    const page = await ctx.newPage();
    await page.clock.install({ time: clock.now() });
    await openTab(page, s.url, 'mode');
    const before = (await s.get('/api/mode')).body.mode as string;
    await page.getByRole('button', { name: '15 min' }).click();
    const countdown = page.locator('[data-testid=countdown]');
    await countdown.waitFor();
    assert.match(await page.locator('[data-testid=current-mode]').innerText(), /break/i);
    assert.match((await countdown.innerText()).trim(), /^1[45]:\d\d$/);
    assert.match(await page.locator('[data-testid=mode]').innerText(), /break 1[45]:\d\d/, 'the header shows it too');
    await page.clock.fastForward('05:00');
    await page.waitForFunction(() => /^(9|10):\d\d$/.test(document.querySelector('[data-testid=countdown]')?.textContent?.trim() ?? ''));
    // The server's timer (its clock moved on past the deadline) ends the break: nobody clicks.
    clock.advance(15 * 60_000);
    await countdown.waitFor({ state: 'detached' });
    assert.equal((await page.locator('[data-testid=current-mode]').innerText()).toLowerCase(), before.replace(/_/g, ' '));
    await ctx.close();
  });
});

describe('the web page offline', { skip: browserSkip }, () => {
  const home = tempHome();
  let s: FeedServer;
  let browser: Browser;
  before(async () => {
    const { dir } = await builtWeb();
    s = await startFeedServer(home.dir, QUIET, { webRoot: dir });
    await someAgents(s);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await s?.close();
    home.cleanup();
  });

  it('shows the last known state marked stale while the server is away, from the cached page when the network is gone, and is live again when the server returns', async () => {
    const ctx = await newContext(browser, PHONE);
    const page = await ctx.newPage();
    await openTab(page, s.url, 'agents');
    assert.equal(await page.evaluate(async () => (await navigator.serviceWorker.ready).scope), `${s.url}/app/`);
    await page.waitForFunction(() => localStorage.getItem('token-api:last-state')?.includes('project-1'));
    const cards = await page.locator('[data-testid=agents] li').count();

    const port = s.port;
    await s.close();
    await page.locator('[data-testid=banner]', { hasText: 'Reconnecting' }).waitFor();
    assert.equal(await page.locator('.shell.stale').count(), 1);
    // No network at all: a reload comes from the service worker's cache, with the kept state.
    await ctx.setOffline(true);
    await page.reload();
    await page.locator('[data-testid=agents] li').first().waitFor();
    assert.equal(await page.locator('[data-testid=agents] li').count(), cards);
    assert.match(await page.locator('[data-testid=banner]').innerText(), /showing what was known at/);
    assert.equal(await page.locator('.shell.stale').count(), 1);
    await screenshot(page, 'phone-offline');
    await ctx.setOffline(false);

    s = await startFeedServer(home.dir, QUIET, { webRoot: (await builtWeb()).dir }, port);
    await page.locator('[data-testid=banner]').waitFor({ state: 'detached' });
    assert.equal(await page.locator('.shell.stale').count(), 0);
    await hook(s, 'after-restart', 'SessionStart', { source: 'startup' });
    await page.locator('[data-testid=agents] li', { hasText: 'after-restart' }).waitFor();
    await ctx.close();
  });
});

describe('the web page beyond loopback', { skip: browserSkip }, () => {
  const home = tempHome();
  let s: FeedServer;
  let browser: Browser;
  let token: string;
  before(async () => {
    const { dir } = await builtWeb();
    // Every request counts as coming from a phone on the tailnet.
    s = await startFeedServer(home.dir, QUIET, { webRoot: dir, peerAddress: () => '100.70.1.2' });
    token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await s?.close();
    home.cleanup();
  });

  it('logs in once with a one-time link, keeps the session in an HttpOnly cookie, and acts with the CSRF token', async () => {
    const link = await s.post('/api/web/link', undefined, { authorization: `Bearer ${token}` });
    assert.equal(link.status, 200);
    const code = /#code=(.+)$/.exec(link.body.url)![1]!;
    const ctx = await newContext(browser, PHONE);
    const page = await ctx.newPage();
    await page.goto(`${s.url}/app/#code=${code}`);
    await page.locator('nav a[data-tab=agents][aria-current=page]').waitFor();
    assert.ok(!page.url().includes(code), 'the code is taken out of the address');
    const session = (await ctx.cookies()).find((c) => c.name === 'ta_session')!;
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.ok(!(await page.evaluate(() => document.cookie)).includes('ta_session'), 'the page cannot read its session');
    await openTab(page, s.url, 'mode');
    await page.getByRole('button', { name: '30 min' }).click();
    await page.locator('[data-testid=countdown]').waitFor();
    assert.equal((await s.get('/api/mode', { authorization: `Bearer ${token}` })).body.mode, 'break');
    await ctx.close();

    // The same link again, in another browser: the login form, saying why.
    const other = await newContext(browser, PHONE);
    const again = await other.newPage();
    await again.goto(`${s.url}/app/#code=${code}`);
    await again.getByRole('button', { name: 'Log in' }).waitFor();
    assert.match(await again.locator('[role=alert]').innerText(), /used already or has expired/);
    assert.deepEqual(await axeViolations(again), []);
    await screenshot(again, 'phone-login');
    // The token once, in the form.
    await again.getByLabel('API token').fill(token);
    await again.getByRole('button', { name: 'Log in' }).click();
    await again.locator('nav a[data-tab=agents][aria-current=page]').waitFor();
    await other.close();
  });
});
