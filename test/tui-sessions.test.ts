// The dashboard's managed sessions (key o), as a person uses them: the real `token-api serve`
// with a repository and the fake `claude` (test/support/fake-claude.mjs), and `token-api tui`
// in a real tmux session of 100x30, read back with `tmux capture-pane`. Start a session in the
// repository with a first prompt, read its output, send another prompt, cancel a long turn,
// stop it; then watch the open list follow a session started and stopped through the API.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { CLI, startServerProcess, type ServerProcess } from './support/process.js';
import { FAKE_CLAUDE, hasTmux } from './support/sessions.js';
import { tempHome } from './support/system.js';
import { openSessions } from '../src/tui/sessions-overlay.js';
import { applyMessage, createDashboardStore, initialContext, type DashboardContext } from '../src/tui/store.js';
import { fakeTerminal, knownSnapshot, message } from './support/tui.js';
import { startFeedServer, type FeedServer } from './support/feed.js';
import { FakeClock } from './support/clock.js';
import { startDashboard, type Dashboard } from '../src/tui/dashboard.js';
import { directTransport } from '../src/tui/direct-transport.js';
import type { FeedLink, Transport } from '../src/tui/transport.js';

const run = promisify(execFile);
const TSX = new URL('../node_modules/tsx/dist/esm/index.mjs', import.meta.url).href;

describe('managed sessions from the dashboard', { skip: hasTmux() ? false : 'tmux is not installed (.ci/run installs it)' }, () => {
  const home = tempHome('token-api-tui-sessions-');
  // The dashboard's own tmux server, apart from the one token-api runs terminal sessions in.
  const socket = join(home.dir, 'tui-tmux.sock');
  const tmux = (...args: string[]) => run('tmux', ['-S', socket, ...args]);
  let server: ServerProcess | undefined;

  after(async () => {
    await tmux('kill-server').catch(() => undefined);
    await server?.kill('SIGTERM');
    home.cleanup();
  });

  const screen = async () => (await tmux('capture-pane', '-p', '-t', 'tui')).stdout.split('\n');
  async function eventually(ok: (rows: string[]) => boolean, what: string): Promise<string[]> {
    let rows: string[] = [];
    for (let i = 0; i < 200; i++) {
      rows = await screen().catch(() => []);
      if (ok(rows)) return rows;
      await delay(50);
    }
    assert.fail(`the dashboard never showed ${what}; the screen was:\n${rows.join('\n')}`);
  }
  const has = (re: RegExp) => (rows: string[]) => rows.some((l) => re.test(l));
  const keys = (...k: string[]) => tmux('send-keys', '-t', 'tui', ...k);
  const sessions = async () => ((await (await fetch(`${server!.url}/api/sessions`)).json()) as { sessions: { id: string; state: string }[] }).sessions;

  async function stateIs(state: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if ((await sessions())[0]?.state === state) return;
      await delay(50);
    }
    assert.fail(`the session never was ${state}`);
  }

  it('starts a session, shows its output, sends a prompt, cancels and stops it', async () => {
    mkdirSync(join(home.dir, 'shop'));
    writeFileSync(
      join(home.dir, 'config.json'),
      JSON.stringify({ repos: [{ name: 'shop', path: join(home.dir, 'shop') }], sessions: { claude_bin: FAKE_CLAUDE }, notifications: { speech: { engine: 'none' }, sound: { player: 'none' } } }),
    );
    server = await startServerProcess(home.dir);
    await tmux('new-session', '-d', '-s', 'tui', '-x', '100', '-y', '30', `'${process.execPath}' --import '${TSX}' '${CLI}' tui --url ${server.url}; sleep 30`);
    await eventually(has(/● live/), 'the live header');

    await keys('o');
    await eventually(has(/no managed sessions yet: n starts one/), 'the empty sessions list');
    await keys('n');
    await eventually(has(/New session: repository/), 'the repository picker');
    await eventually(has(/shop/), 'the repository');
    await keys('Enter');
    await eventually(has(/first prompt in shop/), 'the prompt line');
    await keys('-l', 'hello dash');
    await keys('Enter');
    await eventually(has(/session started in shop/), 'the notice');
    const rows = await eventually(has(/shop .*claude\/headless +(busy|ready)/), 'the session in the list');
    assert.ok(rows.every((l) => l.length <= 100));

    await stateIs('ready');
    await keys('Enter');
    await eventually(has(/● echo: hello dash/), 'the output');
    // A prompt sent elsewhere while the output is open: its answer appears there, once.
    const id = (await sessions())[0]!.id;
    const sent = await fetch(`${server!.url}/api/sessions/${id}/send`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'while watching' }) });
    assert.equal(sent.status, 202);
    const watching = await eventually(has(/● echo: while watching/), 'the answer, live in the open output');
    assert.equal(watching.filter((l) => /● echo: while watching/.test(l)).length, 1);
    assert.equal(watching.filter((l) => /● echo: hello dash/.test(l)).length, 1, 'nothing shown twice');
    await stateIs('ready');
    await keys('Escape');
    // The next key only once the output is closed: a key sent right behind Escape can reach
    // blessed as one Alt chord under load.
    await eventually((rows) => !has(/esc or enter back/)(rows), 'the output closed');

    await keys('p');
    await eventually(has(/prompt for shop/), 'the prompt line');
    await keys('-l', 'SLOW 500');
    await keys('Enter');
    await stateIs('busy');
    await keys('c');
    await eventually(has(/turn cancelled/), 'the cancel notice');
    await stateIs('ready');

    await keys('x');
    await eventually(has(/claude\/headless +exited/), 'the stopped session');

    // Started, renamed and stopped elsewhere (the API, the phone): the open list follows the feed.
    const other = (await (await fetch(`${server!.url}/api/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ repo: 'shop', name: 'from elsewhere' }) })).json()) as { id: string };
    await eventually(has(/from elsewhere +shop +claude\/headless +ready/), 'the session started elsewhere');
    await fetch(`${server!.url}/api/sessions/${other.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'renamed elsewhere' }) });
    await eventually(has(/renamed elsewhere +shop +claude\/headless +ready/), 'its new name');
    await fetch(`${server!.url}/api/sessions/${other.id}`, { method: 'DELETE' });
    await eventually(has(/renamed elsewhere +shop +claude\/headless +exited/), 'it stopped');
  });
});

