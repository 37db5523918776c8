// The dashboard against a real server (in this process, real HTTP and WebSocket over
// loopback): it follows hooks as they happen, its keys act through the HTTP API, it shows
// "disconnected, retrying" when the server stops and comes back by itself when it starts
// again on the same port, and beyond loopback it needs the token (and says so without it).
// The dashboard's timers run on a FakeClock: reconnection is driven, never waited for.
process.env.TZ = 'UTC';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import pino from 'pino';
import { baseUrlOf } from '../src/cli/tui.js';
import { startServer } from '../src/system/server.js';
import { startDashboard, type Dashboard } from '../src/tui/dashboard.js';
import type { DashboardContext } from '../src/tui/store.js';
import { FakeClock } from './support/clock.js';
import { connectFeed, startFeedServer, type FeedServer } from './support/feed.js';
import { runCli } from './support/process.js';
import { hookPayload, tempHome, testConfig } from './support/system.js';
import { fakeTerminal, type FakeTerminal } from './support/tui.js';

const QUIET = { notifications: { speech: { engine: 'none' as const }, sound: { player: 'none' as const } } };

/** Resolves once the dashboard's store satisfies `pred` (checked on every change). */
function until(d: Dashboard, pred: (c: DashboardContext) => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (pred(d.store.getSnapshot().context)) return resolve();
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(new Error(`the dashboard never showed: ${what}; it has ${JSON.stringify(d.store.getSnapshot().context.connection)}`));
    }, 15_000);
    const sub = d.store.subscribe((s) => {
      if (pred(s.context)) {
        clearTimeout(timer);
        sub.unsubscribe();
        resolve();
      }
    });
  });
}

