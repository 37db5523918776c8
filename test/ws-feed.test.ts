// The live feed over a real WebSocket on the real server wiring: the snapshot on connect,
// one message per committed change (and none for a change that failed to commit), resumes
// with ?since=, history, subscriptions, bad requests answered with an `error` while the
// connection stays up, refused upgrades that write nothing, the token rule beyond loopback,
// pings and dead clients, slow clients (a real socket that stops reading), and the close
// frame at shutdown. Timers run on a FakeClock; nothing sleeps.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import fc from 'fast-check';
import pino from 'pino';
import WebSocket from 'ws';
import type { ConfigFile } from '../src/config/config.js';
import type { ServerMessage } from '../src/protocol/feed.js';
import { startServer } from '../src/system/server.js';
import { FakeClock } from './support/clock.js';
import { assertConsecutive, connectFeed, startFeedServer, streamOf, type FeedServer, type TestFeedClient } from './support/feed.js';
import { startPhone, type Phone } from './support/phone.js';
import { rawConnect } from './support/raw-ws.js';
import { hookPayload, tempHome, testConfig } from './support/system.js';
import { databaseOf } from './support/sqlite.js';

const run = promisify(execFile);

const QUIET: ConfigFile = { notifications: { speech: { engine: 'none' }, sound: { player: 'none' } } };