describe('the open output of a session, fed protocol messages', () => {
  const at = '2026-11-23T12:00:00.000Z';
  const said = (seq: number | null, text: string, session = 'ses-0123456789ab') =>
    message({ type: 'session_output', seq: 3000 + (seq ?? 0), at, session_id: session, output: { seq, at, kind: 'assistant', message: { type: 'assistant', message: { content: [{ type: 'text', text }] } } } });
  const shown = (c: DashboardContext) => (c.overlay?.kind === 'sessions' ? c.overlay.output : null);

  it('appends what comes after the last message shown, once; ignores other sessions and partial messages; says when it exits', () => {
    let ctx = applyMessage(initialContext('127.0.0.1:7777'), knownSnapshot());
    ctx = { ...ctx, overlay: { ...openSessions(), step: 'output', output: ['● one', '● two'], following: { id: 'ses-0123456789ab', after: 2 } } };
    ctx = applyMessage(ctx, said(2, 'two'));
    ctx = applyMessage(ctx, said(3, 'three'));
    // Followed again from 2 after a reconnection: 3 comes a second time, and is shown once.
    ctx = applyMessage(ctx, said(3, 'three'));
    ctx = applyMessage(ctx, said(null, 'thr'));
    ctx = applyMessage(ctx, said(4, 'elsewhere', 'ses-ba9876543210'));
    assert.deepEqual(shown(ctx), ['● one', '● two', '● three']);
    assert.deepEqual(ctx.overlay?.kind === 'sessions' ? ctx.overlay.following : null, { id: 'ses-0123456789ab', after: 3 });
    ctx = applyMessage(ctx, message({ type: 'session_exited', seq: 3100, at, session_id: 'ses-0123456789ab', exit: { reason: 'stopped', code: null } }));
    assert.deepEqual(shown(ctx), ['● one', '● two', '● three', '— the session exited (stopped)']);
    // Followed again (a reconnection): the session is told as not running, and that is not said twice.
    ctx = applyMessage(ctx, message({ type: 'session_exited', seq: 3101, at, session_id: 'ses-0123456789ab', exit: null }));
    assert.deepEqual(shown(ctx), ['● one', '● two', '● three', '— the session exited (stopped)']);
  });
});

