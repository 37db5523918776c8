// The dashboard through a relay, every part real: the relay's server in this process on a
// loopback port with its own SQLite file, a real token-api server connected out to it, and the
// real dashboard on a blessed screen drawn on fake terminal streams, built by `token-api tui`'s
// own option handling (--relay, --room, --token-file). It shows an instance registered at home,
// its mode change reaches home, a read-only token's write shows the relay's 403, the relay and
// the home server going away are said and recovered from (resuming with since=), and a revoked
// token and a pairing the home server does not know are shown as refused and not retried until r. The dashboard's timers run on a FakeClock.
process.env.TZ = 'UTC';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import pino from 'pino';
import { relayTransport } from '../src/cli/tui-relay.js';
import { relayWay, tuiCommand } from '../src/cli/tui.js';
import { systemClock } from '../src/lib/clock.js';
import { startRelay, type RunningRelay } from '../src/relay/server.js';
import { openRelayStore, type RelayStore } from '../src/relay/store.js';
import { startDashboard, type Dashboard } from '../src/tui/dashboard.js';
import type { DashboardContext } from '../src/tui/store.js';
import { FakeClock } from './support/clock.js';
import { startFeedServer, type FeedServer } from './support/feed.js';
import { runCli } from './support/process.js';
import { hookPayload, tempHome } from './support/system.js';
import { fakeTerminal, type FakeTerminal } from './support/tui.js';

const QUIET = { notifications: { speech: { engine: 'none' as const }, sound: { player: 'none' as const } } };
const logger = pino({ level: 'silent' });

/** Resolves once the dashboard's store satisfies `pred`; `drive` moves its clock meanwhile (its reconnection delays). */
function until(d: Dashboard, pred: (c: DashboardContext) => boolean, what: string, drive?: FakeClock): Promise<void> {
  return new Promise((resolve, reject) => {
    const pump = drive ? setInterval(() => drive.advance(1000), 25) : undefined;
    const done = (err?: Error) => {
      clearTimeout(timer);
      clearInterval(pump);
      sub.unsubscribe();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => done(new Error(`the dashboard never showed: ${what}; it has ${JSON.stringify(d.store.getSnapshot().context.connection)}`)), 30_000);
    const sub = d.store.subscribe((s) => pred(s.context) && done());
    if (pred(d.store.getSnapshot().context)) done();
  });
}