describe('the live feed', () => {
  const homes: ReturnType<typeof tempHome>[] = [];
  const servers: FeedServer[] = [];
  const clients: TestFeedClient[] = [];
  let clock: FakeClock;

  async function start(file: ConfigFile = {}, c = new FakeClock()): Promise<FeedServer> {
    clock = c;
    const home = tempHome('token-api-feed-');
    homes.push(home);
    const s = await startFeedServer(home.dir, { ...QUIET, ...file }, { clock });
    servers.push(s);
    return s;
  }
  async function client(s: FeedServer, query = '', opts: WebSocket.ClientOptions = {}): Promise<TestFeedClient> {
    const c = await connectFeed(s.wsUrl + query, opts);
    clients.push(c);
    return c;
  }
  const hook = (s: FeedServer, session: string, name: string, extra: Record<string, unknown> = {}, query = '') => s.post(`/api/hooks${query}`, hookPayload(session, name, extra));

  afterEach(async () => {
    for (const c of clients.splice(0)) c.ws.terminate();
    for (const s of servers.splice(0)) await s.close();
    for (const h of homes.splice(0)) h.cleanup();
  });

  it('sends a snapshot on connect: instances, mode, gate and the last 50 events, newest first', async () => {
    const s = await start();
    await hook(s, 'a', 'SessionStart', { source: 'startup' });
    await hook(s, 'b', 'SessionStart', { source: 'startup', x_token_api_ssh_client: '100.102.92.24 5000 22' });
    for (let i = 0; i < 30; i++) {
      await hook(s, 'a', 'PreToolUse', { tool_name: `Tool${i}` });
      await hook(s, 'a', 'PostToolUse', { tool_name: `Tool${i}` });
    }
    await hook(s, 'a', 'PreToolUse', { tool_name: 'Bash' });
    const c = await client(s);
    const snap = await c.next('snapshot');
    assert.equal(c.messages[0]!.type, 'snapshot', 'the snapshot comes first');
    assert.deepEqual(
      snap.instances.map((i) => [i.id, i.state, i.current_tool, i.device_id]).sort(),
      [
        ['claude-a', 'working', 'Bash', 'desktop'],
        ['claude-b', 'idle', null, 'unknown'],
      ],
    );
    assert.equal(snap.mode?.mode, 'work_silence');
    assert.equal(snap.gate?.state, 'productive');
    assert.deepEqual(snap.gate?.working_instances, ['claude-a']);
    const log = await s.get('/api/events?limit=50');
    assert.equal(snap.events.length, 50);
    assert.deepEqual(
      snap.events,
      log.body.events.map((e: { id: number; type: string; instance_id: string | null; device_id: string | null; details: unknown; created_at: string }) => ({
        type: e.type,
        instance_id: e.instance_id,
        device_id: e.device_id,
        details: e.details,
        created_at: e.created_at,
      })),
      'the same events as the event log, newest first',
    );
    assert.equal(snap.server.service, 'token-api');
    assert.equal(streamOf(c.messages).length, 0);
  });

  it('then one message per committed change, in commit order with consecutive seqs, the same for every client', async () => {
    const s = await start();
    const a = await client(s);
    const b = await client(s);
    const snapA = await a.next('snapshot');
    const snapB = await b.next('snapshot');
    assert.equal(snapA.seq, snapB.seq);

    assert.equal((await hook(s, 'x', 'SessionStart', { source: 'startup' })).status, 200);
    await a.next('event', (m) => m.event.type === 'hook.session_start');
    assert.equal((await hook(s, 'x', 'PreToolUse', { tool_name: 'Bash' })).status, 200);
    const working = await a.next('instance', (m) => m.instance.state === 'working');
    assert.equal(working.instance.current_tool, 'Bash');
    assert.equal((await s.post('/api/mode', { mode: 'break', minutes: 10 })).status, 200);
    const mode = await a.next('mode');
    assert.equal(mode.mode.mode, 'break');
    assert.equal(mode.mode.deadline, new Date(clock.now() + 600_000).toISOString());
    await a.next('event', (m) => m.event.type === 'mode.changed');
    await b.next('event', (m) => m.event.type === 'mode.changed');

    const types = streamOf(a.messages).map((m) => (m.type === 'event' ? `event:${m.event.type}` : m.type === 'instance' ? `instance:${m.instance.state}` : m.type));
    assert.deepEqual(types, [
      'instance:idle',
      'event:instance.registered',
      'instance:idle',
      'event:hook.session_start',
      'instance:working',
      'gate',
      'event:hook.pre_tool_use',
      'event:gate.changed',
      'mode',
      'event:mode.changed',
    ]);
    assertConsecutive(a.messages, snapA.seq);
    assert.deepEqual(streamOf(b.messages), streamOf(a.messages), 'every client hears the same story');
    // Every message's picture is what SQLite holds.
    const row = await databaseOf(s.running.system).get<{ state: string; current_tool: string }>("SELECT state, current_tool FROM claude_instances WHERE id = 'claude-x'");
    assert.deepEqual(row, { state: 'working', current_tool: 'Bash' });
  });

  it("a snapshot's times are as of when it is sent", async () => {
    const s = await start();
    assert.equal((await s.post('/api/mode', { mode: 'break', minutes: 10 })).status, 200);
    const early = await client(s);
    assert.equal((await early.next('snapshot')).mode?.remaining_s, 600);
    clock.advance(240_000);
    const later = await client(s);
    const snap = await later.next('snapshot');
    assert.equal(snap.mode?.remaining_s, 360);
    assert.equal(snap.mode?.deadline, new Date(clock.now() + 360_000).toISOString());
  });

  it('broadcasts only what is committed: a change whose write fails sends nothing', async () => {
    const s = await start();
    await hook(s, 'w', 'SessionStart', { source: 'startup' });
    const c = await client(s);
    const snap = await c.next('snapshot');
    const db = databaseOf(s.running.system);
    await db.exec('ALTER TABLE events RENAME TO events_away');
    const failed = await hook(s, 'w', 'PreToolUse', { tool_name: 'Bash' });
    assert.equal(failed.status, 503);
    await db.exec('ALTER TABLE events_away RENAME TO events');
    assert.equal((await hook(s, 'w', 'UserPromptSubmit')).status, 200);
    await c.next('event', (m) => m.event.type === 'hook.user_prompt_submit');
    const stream = streamOf(c.messages);
    assert.ok(!stream.some((m) => m.type === 'event' && m.event.type === 'hook.pre_tool_use'), 'the failed event was never announced');
    assert.ok(!stream.some((m) => m.type === 'instance' && m.instance.current_tool === 'Bash'));
    assertConsecutive(c.messages, snap.seq);
  });

  it('announces notifications (created, then each delivery) and token usage', async () => {
    const phone: Phone = await startPhone();
    try {
      const s = await start({
        devices: [{ id: 'pixel-phone', type: 'mobile', tailscale_ip: '100.102.92.24', notification_method: 'webhook', webhook_url: phone.url }],
        notifications: { coalesce_seconds: 0, speech: { engine: 'none' }, sound: { player: 'none' } },
      });
      const c = await client(s);
      await c.next('snapshot');
      const ssh = '?ssh_client=100.102.92.24%2051000%2022';
      await hook(s, 'p', 'SessionStart', { source: 'startup' }, ssh);
      await hook(s, 'p', 'UserPromptSubmit', {}, ssh);
      await hook(s, 'p', 'Stop', {}, ssh);
      const created = await c.next('notification', (m) => m.change === 'created');
      assert.equal(created.notification.device, 'pixel-phone');
      assert.equal(created.notification.instance, 'claude-p');
      const delivered = await c.next('notification', (m) => m.change === 'delivery' && m.delivery?.status === 'delivered');
      assert.equal(delivered.delivery?.channel, 'webhook');
      assert.equal(delivered.notification.id, created.notification.id);
      assert.equal(phone.received.length, 1);

      const record = { key: 'msg_1:req_1', source: 'claude', session_id: 'laptop-s', model: 'claude-opus-4-1', timestamp: new Date(clock.now() - 3_600_000).toISOString(), input_tokens: 100, output_tokens: 1000, cache_creation_tokens: 0, cache_read_tokens: 5000 };
      assert.equal((await s.post('/api/usage/laptop', { records: [record] })).status, 200);
      const usage = await c.next('token_usage_update');
      assert.equal(usage.device_id, 'laptop');
      assert.equal(usage.instance_id, null);
      assert.equal(usage.added.total_tokens, 6100);
      assert.equal(usage.device_today.total_tokens, 6100);
      assert.equal(usage.device_today.day, '2026-11-23');
      // A new connection's snapshot includes today's usage per device.
      const d = await client(s);
      const snap = await d.next('snapshot');
      assert.equal(snap.usage.today.devices.laptop?.total_tokens, 6100);
      assert.equal(snap.usage.today.day, '2026-11-23');
    } finally {
      await phone.down();
    }
  });

  it('?since=<seq> replays exactly what was missed, then says so; a seq too old, of another run, or from the future gets a snapshot', async () => {
    const s = await start({ websocket: { history: 20 } });
    const stays = await client(s);
    const leaves = await client(s);
    const snap = await leaves.next('snapshot');
    await stays.next('snapshot');
    await leaves.close();
    await hook(s, 'r', 'SessionStart', { source: 'startup' });
    await hook(s, 'r', 'PreToolUse', { tool_name: 'Read' });
    await stays.next('event', (m) => m.event.type === 'hook.pre_tool_use');
    const missed = streamOf(stays.messages);

    const back = await client(s, `?since=${snap.seq}`);
    const resumed = await back.next('resumed');
    assert.equal(resumed.since, snap.seq);
    assert.equal(resumed.replayed, missed.length);
    assert.equal(back.ofType('snapshot').length, 0, 'no snapshot on a resume');
    assert.deepEqual(streamOf(back.messages), missed);

    // Nothing missed: an empty replay.
    const head = missed.at(-1)!.seq;
    const upToDate = await client(s, `?since=${head}`);
    assert.equal((await upToDate.next('resumed')).replayed, 0);

    // More than the ring holds (20 messages) since then: a fresh snapshot instead.
    for (let i = 0; i < 12; i++) await hook(s, 'r', i % 2 ? 'PostToolUse' : 'PreToolUse', { tool_name: 'Read' });
    const late = await client(s, `?since=${snap.seq}`);
    const fresh = await late.next('snapshot');
    assert.equal(late.messages[0]!.type, 'snapshot');
    assert.ok(fresh.seq > head);
    assert.equal(late.ofType('resumed').length, 0);

    const future = await client(s, `?since=${fresh.seq + 1000}`);
    assert.equal((await future.next('snapshot')).seq, fresh.seq);
  });

  it('a seq from before a restart gets a fresh snapshot, never the new run\'s messages', async () => {
    const home = tempHome('token-api-feed-restart-');
    homes.push(home);
    const first = await startFeedServer(home.dir, QUIET, { clock: new FakeClock() });
    const c = await connectFeed(first.wsUrl);
    clients.push(c);
    await first.post('/api/hooks', hookPayload('q', 'SessionStart', { source: 'startup' }));
    const seen = await c.next('event', (m) => m.event.type === 'hook.session_start');
    await first.close();
    const later = new FakeClock(Date.UTC(2026, 10, 23, 12, 5));
    const second = await startFeedServer(home.dir, QUIET, { clock: later });
    servers.push(second);
    for (let i = 0; i < 5; i++) await second.post('/api/hooks', hookPayload('q', 'PreToolUse', { tool_name: 'Grep' }));
    const again = await client(second, `?since=${seen.seq}`);
    const snap = await again.next('snapshot');
    assert.ok(snap.seq > seen.seq, 'seqs keep growing across runs');
    assert.equal(snap.instances.find((i) => i.id === 'claude-q')?.state, 'working');
  });

  it('get_history pages back through held messages; subscribe narrows the stream, and widening it sends a fresh snapshot', async () => {
    const s = await start({ websocket: { history: 6 } });
    const c = await client(s);
    await c.next('snapshot');
    await hook(s, 'h', 'SessionStart', { source: 'startup' });
    await c.next('event', (m) => m.event.type === 'hook.session_start');
    const stream = streamOf(c.messages);
    assert.equal(stream.length, 4);
    const head = stream.at(-1)!.seq;

    c.send({ type: 'get_history', id: 'h1', before: head + 1, limit: 3 });
    const page1 = await c.next('history', (m) => m.id === 'h1');
    assert.deepEqual(page1.messages, stream.slice(1), 'the newest 3, oldest first');
    assert.equal(page1.more, true);
    assert.equal(page1.truncated, false);
    c.send({ type: 'get_history', id: 'h2', before: page1.messages[0]!.seq, limit: 3 });
    const page2 = await c.next('history', (m) => m.id === 'h2');
    assert.deepEqual(page2.messages, stream.slice(0, 1));
    assert.deepEqual([page2.more, page2.truncated], [false, false]);

    // Past the ring's capacity, older messages are gone: the answer says so.
    await hook(s, 'h', 'PreToolUse', { tool_name: 'Bash' });
    await c.next('event', (m) => m.event.type === 'gate.changed');
    c.send({ type: 'get_history', id: 'h3', before: head + 100, limit: 100 });
    const page3 = await c.next('history', (m) => m.id === 'h3');
    assert.equal(page3.messages.length, 6);
    assert.deepEqual([page3.more, page3.truncated], [false, true]);

    c.send({ type: 'subscribe', id: 's1', types: ['mode'] });
    assert.deepEqual((await c.next('subscribed', (m) => m.id === 's1')).types, ['mode']);
    const from = c.messages.length;
    await hook(s, 'h', 'PostToolUse', { tool_name: 'Bash' });
    await s.post('/api/mode', { mode: 'off' });
    await c.next('mode');
    assert.deepEqual(streamOf(c.messages.slice(from)).map((m) => m.type), ['mode'], 'only the subscribed type');
    c.send({ type: 'subscribe', id: 's2', types: ['mode', 'instance'] });
    await c.next('subscribed', (m) => m.id === 's2');
    await c.next('snapshot', () => c.ofType('snapshot').length === 2);
    assert.equal(c.ofType('snapshot', from).length, 1, 'one fresh snapshot for the added type');

    // ?types= subscribes from the start.
    const only = await client(s, '?types=event');
    await only.next('snapshot');
    await hook(s, 'h', 'Stop');
    await only.next('event', (m) => m.event.type === 'hook.stop');
    assert.deepEqual([...new Set(streamOf(only.messages).map((m) => m.type))], ['event']);
  });

  it('answers bad requests with an error message and keeps the connection', async () => {
    const s = await start();
    const c = await client(s);
    await c.next('snapshot');
    const cases: [unknown, string, string?][] = [
      ['not json', 'invalid_json'],
      [[1, 2], 'unknown_type'],
      [{ type: 'launch' }, 'unknown_type', 'type'],
      [{ no: 'type' }, 'unknown_type', 'type'],
      [{ type: 'get_history', before: -1 }, 'validation_failed', 'before'],
      [{ type: 'get_history', before: 10, limit: 100_000 }, 'validation_failed', 'limit'],
      [{ type: 'subscribe', types: ['everything'] }, 'validation_failed', 'types.0'],
      [{ type: 'subscribe', types: [] }, 'validation_failed', 'types'],
      [{ type: 'ping', extra: true }, 'validation_failed', 'extra'],
      [{ type: 'ping', id: 7 }, 'validation_failed', 'id'],
    ];
    for (const [body, code, field] of cases) {
      const before = c.ofType('error').length;
      c.send(typeof body === 'string' ? body : JSON.stringify(body));
      await c.next('error', () => c.ofType('error').length > before);
      const err = c.ofType('error').at(-1)!;
      assert.equal(err.error, code, JSON.stringify(body));
      assert.equal(typeof err.message, 'string');
      if (field) assert.ok(field in (err.fields ?? {}), `${JSON.stringify(body)} names ${field}: ${JSON.stringify(err)}`);
    }
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await c.next('error', (m) => m.error === 'binary_not_accepted');

    // Whatever arrives, the answer is an error or a reply, and the server stays up.
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.json(), fc.string(), fc.record({ type: fc.constantFrom('ping', 'get_history', 'subscribe', 'get_snapshot'), before: fc.anything(), limit: fc.anything(), types: fc.anything() })), async (v) => {
        const n = c.messages.length;
        c.send(typeof v === 'string' ? v : JSON.stringify(v));
        c.send({ type: 'ping', id: `after-${n}` });
        await c.next('pong', (m) => m.id === `after-${n}`);
      }),
      { numRuns: 150 },
    );
    assert.equal(c.ws.readyState, WebSocket.OPEN);
    c.send({ type: 'ping', id: 'still-here' });
    assert.equal((await c.next('pong', (m) => m.id === 'still-here')).id, 'still-here');
  });

  it('refuses a bad upgrade in the error shape, writing nothing, and says how to reach the feed over plain HTTP', async () => {
    const s = await start({ websocket: { max_clients: 2 } });
    await hook(s, 'u', 'SessionStart', { source: 'startup' });
    const counts = await s.counts();
    const refused = async (query: string, path = '/ws') => {
      const err = await connectFeed(`${s.wsUrl.replace(/\/ws$/, path)}${query}`).then(
        () => assert.fail(`${path}${query} was accepted`),
        (e: Error & { status: number; body: { error: string; message: string; fields?: Record<string, string> } }) => e,
      );
      return err;
    };
    const cases: [string, string, number, string, string?][] = [
      ['', '/feed', 404, 'not_found'],
      ['?since=abc', '/ws', 400, 'validation_failed', 'since'],
      ['?since=-1', '/ws', 400, 'validation_failed', 'since'],
      ['?types=instance,nope', '/ws', 400, 'validation_failed', 'types.1'],
      ['?since=1&since=2', '/ws', 400, 'validation_failed'],
      ['?token=x', '/ws', 400, 'validation_failed', 'token'],
      ['?since=%zz', '/ws', 400, 'validation_failed'],
    ];
    for (const [query, path, status, code, field] of cases) {
      const e = await refused(query, path);
      assert.equal(e.status, status, `${path}${query}`);
      assert.equal(e.body.error, code);
      assert.equal(typeof e.body.message, 'string');
      if (field) assert.ok(field in (e.body.fields ?? {}), `${path}${query}: ${JSON.stringify(e.body)}`);
    }
    await client(s);
    await client(s);
    const full = await refused('');
    assert.equal(full.status, 503);
    assert.match(full.body.message, /maximum of 2 clients/);
    assert.deepEqual(await s.counts(), counts, 'nothing written');

    const plainGet = await s.get('/ws');
    assert.equal(plainGet.status, 426);
    assert.equal(plainGet.body.error, 'upgrade_required');
    assert.match(plainGet.body.message, /WebSocket/);

    // Handshakes ws would refuse in its own words are refused in the API's shape.
    const handshake = async (headers: string) => {
      const socket = connect(s.port, '127.0.0.1');
      socket.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${headers}\r\n`);
      let text = '';
      for await (const d of socket) text += d;
      const [head = '', body = ''] = text.split('\r\n\r\n');
      return { status: Number(head.split(' ')[1]), head, body: JSON.parse(body) };
    };
    const noKey = await handshake('Sec-WebSocket-Version: 13\r\n');
    assert.equal(noKey.status, 400);
    assert.equal(noKey.body.error, 'bad_request');
    const oldVersion = await handshake('Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 12\r\n');
    assert.equal(oldVersion.status, 426);
    assert.match(oldVersion.head, /Sec-WebSocket-Version: 13/);

    // Other upgrades (curl --http2 asks for h2c) stay the plain requests they are.
    const h2c = await run('curl', ['-sS', '-q', '--noproxy', '*', '--http2', '-w', '\n%{http_code}', `${s.url}/api/mode`]);
    const [answer, code] = h2c.stdout.split('\n');
    assert.equal(code, '200');
    assert.equal(JSON.parse(answer!).mode, 'work_silence');
    const h2cPost = await run('curl', ['-sS', '-q', '--noproxy', '*', '--http2', '-w', '\n%{http_code}', '-H', 'content-type: application/json', '-d', '{"mode":"break"}', `${s.url}/api/mode`]);
    assert.equal(h2cPost.stdout.split('\n')[1], '400');
    assert.equal(JSON.parse(h2cPost.stdout.split('\n')[0]!).error, 'bad_request');
    assert.deepEqual(await s.counts(), counts, 'still nothing written');
  });

  it('applies the token rule beyond loopback to the upgrade', async () => {
    const home = tempHome('token-api-feed-auth-');
    homes.push(home);
    const peer = (req: { headers: Record<string, string | string[] | undefined>; socket: { remoteAddress?: string } }) => (req.headers['x-test-peer'] as string | undefined) ?? req.socket.remoteAddress;
    const s = await startFeedServer(home.dir, QUIET, { clock: new FakeClock(), peerAddress: peer });
    servers.push(s);
    const token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
    const counts = await s.counts();
    const attempts: Record<string, string>[] = [{ 'x-test-peer': '192.168.1.20' }, { 'x-test-peer': '100.102.92.24' }, { 'x-test-peer': '192.168.1.20', authorization: `Bearer ${token}x` }];
    for (const headers of attempts) {
      const e = await connectFeed(s.wsUrl, { headers }).then(
        () => assert.fail(`accepted ${JSON.stringify(headers)}`),
        (err: Error & { status: number; body: { error: string; message: string }; headers: Record<string, string> }) => err,
      );
      assert.equal(e.status, 401);
      assert.equal(e.body.error, 'unauthorized');
      assert.match(e.body.message, /token-api token/);
      assert.equal(e.headers['www-authenticate'], 'Bearer realm="token-api"');
    }
    assert.deepEqual(await s.counts(), counts);
    const ok = await connectFeed(s.wsUrl, { headers: { 'x-test-peer': '192.168.1.20', authorization: `Bearer ${token}` } });
    clients.push(ok);
    assert.equal((await ok.next('snapshot')).type, 'snapshot');
    const local = await client(s);
    await local.next('snapshot');
  });

  const address = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  it('needs the token from a real non-loopback address', { skip: address ? false : 'this machine has no non-loopback IPv4 address' }, async () => {
    const home = tempHome('token-api-feed-net-');
    homes.push(home);
    const config = { ...testConfig(home.dir, QUIET), host: '0.0.0.0', port: 0 };
    const running = await startServer(config, { logger: pino({ level: 'silent' }), processExists: () => true });
    try {
      const url = `ws://${address}:${running.port}/ws`;
      const e = await connectFeed(url).then(
        () => assert.fail('accepted without a token'),
        (err: Error & { status: number }) => err,
      );
      assert.equal(e.status, 401);
      const token = readFileSync(config.tokenFile, 'utf8').trim();
      const c = await connectFeed(url, { headers: { authorization: `Bearer ${token}` } });
      assert.equal((await c.next('snapshot')).type, 'snapshot');
      await c.close();
    } finally {
      await running.close();
    }
  });

  it('pings idle clients and drops those that stop answering, on the injected clock', async () => {
    const s = await start({ websocket: { ping_seconds: 5 } });
    const alive = await client(s);
    const deaf = await client(s, '', { autoPong: false });
    await alive.next('snapshot');
    await deaf.next('snapshot');
    let pinged = 0;
    alive.ws.on('ping', () => (pinged += 1));
    const roundTrip = async (c: TestFeedClient, id: string) => {
      c.send({ type: 'ping', id });
      await c.next('pong', (m) => m.id === id);
    };
    // The feed's figures, as GET /health reports them.
    const feed = { stats: async () => (await s.get('/health')).body.websocket as { clients: number; lagging: number; dropped_dead: number; dropped_slow: number; buffered_bytes: number } };
    // First tick: both were heard (they just connected). Second: both idle, so both pinged.
    clock.advance(5000);
    clock.advance(5000);
    await new Promise<void>((r) => alive.ws.once('ping', () => r()));
    // The pong (sent on the ping's arrival) reaches the server before this request does.
    await roundTrip(alive, 'r1');
    assert.equal(pinged, 1);
    // Third tick: the deaf client never answered; it is dropped, the other is not.
    clock.advance(5000);
    const gone = await deaf.closed;
    assert.equal(gone.code, 1006);
    assert.equal((await feed.stats()).clients, 1);
    assert.equal((await feed.stats()).dropped_dead, 1);
    await roundTrip(alive, 'r2');
    // A client that keeps talking is not pinged at all.
    for (let i = 0; i < 4; i++) {
      clock.advance(5000);
      await roundTrip(alive, `t${i}`);
    }
    assert.equal(alive.ws.readyState, WebSocket.OPEN);
    assert.equal(pinged, 1);
  });

  it('a slow client never holds up the server or other clients: it gets a fresh snapshot when it catches up, or is dropped', async () => {
    const big = 100 * 1024;
    const s = await start({ event_details_max_bytes: 150 * 1024, websocket: { max_buffered_bytes: 32 * 1024, event_details_max_bytes: 150 * 1024, ping_seconds: 5, slow_client_seconds: 10 } });
    // The feed's figures, as GET /health reports them.
    const feed = { stats: async () => (await s.get('/health')).body.websocket as { clients: number; lagging: number; dropped_dead: number; dropped_slow: number; buffered_bytes: number } };
    const fast = await client(s);
    const fastSnap = await fast.next('snapshot');
    const slow = await rawConnect(s.port);
    await slow.until((f) => f.opcode === 1);
    slow.pause();
    const stuck = await rawConnect(s.port);
    await stuck.until((f) => f.opcode === 1);
    stuck.pause();

    await hook(s, 'z', 'SessionStart', { source: 'startup' });
    const output = 'x'.repeat(big);
    let posted = 0;
    while ((await feed.stats()).lagging < 2 && posted < 400) {
      const r = await hook(s, 'z', 'PostToolUse', { tool_name: 'Read', tool_response: { output } });
      assert.equal(r.status, 200);
      posted += 1;
      // Let the fan-out of this message happen before looking again.
      await new Promise<void>((r2) => setImmediate(r2));
    }
    assert.equal((await feed.stats()).lagging, 2, `both paused clients fell behind (after ${posted} large events)`);
    // The fast client got every message, in order.
    await fast.next('event', () => fast.ofType('event').filter((m) => m.event.type === 'hook.post_tool_use').length === posted);
    assertConsecutive(fast.messages, fastSnap.seq);

    // The slow one reads again: what it had buffered, then a fresh snapshot, then live messages.
    slow.resume();
    await slow.until((f) => f.opcode === 1 && JSON.parse(f.payload.toString()).type === 'snapshot' && slow.texts().filter((t) => t.type === 'snapshot').length === 2);
    await hook(s, 'z', 'Stop');
    await slow.until((f) => f.opcode === 1 && JSON.parse(f.payload.toString()).type === 'event' && JSON.parse(f.payload.toString()).event.type === 'hook.stop');
    const got = slow.texts() as ServerMessage[];
    let expected: number | null = null;
    let resyncs = 0;
    for (const m of got) {
      if (m.type === 'snapshot') {
        if (expected !== null) resyncs += 1;
        expected = m.seq + 1;
        continue;
      }
      assert.equal(m.seq, expected, 'every gap is covered by a snapshot');
      expected = m.seq + 1;
    }
    assert.equal(resyncs, 1);
    assert.ok(streamOf(got).length < streamOf(fast.messages).length, 'it skipped what it could not take');
    assert.equal((await feed.stats()).lagging, 1);

    // The other stays behind past slow_client_seconds: it is disconnected.
    for (let i = 0; i < 3; i++) {
      clock.advance(5000);
      fast.send({ type: 'ping', id: `p${i}` });
      await fast.next('pong', (m) => m.id === `p${i}`);
      slow.send(JSON.stringify({ type: 'ping', id: `q${i}` }));
      await slow.until((f) => f.opcode === 1 && f.payload.includes(`"q${i}"`));
    }
    assert.equal((await feed.stats()).dropped_slow, 1);
    assert.equal((await feed.stats()).clients, 2);
    stuck.resume();
    await stuck.ended;
    assert.equal(fast.ws.readyState, WebSocket.OPEN);
    slow.socket.destroy();
  });

  it('a client that stops reading and keeps asking for snapshots stays within the bound and is dropped when it stays behind', async () => {
    const limit = 64 * 1024;
    const s = await start({ event_details_max_bytes: 150 * 1024, websocket: { max_buffered_bytes: limit, event_details_max_bytes: 60 * 1024, ping_seconds: 5, slow_client_seconds: 10 } });
    // The feed's figures, as GET /health reports them.
    const feed = { stats: async () => (await s.get('/health')).body.websocket as { clients: number; lagging: number; dropped_dead: number; dropped_slow: number; buffered_bytes: number } };
    const fast = await client(s);
    await fast.next('snapshot');
    // Large recent events make each snapshot large (about 50 x 60 KB).
    await hook(s, 'g', 'SessionStart', { source: 'startup' });
    const output = 'y'.repeat(100 * 1024);
    for (let i = 0; i < 50; i++) await hook(s, 'g', 'PostToolUse', { tool_name: 'Read', tool_response: { output } });
    const snapshotBytes = Buffer.byteLength(JSON.stringify(await (async () => {
      const c = await client(s);
      return c.next('snapshot');
    })()));
    assert.ok(snapshotBytes > 10 * limit, `snapshots are large here (${snapshotBytes} bytes)`);

    const greedy = await rawConnect(s.port);
    await greedy.until((f) => f.opcode === 1);
    greedy.pause();
    // Rounds of a second: many snapshot requests and large events, more than the kernel's socket buffers hold.
    let maxBuffered = 0;
    for (let round = 0; round < 40 && (await feed.stats()).clients === 3; round++) {
      for (let i = 0; i < 40; i++) greedy.send(JSON.stringify({ type: 'get_snapshot' }));
      for (let i = 0; i < 10; i++) await hook(s, 'g', 'PostToolUse', { tool_name: 'Read', tool_response: { output } });
      // Once the fast client has its answer, the server has read the greedy client's requests and written what it writes.
      fast.send({ type: 'ping', id: `f${round}` });
      await fast.next('pong', (m) => m.id === `f${round}`);
      maxBuffered = Math.max(maxBuffered, (await feed.stats()).buffered_bytes);
      if (maxBuffered > 8 * (limit + snapshotBytes)) break;
      clock.advance(1000);
    }
    // Never more than the limit and one message waiting for it, whatever it asked for.
    assert.ok(maxBuffered <= limit + snapshotBytes, `${maxBuffered} bytes waited for the greedy client (limit ${limit}, a snapshot ${snapshotBytes})`);
    assert.equal((await feed.stats()).dropped_slow, 1, 'behind for slow_client_seconds while sending requests: disconnected');
    // It learns of the close once it reads again (a paused socket sees the FIN only then; it saw
    // an RST only when the server closed with some of its requests still unread).
    greedy.resume();
    await greedy.ended;
    assert.equal(fast.ws.readyState, WebSocket.OPEN);
  });

  it('answers get_snapshot at most once per snapshot interval, folding the requests in between into one', async () => {
    const s = await start({ websocket: { snapshot_interval_seconds: 1 } });
    const c = await client(s);
    await c.next('snapshot');
    const count = () => c.ofType('snapshot').length;
    c.send({ type: 'get_snapshot' });
    await c.next('snapshot', () => count() === 2);
    for (let i = 0; i < 5; i++) c.send({ type: 'get_snapshot' });
    c.send({ type: 'ping', id: 'after' });
    await c.next('pong', (m) => m.id === 'after');
    assert.equal(count(), 2, 'none more within the interval');
    clock.advance(999);
    c.send({ type: 'ping', id: 'after-999' });
    await c.next('pong', (m) => m.id === 'after-999');
    assert.equal(count(), 2);
    clock.advance(1);
    await c.next('snapshot', () => count() === 3);
    clock.advance(5000);
    c.send({ type: 'ping', id: 'later' });
    await c.next('pong', (m) => m.id === 'later');
    assert.equal(count(), 3, 'the five requests got one snapshot');
  });

  it('tells clients when the server stops: a close frame with the reason', async () => {
    const s = await start();
    const c = await client(s);
    await c.next('snapshot');
    servers.splice(servers.indexOf(s), 1);
    await s.close();
    assert.deepEqual(await c.closed, { code: 1001, reason: 'server stopping' });
  });

  after(() => {
    for (const h of homes) h.cleanup();
  });
});