describe('the sessions list, kept current by the feed', () => {
  const at = '2026-11-23T12:00:00.000Z';
  const item = (id: string, state: string, updated: string, name = id) => ({ id, name, repo: 'shop', agent: 'claude', kind: 'headless', state, updated_at: `2026-11-23T12:00:${updated}.000Z` });
  const changed = (seq: number, s: ReturnType<typeof item>) => message({ type: 'session_changed', seq, at, session: { ...s, created_at: at } });
  const store = () => {
    const st = createDashboardStore(initialContext('127.0.0.1:7777'));
    st.send({ type: 'feed', message: knownSnapshot() });
    return st;
  };
  const listed = (st: ReturnType<typeof store>) => {
    const o = st.getSnapshot().context.overlay;
    return o?.kind === 'sessions' ? o.sessions?.map((x) => `${x.id}:${x.state}`) : null;
  };

  it('a change that came while the list was being read, or a read older than the feed, never shows an old state', () => {
    const st = store();
    st.trigger.setSessionsOverlay({ overlay: openSessions() });
    // The list is loading; the feed says a turn ended.
    st.send({ type: 'feed', message: changed(5001, item('ses-a', 'ready', '05')) });
    // The read (begun before that turn ended) answers busy, and a session new since.
    st.trigger.setSessionsOverlay({ overlay: { ...openSessions(), sessions: [item('ses-a', 'busy', '03'), item('ses-b', 'ready', '04')] } });
    assert.deepEqual(listed(st), ['ses-a:ready', 'ses-b:ready']);
    // A session started elsewhere joins at the end; one renamed keeps its place.
    st.send({ type: 'feed', message: changed(5002, item('ses-c', 'starting', '06')) });
    st.send({ type: 'feed', message: changed(5003, item('ses-b', 'exited', '07')) });
    assert.deepEqual(listed(st), ['ses-a:ready', 'ses-b:exited', 'ses-c:starting']);
    // A cleanup forgets the exited ones.
    st.send({ type: 'feed', message: message({ type: 'event', seq: 5004, at, event: { type: 'session.cleaned_up', instance_id: null, device_id: null, details: { sessions: ['ses-b'], by: 'loopback' }, created_at: at } }) });
    assert.deepEqual(listed(st), ['ses-a:ready', 'ses-c:starting']);
    // After a snapshot the changes held are dropped; the list read again is taken as it is.
    st.send({ type: 'feed', message: knownSnapshot(6000) });
    st.trigger.sessionsRead({ sessions: [item('ses-a', 'busy', '09'), item('ses-c', 'ready', '08')] });
    assert.deepEqual(listed(st), ['ses-a:busy', 'ses-c:ready']);
  });
});

describe('the open output across a reconnection', () => {
  const home = tempHome('token-api-tui-sessions-cut-');
  let server: FeedServer;
  let dash: Dashboard | null = null;
  after(async () => {
    dash?.stop();
    await server?.close();
    home.cleanup();
  });

  it('is followed again from the last message shown once the feed is back, each message shown once', async () => {
    mkdirSync(join(home.dir, 'shop'));
    server = await startFeedServer(home.dir, { repos: [{ name: 'shop', path: join(home.dir, 'shop') }], sessions: { claude_bin: FAKE_CLAUDE }, notifications: { speech: { engine: 'none' }, sound: { player: 'none' } } });
    // The direct way to the server, with a hand on its feed links: what the dashboard sends, and a cut.
    const direct = directTransport({ baseUrl: server.url });
    const links: FeedLink[] = [];
    const sent: any[] = [];
    const transport: Transport = {
      ...direct,
      openFeed(query, h) {
        const link = direct.openFeed(query, h);
        const watched: FeedLink = { ...link, send: (text) => (sent.push(JSON.parse(text)), link.send(text)) };
        links.push(watched);
        return watched;
      },
    };
    const clock = new FakeClock(Date.now());
    const term = fakeTerminal(100, 30);
    dash = startDashboard({ transport, clock, input: term.input, output: term.output, retryDelaysMs: [200] });
    const d = dash;
    const ctx = () => d.store.getSnapshot().context;
    const output = () => {
      const o = ctx().overlay;
      return o?.kind === 'sessions' ? (o.output ?? []) : [];
    };
    const wait = async (ok: () => boolean, what: string) => {
      for (let i = 0; i < 400 && !ok(); i++) {
        clock.advance(100);
        await delay(25);
      }
      assert.ok(ok(), `never: ${what}; ${JSON.stringify(ctx().overlay)}`);
    };
    await wait(() => ctx().connection.status === 'live', 'live');
    const started = await server.post('/api/sessions', { repo: 'shop', prompt: 'before the cut' });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const id = started.body.id as string;
    term.type('o');
    await wait(() => { const o = ctx().overlay; return o?.kind === 'sessions' && (o.sessions?.length ?? 0) === 1; }, 'the list');
    term.type('\r');
    await wait(() => output().includes('● echo: before the cut'), 'the output');
    const subscribes = () => sent.filter((m) => m.type === 'subscribe_session' && m.session_id === id);
    await wait(() => subscribes().length === 1, 'followed');

    // The link drops; the dashboard comes back with since= (resumed) and follows the session again.
    links.at(-1)!.terminate('cut by the test');
    await wait(() => ctx().connection.status !== 'live', 'the drop seen');
    await wait(() => ctx().connection.status === 'live' && subscribes().length === 2, 'followed again');
    const after = subscribes()[1].after as number;
    assert.ok(after > 0, 'from the last message shown');
    assert.equal((await server.post(`/api/sessions/${id}/send`, { prompt: 'after the cut' })).status, 202);
    await wait(() => output().includes('● echo: after the cut'), 'the answer after the cut');
    assert.equal(output().filter((l) => l === '● echo: before the cut').length, 1);
    assert.equal(output().filter((l) => l === '● echo: after the cut').length, 1);
  });
});