describe('the dashboard against a real server', () => {
  const homes: ReturnType<typeof tempHome>[] = [];
  let server: FeedServer | null = null;
  let dash: Dashboard | null = null;
  let term: FakeTerminal;
  let clock: FakeClock;

  afterEach(async () => {
    dash?.stop();
    dash = null;
    await server?.close();
    server = null;
    for (const h of homes.splice(0)) h.cleanup();
  });

  function open(baseUrl: string, token?: string): Dashboard {
    clock = new FakeClock(Date.now());
    term = fakeTerminal(80, 24);
    dash = startDashboard({ baseUrl, token, clock, input: term.input, output: term.output, retryDelaysMs: [1000, 2000] });
    return dash;
  }
  const screen = () => {
    dash!.screen.paintNow();
    return dash!.screen.rows();
  };
  const typed = () => new Promise<void>((r) => setImmediate(r));

  it('follows hooks live, and its keys set the mode, focus and stop an instance through the API', async () => {
    const home = tempHome('token-api-tui-live-');
    homes.push(home);
    server = await startFeedServer(home.dir, QUIET);
    const d = open(server.url);
    await until(d, (c) => c.connection.status === 'live', 'live');
    assert.match(screen()[0]!, /● live/);
    assert.match(screen()[3]!, /no instances yet/);

    await server.post('/api/hooks', hookPayload('one', 'SessionStart', { source: 'startup' }));
    await server.post('/api/hooks', hookPayload('one', 'PreToolUse', { tool_name: 'Grep' }));
    await until(d, (c) => c.instances['claude-one']?.state === 'working', 'the instance working');
    assert.match(screen()[3]!, /^● Claude #1 +desktop +token-api +working {2}Grep /);
    // A session's start is one line, with its project.
    assert.match(screen().join('\n'), /Claude #1 \(token-api\) started on desktop/);
    assert.doesNotMatch(screen().join('\n'), /started a session/);
    // The header asked the server whether speech and sound work there (not in this test).
    await until(d, (c) => c.outputs !== null, 'speech and sound known');
    assert.match(screen()[0]!, /speech ✗ sound ✗/);

    // m: the mode, then for how long (3: 30 minutes).
    term.type('m3');
    await typed();
    term.type('3');
    await until(d, (c) => c.mode?.mode === 'break', 'mode break');
    assert.match(screen()[5]!, /MODE: break (30:0\d|29:5\d) left/);
    const mode = (await server.get('/api/mode')).body;
    assert.equal(mode.mode, 'break');
    assert.ok(mode.remaining_s > 29 * 60 && mode.remaining_s <= 30 * 60, `a 30-minute timer: ${mode.remaining_s} s left`);

    term.type('f');
    await until(d, (c) => c.mode?.focus === true, 'focus on');
    assert.match(screen()[5]!, /FOCUS: on/);

    term.type('s');
    await typed();
    assert.match(screen().join('\n'), /Mark Claude #1 stopped\?/);
    term.type('y');
    await until(d, (c) => c.instances['claude-one']?.state === 'stopped', 'the instance stopped');
    assert.match(screen()[3]!, /^○ Claude #1 .* stopped {2}deregist/);
    assert.equal((await server.get('/api/instances/claude-one')).body.stop_reason, 'deregistered');
    term.type('q');
    await d.done;
  });

  it('y and n on an awaiting instance allow or deny the permission request it waits on; the hook gets the answer', async () => {
    const home = tempHome('token-api-tui-approve-');
    homes.push(home);
    server = await startFeedServer(home.dir, QUIET);
    const url = server.url;
    const d = open(url);
    await until(d, (c) => c.connection.status === 'live', 'live');
    // The approvals as token-api holds them (the instance awaits a moment before its approval is committed).
    const feed = await connectFeed(server.wsUrl);
    const ask = (session: string, command: string) =>
      fetch(`${url}/api/approvals/wait`, { method: 'POST', body: JSON.stringify(hookPayload(session, 'PermissionRequest', { tool_name: 'Bash', tool_input: { command } })) }).then(async (r) => ({ status: r.status, text: await r.text() }));
    const held = ask('perm', 'npm publish');
    await until(d, (c) => c.instances['claude-perm']?.state === 'awaiting', 'the instance awaiting');
    await feed.next('permission_prompt', (m) => m.approval.summary === 'npm publish');
    term.type('y');
    const allowed = await held;
    assert.equal(allowed.status, 200);
    assert.deepEqual(JSON.parse(allowed.text).hookSpecificOutput.decision, { behavior: 'allow' });
    await until(d, (c) => c.notice?.text.startsWith('allowed: Bash npm publish') === true, 'the notice');

    await server.post('/api/hooks', hookPayload('perm', 'PostToolUse', { tool_name: 'Bash' }));
    const again = ask('perm', 'rm -rf build');
    await until(d, (c) => c.instances['claude-perm']?.state === 'awaiting', 'awaiting again');
    await feed.next('permission_prompt', (m) => m.approval.summary === 'rm -rf build');
    term.type('n');
    const denied = await again;
    assert.equal(JSON.parse(denied.text).hookSpecificOutput.decision.behavior, 'deny');
    const list = (await server.get('/api/approvals?instance=claude-perm')).body;
    assert.deepEqual(list.approvals.map((a: { decision: { behavior: string; by: string } }) => [a.decision.behavior, a.decision.by]), [['deny', 'loopback'], ['allow', 'loopback']]);
    await feed.close();
    term.type('q');
    await d.done;
  });

  it('shows "disconnected, retrying" when the server stops, and reconnects by itself when it is back', async () => {
    const home = tempHome('token-api-tui-reconnect-');
    homes.push(home);
    server = await startFeedServer(home.dir, QUIET);
    const port = server.port;
    await server.post('/api/hooks', hookPayload('a', 'SessionStart', { source: 'startup' }));
    const d = open(server.url);
    await until(d, (c) => c.connection.status === 'live' && 'claude-a' in c.instances, 'the first instance');

    await server.close();
    server = null;
    await until(d, (c) => c.connection.status === 'disconnected', 'disconnected');
    let rows = screen();
    assert.match(rows[0]!, /○ disconnected, retrying in 1s/);
    assert.match(rows[23]!, /the server closed the connection: server stopping/);
    assert.match(rows[3]!, /Claude #1/, 'the last picture stays');

    // Nobody listens: the next attempt is refused, and it says so, and waits longer.
    clock.advance(1000);
    await until(d, (c) => c.connection.status === 'disconnected' && c.connection.attempt === 2, 'a refused attempt');
    rows = screen();
    assert.match(rows[23]!, /token-api is not reachable \(connection refused\)/);
    assert.match(rows[0]!, /retrying in 2s/);

    // Back on the same port, with a change made while the dashboard was away.
    server = await startFeedServer(home.dir, QUIET, {}, port);
    await server.post('/api/hooks', hookPayload('b', 'SessionStart', { source: 'startup' }));
    clock.advance(2000);
    await until(d, (c) => c.connection.status === 'live' && 'claude-b' in c.instances, 'live again with the new instance');
    rows = screen();
    assert.match(rows[0]!, /● live/);
    assert.match(rows.join('\n'), /Claude #2/);
    assert.match(rows[23]!, /move/, 'the footer is back to the keys');
  });

  it('token-api tui explains a bad --url and a missing terminal, in a line, with no stack trace', async () => {
    const home = tempHome('token-api-tui-cli-');
    homes.push(home);
    const bad = await runCli(['tui', '--home', home.dir, '--url', 'ftp://example']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'token-api tui: --url must be a URL such as http://127.0.0.1:7777, got "ftp://example"\n');
    const piped = await runCli(['tui', '--home', home.dir, '--url', 'http://127.0.0.1:1']);
    assert.equal(piped.code, 2);
    assert.equal(piped.stderr, 'token-api tui: needs a terminal (stdin and stdout must be a TTY)\n');
    const help = await runCli(['tui', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--url URL/);
    assert.match(help.stdout, /--token TOKEN/);
    assert.deepEqual(
      ['localhost:7777', 'ws://10.0.0.2:7777/ws', 'https://hub.example/', 'http://[::1]:7777'].map(baseUrlOf),
      ['http://localhost:7777', 'http://10.0.0.2:7777', 'https://hub.example', 'http://[::1]:7777'],
    );
  });

  const address = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  it('from beyond loopback it needs the token, and says so without it', { skip: address ? false : 'this machine has no non-loopback IPv4 address' }, async () => {
    const home = tempHome('token-api-tui-remote-');
    homes.push(home);
    const config = { ...testConfig(home.dir, QUIET), host: '0.0.0.0', port: 0 };
    const running = await startServer(config, { logger: pino({ level: 'silent' }), processExists: () => true });
    try {
      const url = `http://${address}:${running.port}`;
      const refused = open(url);
      await until(refused, (c) => c.connection.status === 'disconnected', 'refused');
      assert.match(screen()[23]!, /the server answered 401: requests from .* need "Authorization: Bearer/);
      refused.stop();
      const token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
      const ok = open(url, token);
      await until(ok, (c) => c.connection.status === 'live', 'live with the token');
      assert.match(screen()[0]!, new RegExp(`${address!.replace(/\./g, '\\.')}:${running.port} {2}● live`));
    } finally {
      dash?.stop();
      dash = null;
      await running.close();
    }
  });
});