async function eventually<T>(f: () => Promise<T> | T, ok: (v: T) => boolean): Promise<T> {
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the dashboard through a relay', () => {
  const dir = tempHome('token-api-tui-relay-');
  const relayHome = join(dir.dir, 'relay');
  const serverHome = join(dir.dir, 'server');
  let store: RelayStore;
  let relay: RunningRelay;
  let server: FeedServer | null = null;
  let serverKey = '';
  const tokenFiles: Record<string, string> = {};
  const tokenIds: Record<string, string> = {};
  let dash: Dashboard | null = null;
  let term: FakeTerminal;
  let clock: FakeClock;

  const startHome = async () => {
    writeFileSync(join(serverHome, 'relay-key'), `${serverKey}\n`, { mode: 0o600 });
    server = await startFeedServer(serverHome, { ...QUIET, relay: { url: relay.url, room: 'home' } });
    await eventually(() => relay.stats().servers, (n) => n === 1);
  };
  const startTheRelay = async (port = 0) => {
    relay = await startRelay({ store, clock: systemClock, logger, limits: { revocationPollMs: 100 } }, { port, host: '127.0.0.1' });
  };

  before(async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(relayHome, { recursive: true });
    mkdirSync(serverHome, { recursive: true });
    store = await openRelayStore({ home: relayHome, clock: systemClock });
    serverKey = (await store.addRoom('home'))!.serverKey;
    for (const [name, role] of [['admin', 'admin'], ['reader', 'read-only'], ['doomed', 'admin']] as const) {
      const t = await store.addToken({ room: 'home', name, role, expiresInMs: null });
      tokenIds[name] = t.id;
      tokenFiles[name] = join(dir.dir, `${name}.token`);
      writeFileSync(tokenFiles[name], `${t.token}\n`, { mode: 0o600 });
    }
    await startTheRelay();
    await startHome();
  });

  afterEach(() => {
    dash?.stop();
    dash = null;
  });

  after(async () => {
    await server?.close();
    await relay.close();
    await store.close();
    dir.cleanup();
  });

  /** The dashboard as `token-api tui --relay URL --room home --token-file FILE` builds it. */
  function open(who: string): Dashboard {
    const transport = relayWay({ relay: relay.url, room: 'home', 'token-file': tokenFiles[who] });
    assert.ok(transport, 'a relay transport');
    clock = new FakeClock(Date.now());
    term = fakeTerminal(80, 24);
    dash = startDashboard({ transport, clock, input: term.input, output: term.output, retryDelaysMs: [1000, 2000] });
    return dash;
  }
  const screen = () => {
    dash!.screen.paintNow();
    return dash!.screen.rows();
  };
  const typed = () => new Promise<void>((r) => setImmediate(r));

  it('shows the instances registered at home, says it goes through the relay, and its mode change reaches home', async () => {
    await server!.post('/api/hooks', hookPayload('relayed', 'SessionStart', { source: 'startup' }));
    const d = open('admin');
    await until(d, (c) => c.connection.status === 'live' && 'claude-relayed' in c.instances, 'the home instance, live');
    assert.match(screen()[0]!, /^ TOKEN-API {2}home via relay {2}● live {2}/);
    assert.match(screen()[3]!, /^● Claude #1 +desktop +token-api +idle/);

    term.type('m3');
    await typed();
    term.type('3');
    await until(d, (c) => c.mode?.mode === 'break', 'the mode, back over the relayed feed');
    const mode = (await server!.get('/api/mode')).body;
    assert.equal(mode.mode, 'break');
    assert.ok(mode.remaining_s > 29 * 60, `a 30-minute timer: ${mode.remaining_s} s`);
    await until(d, (c) => c.notice?.text === 'mode set to break for 30 min', 'the notice');
    // The help says where it goes, and that the relay can read it.
    term.type('?');
    await typed();
    assert.match(screen().join('\n'), /Through the relay 127\.0\.0\.1:\d+, room home:/);
    assert.match(screen().join('\n'), /not end-to-end encrypted/);
  });

  it("a read-only token's writes show the relay's refusal in the footer, and change nothing at home", async () => {
    const before = (await server!.get('/api/mode')).body;
    const d = open('reader');
    await until(d, (c) => c.connection.status === 'live', 'live');
    term.type('f');
    await until(d, (c) => c.notice?.kind === 'error', 'the refusal');
    assert.equal(d.store.getSnapshot().context.notice?.text, 'could not change focus: 403: a read-only token may only read (GET, HEAD); POST needs an admin token');
    assert.match(screen()[23]!, /could not change focus: 403: a read-only token may only read/);
    assert.equal((await server!.get('/api/mode')).body.focus, before.focus);
    await store.flushAudit();
    const refused = (await store.recentAudit('home', 100)).filter((a) => a.what === 'refused' && a.client === tokenIds.reader);
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!.path, '/api/state');
  });

  it('says when the relay and when the home server go away, and comes back by itself, resuming the feed with since=', async () => {
    const d = open('admin');
    await until(d, (c) => c.connection.status === 'live' && c.seq !== null, 'live');

    // The relay stops; a change is made at home meanwhile.
    const port = relay.port;
    await relay.close();
    await until(d, (c) => c.connection.status === 'disconnected', 'disconnected');
    assert.match(screen()[0]!, /○ disconnected, retrying in 1s/);
    assert.match(screen()[23]!, /the relay is stopping|the connection to the relay was lost/);
    await server!.post('/api/hooks', hookPayload('while-away', 'SessionStart', { source: 'startup' }));
    clock.advance(1000);
    await until(d, (c) => c.connection.status === 'disconnected' && c.connection.attempt === 2, 'a refused attempt');
    assert.match(screen()[23]!, /cannot reach the relay at http:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED/);

    await startTheRelay(port);
    await eventually(() => relay.stats().servers, (n) => n === 1);
    await until(d, (c) => c.connection.status === 'live' && 'claude-while-away' in c.instances, 'live again with the change made while away', clock);
    await store.flushAudit();
    const opened = (await store.recentAudit('home', 1000)).filter((a) => a.what === 'stream_opened' && a.client === tokenIds.admin).map((a) => a.path);
    assert.match(opened[0]!, /^\/ws\?since=\d+$/, `the newest stream resumed: ${JSON.stringify(opened)}`);

    // The home server goes away; the relay stays.
    await server!.close();
    server = null;
    await until(d, (c) => c.connection.status === 'disconnected', 'disconnected from home');
    assert.match(screen()[23]!, /the server closed the connection: server stopping|the home server disconnected from the relay/);
    clock.advance(1000);
    await until(d, (c) => c.connection.status === 'disconnected' && c.connection.attempt === 2, 'home still away');
    assert.match(screen()[23]!, /the home server is not connected to the relay/);
    await startHome();
    await until(d, (c) => c.connection.status === 'live', 'live once home is back', clock);
    assert.match(screen()[0]!, /● live/);
  });

  it('a revoked token is shown as refused and not tried again until r', async () => {
    const d = open('doomed');
    await until(d, (c) => c.connection.status === 'live', 'live');
    assert.ok(await store.revokeToken(tokenIds.doomed!));
    await until(d, (c) => c.connection.status === 'refused', 'refused');
    let rows = screen();
    assert.match(rows[0]!, /○ refused, r retries/);
    assert.match(rows[23]!, /the relay cut this client off: token revoked/);
    await store.flushAudit();
    const attempts = async () => (await store.recentAudit('home', 1000)).filter((a) => a.client === tokenIds.doomed && a.what === 'client_connected').length;
    const attemptsBefore = await attempts();
    // A minute passes on the dashboard's clock: no attempt.
    for (let i = 0; i < 60; i++) clock.advance(1000);
    await new Promise((r) => setImmediate(r));
    assert.equal(d.store.getSnapshot().context.connection.status, 'refused');
    await store.flushAudit();
    assert.equal(await attempts(), attemptsBefore);
    // r: one attempt, refused by the relay at the handshake, and said so.
    term.type('r');
    await until(d, (c) => c.connection.status === 'refused' && /401/.test(c.connection.reason), 'refused at the handshake');
    clock.advance(5000); // the "refreshing…" notice passes
    rows = screen();
    assert.match(rows[23]!, /the relay refused the connection \(401\): revoked client token/);
  });

  it('a pairing the home server does not know is shown as refused and not tried again until r', async () => {
    const token = readFileSync(tokenFiles.admin!, 'utf8').trim();
    const transport = relayTransport({
      options: async () => ({ url: relay.url, room: 'home', token, pairing: { id: '0123456789abcdef', psk: randomBytes(32).toString('base64url') } }),
      url: relay.url,
      room: 'home',
      e2e: true,
    });
    clock = new FakeClock(Date.now());
    term = fakeTerminal(80, 24);
    const d = (dash = startDashboard({ transport, clock, input: term.input, output: term.output, retryDelaysMs: [1000, 2000] }));
    await until(d, (c) => c.connection.status === 'refused', 'refused');
    assert.match(screen()[0]!, /○ refused, r retries/);
    assert.match(screen()[23]!, /the server refused the encrypted session: unknown pairing: pair again/);
    const connection = d.store.getSnapshot().context.connection;
    assert.match(connection.status === 'refused' ? connection.reason : '', /unknown pairing: pair again with token-api relay pair$/);
    await store.flushAudit();
    const attempts = async () => (await store.recentAudit('home', 1000)).filter((a) => a.client === tokenIds.admin && a.what === 'client_connected').length;
    const attemptsBefore = await attempts();
    for (let i = 0; i < 60; i++) clock.advance(1000);
    await new Promise((r) => setImmediate(r));
    assert.equal(d.store.getSnapshot().context.connection.status, 'refused');
    await store.flushAudit();
    assert.equal(await attempts(), attemptsBefore, 'no attempt while refused');
    term.type('r');
    await eventually(attempts, (n) => n === attemptsBefore + 1);
    await until(d, (c) => c.connection.status === 'refused', 'refused again');
  });

  it('token-api tui explains options that do not go together, in a line', async () => {
    const cases: [string[], RegExp][] = [
      [['tui', '--room', 'home'], /^token-api tui: --room goes with --relay URL \(or --pairing-file FILE\)/],
      [['tui', '--relay', 'https://r.example', '--room', 'home', '--url', 'http://127.0.0.1:7777'], /--url and --relay are two ways to the server: give one/],
      [['tui', '--relay', 'https://r.example', '--room', 'home', '--token', 'x'], /through a relay the client token goes in \$TOKEN_API_RELAY_TOKEN or --token-file FILE/],
      [['tui', '--relay', 'https://r.example'], /give --pairing-file FILE, or --relay URL and --room NAME/],
      [['tui', '--relay', 'ftp://r.example', '--room', 'home', '--token-file', tokenFiles.admin!], /the relay's URL must be such as https:\/\/relay\.example\.net:7780, got "ftp:\/\/r\.example"/],
    ];
    for (const [args, said] of cases) {
      const r = await runCli(args, { TOKEN_API_RELAY_TOKEN: '' });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, said);
    }
    assert.match(tuiCommand.usage, /--relay URL/);
    assert.match(tuiCommand.usage, /--pairing-file FILE/);
  });
});
