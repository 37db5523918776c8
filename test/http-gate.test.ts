// The productivity gate over HTTP with real hooks, a real SQLite file and an injected clock:
// it follows instance actors (its change committed with theirs), the grace period, checks and
// their reasons, the legacy endpoint's exact bodies, the recorded gate.check events, answers
// from memory with the database gone, and the grace period across a restart.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, beforeEach, describe, it } from 'node:test';
import { VERSION } from '../src/lib/version.js';
import { FakeClock } from './support/clock.js';
import { hookPayload, startTestServer, tableCounts, tempHome, type TestServer } from './support/system.js';
import { databaseOf } from './support/sqlite.js';

const MIN = 60_000;

describe('productivity gate over HTTP', () => {
  let home: ReturnType<typeof tempHome>;
  let s: TestServer | undefined;
  let clock: FakeClock;

  async function restart(file = {}) {
    await s?.close();
    s = await startTestServer(home.dir, file, { clock });
    return s;
  }
  const gateRow = async (srv: TestServer) => {
    const row = await databaseOf(srv.system).get<{ snapshot: string }>("SELECT snapshot FROM actor_snapshots WHERE actor_id = '#gate'");
    return JSON.parse(row!.snapshot) as { value: string; context: { working: string[]; graceUntil: number | null } };
  };

  beforeEach(async () => {
    await s?.close();
    s = undefined;
    home?.cleanup();
    home = tempHome();
    clock = new FakeClock();
  });
  after(async () => {
    await s?.close();
    home?.cleanup();
  });

  it('follows the instances: productive while one works, grace when the last stops, closed after it', async () => {
    const srv = await restart();
    let p = (await srv.request('GET', '/api/productivity')).body;
    assert.deepEqual(p, { productive: false, working: 0, working_instances: [], state: 'idle', grace_until: null, since: new Date(clock.now()).toISOString(), grace_minutes: 2 });

    clock.advance(1000);
    await srv.hook(hookPayload('a', 'SessionStart'));
    const transactions = async () => (await srv.request('GET', '/health')).body.database.transactions as number;
    const before = await transactions();
    await srv.hook(hookPayload('a', 'UserPromptSubmit'));
    // The hook answered after commit, and the gate's change was in that same transaction.
    assert.equal((await transactions()) - before, 1, 'one transaction for the instance and the gate');
    assert.equal((await gateRow(srv)).value, 'productive');
    assert.deepEqual((await gateRow(srv)).context.working, ['claude-a']);
    p = (await srv.request('GET', '/api/productivity')).body;
    assert.deepEqual([p.productive, p.working, p.state, p.since], [true, 1, 'productive', new Date(clock.now()).toISOString()]);

    await srv.hook(hookPayload('b', 'UserPromptSubmit'));
    await srv.hook(hookPayload('a', 'PermissionRequest', { tool_name: 'Bash' })); // awaiting the person does not count
    p = (await srv.request('GET', '/api/productivity')).body;
    assert.deepEqual(p.working_instances, ['claude-b']);

    clock.advance(1000);
    await srv.hook(hookPayload('b', 'Stop'));
    const graceUntil = new Date(clock.now() + 2 * MIN).toISOString();
    assert.equal((await gateRow(srv)).value, 'grace');
    p = (await srv.request('GET', '/api/productivity')).body;
    assert.deepEqual([p.productive, p.working, p.state, p.grace_until, p.since], [false, 0, 'grace', graceUntil, new Date(clock.now()).toISOString()]);

    clock.advance(2 * MIN - 1);
    assert.equal((await srv.request('GET', '/api/productivity')).body.state, 'grace');
    clock.advance(1);
    await srv.system.settle();
    p = (await srv.request('GET', '/api/productivity')).body;
    // since follows every change of state, the end of the grace period too.
    assert.deepEqual([p.state, p.grace_until, p.since], ['idle', null, new Date(clock.now()).toISOString()]);
    assert.equal((await gateRow(srv)).value, 'idle');
    const changes = (await srv.request('GET', '/api/events?type=gate.changed')).body.events.map((e: { details: { from: string; to: string } }) => `${e.details.from}->${e.details.to}`);
    assert.deepEqual(changes.reverse(), ['idle->productive', 'productive->grace', 'grace->idle']);
  });

  it('a short pause between turns does not close the gate; an instance that ends while working starts the grace period', async () => {
    const srv = await restart({ gate_grace_minutes: 5 });
    await srv.hook(hookPayload('a', 'UserPromptSubmit'));
    await srv.hook(hookPayload('a', 'Stop'));
    clock.advance(4 * MIN);
    await srv.hook(hookPayload('a', 'UserPromptSubmit'));
    clock.advance(10 * MIN);
    assert.equal((await srv.request('GET', '/api/productivity')).body.state, 'productive');
    await srv.hook(hookPayload('a', 'SessionEnd', { reason: 'exit' }));
    const p = (await srv.request('GET', '/api/productivity')).body;
    assert.deepEqual([p.state, p.grace_until], ['grace', new Date(clock.now() + 5 * MIN).toISOString()]);
  });

  it('checks answer with a reason, from the mode, focus and gate', async () => {
    const srv = await restart();
    const check = async (app: string) => (await srv.request('GET', `/api/check?app=${encodeURIComponent(app)}`)).body;
    assert.deepEqual(await check('youtube'), {
      app: 'youtube',
      allowed: false,
      reason: 'no agent is working; work_silence blocks youtube',
      rule: 'idle',
      mode: 'work_silence',
      focus: false,
      productive: false,
      working: 0,
      grace_until: null,
    });
    assert.equal((await check('calculator')).allowed, true);
    await srv.hook(hookPayload('a', 'UserPromptSubmit'));
    let c = await check('com.google.android.youtube');
    assert.deepEqual([c.allowed, c.reason, c.productive], [true, '1 agent is working; work_silence allows youtube', true]);
    await srv.request('POST', '/api/state', { focus: true });
    c = await check('YouTube');
    assert.deepEqual([c.allowed, c.rule], [false, 'focus']);
    await srv.request('POST', '/api/state', { mode: 'break', minutes: 10 });
    c = await check('youtube');
    assert.deepEqual([c.allowed, c.rule, c.mode, c.focus], [true, 'open_mode', 'break', true]);
    await srv.request('POST', '/api/state', { mode: 'work_music', focus: false });
    await srv.hook(hookPayload('a', 'Stop'));
    clock.advance(MIN);
    c = await check('youtube');
    assert.deepEqual([c.allowed, c.rule, c.grace_until], [true, 'grace', new Date(clock.now() + MIN).toISOString()]);
    clock.advance(MIN);
    c = await check('youtube');
    assert.deepEqual([c.allowed, c.reason], [false, 'no agent is working; work_music blocks youtube']);
  });

  it('the legacy endpoint answers exactly `allowed` or `blocked` in text/plain with 200, and name and version without app', async () => {
    const srv = await restart();
    let r = await srv.request('GET', '/?app=youtube');
    assert.equal(r.status, 200);
    assert.equal(r.text, 'blocked');
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    r = await srv.request('GET', '/?app=Notes');
    assert.equal(r.text, 'allowed');
    await srv.hook(hookPayload('a', 'UserPromptSubmit'));
    r = await srv.request('GET', '/?app=com.google.android.youtube');
    assert.equal(r.status, 200);
    assert.equal(r.text, 'allowed');
    r = await srv.request('GET', '/');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { service: 'token-api', version: VERSION });
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  });

  it('the fast path in front of Koa answers exactly what the Koa routes answer', async () => {
    const srv = await restart();
    // The same app, served by Koa alone (its own callback, without the fast path).
    const koaOnly = createServer(srv.system.app.callback());
    await new Promise<void>((resolve) => koaOnly.listen(0, '127.0.0.1', resolve));
    const koaUrl = `http://127.0.0.1:${(koaOnly.address() as AddressInfo).port}`;
    try {
      const paths = ['/?app=youtube', '/?app=Calculator', '/api/check?app=youtube', '/api/check?app=com.google.android.youtube', '/api/check?app=Steam%20Deck', '/?app=you+tube'];
      const compare = async () => {
        for (const path of paths) {
          for (const method of ['GET', 'HEAD']) {
            const [fast, koa] = await Promise.all([fetch(srv.url + path, { method }), fetch(koaUrl + path, { method })]);
            const [fb, kb] = [await fast.text(), await koa.text()];
            assert.equal(fast.status, koa.status, `${method} ${path}`);
            assert.equal(fb, kb, `${method} ${path}`);
            for (const h of ['content-type', 'content-length']) assert.equal(fast.headers.get(h), koa.headers.get(h), `${method} ${path} ${h}`);
          }
        }
      };
      await compare();
      await srv.hook(hookPayload('a', 'UserPromptSubmit'));
      await compare();
      await srv.system.settle();
      const vias = (await srv.request('GET', '/api/events?type=gate.check&limit=100')).body.events.map((e: { details: { via: string } }) => e.details.via);
      assert.equal(vias.length, paths.length * 2 * 2 * 2, 'every check recorded, by either path');
    } finally {
      await new Promise<void>((resolve) => koaOnly.close(() => resolve()));
    }
  });

  it('a bad app or an unknown parameter is a 400 that records nothing', async () => {
    const srv = await restart();
    const counts = await tableCounts(srv.system);
    for (const path of ['/?app=', '/?app=%20', '/api/check', '/api/check?app=', `/api/check?app=${'x'.repeat(201)}`, '/api/check?app=a;b', '/api/check?app=a&app=b', '/?app=youtube&device=phone', '/?x=1', '/api/productivity?x=1']) {
      const r = await srv.request('GET', path);
      assert.equal(r.status, 400, `${path}: ${r.text}`);
      assert.equal(r.body.error, 'validation_failed');
    }
    await srv.system.settle();
    assert.deepEqual(await tableCounts(srv.system), counts);
  });

  it('every check is recorded as a gate.check event with its reason', async () => {
    const srv = await restart();
    await srv.request('GET', '/api/check?app=youtube');
    await srv.request('GET', '/?app=reddit');
    await srv.system.settle();
    const events = (await srv.request('GET', '/api/events?type=gate.check')).body.events;
    assert.equal(events.length, 2);
    assert.deepEqual(
      events.map((e: { device_id: string; created_at: string; details: Record<string, unknown> }) => [e.device_id, e.created_at, e.details.app, e.details.allowed, e.details.reason, e.details.via, e.details.listed]),
      [
        ['desktop', new Date(clock.now()).toISOString(), 'reddit', false, 'no agent is working; work_silence blocks reddit', 'legacy', 'reddit'],
        ['desktop', new Date(clock.now()).toISOString(), 'youtube', false, 'no agent is working; work_silence blocks youtube', 'api', 'youtube'],
      ],
    );
  });

  it('answers from memory: checks still answer with the database unable to take their rows', async () => {
    const srv = await restart();
    await srv.hook(hookPayload('a', 'UserPromptSubmit'));
    // Every table a check or a read of the mode or gate could touch is gone (a connection of the test's own).
    await databaseOf(srv.system).exec('ALTER TABLE events RENAME TO events_away; ALTER TABLE actor_snapshots RENAME TO snapshots_away; ALTER TABLE claude_instances RENAME TO instances_away');
    const r = await srv.request('GET', '/api/check?app=youtube');
    assert.equal(r.status, 200);
    assert.equal(r.body.allowed, true);
    assert.equal((await srv.request('GET', '/?app=youtube')).text, 'allowed');
    assert.equal((await srv.request('GET', '/api/productivity')).body.productive, true);
    assert.equal((await srv.request('GET', '/api/mode')).body.mode, 'work_silence');
    await srv.close().catch(() => undefined);
    s = undefined;
  });

  it('the grace period survives a restart and ends at its deadline; the gate catches up with instances restored', async () => {
    let srv = await restart();
    await srv.hook(hookPayload('a', 'UserPromptSubmit'));
    await srv.hook(hookPayload('b', 'UserPromptSubmit'));
    await srv.hook(hookPayload('a', 'Stop'));
    await srv.hook(hookPayload('b', 'Stop'));
    const until = (await srv.request('GET', '/api/productivity')).body.grace_until;
    clock.advance(30_000);
    srv = await restart();
    assert.equal(srv.system.started.gate.how, 'restored');
    let p = (await srv.request('GET', '/api/productivity')).body;
    assert.deepEqual([p.state, p.grace_until], ['grace', until]);
    clock.advance(90_000);
    await srv.system.settle();
    assert.equal((await srv.request('GET', '/api/productivity')).body.state, 'idle');

    // An instance working when the server stopped is working when it starts again.
    await srv.hook(hookPayload('a', 'UserPromptSubmit'));
    srv = await restart();
    p = (await srv.request('GET', '/api/productivity')).body;
    assert.deepEqual([p.state, p.working_instances], ['productive', ['claude-a']]);
  });

  it('no instance id can take the place of the mode or gate actors', async () => {
    const srv = await restart();
    for (const id of ['gate', 'mode']) {
      const r = await srv.request('POST', '/api/instances/register', { instance_id: id });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.instance_id, id);
    }
    for (const id of ['#gate', '#mode']) assert.equal((await srv.request('POST', '/api/instances/register', { instance_id: id })).status, 400);
    await srv.hook(hookPayload('a', 'UserPromptSubmit'));
    assert.equal((await srv.request('GET', '/api/productivity')).body.state, 'productive');
    assert.equal((await srv.request('POST', '/api/mode', { mode: 'off' })).body.mode, 'off');
    const restarted = await restart();
    assert.equal((await restarted.request('GET', '/api/mode')).body.mode, 'off');
    assert.equal((await restarted.request('GET', '/api/instances/gate')).body.state, 'idle');
    assert.equal((await restarted.request('GET', '/health')).body.actors.instances, 3);
  });

  it('a gate snapshot that no longer matches the instances is brought up to date on start', async () => {
    let srv = await restart();
    await srv.hook(hookPayload('a', 'UserPromptSubmit'));
    // The instance's snapshot says working; make the gate's say nothing works.
    await databaseOf(srv.system).run(`UPDATE actor_snapshots SET snapshot = json_set(snapshot, '$.value', 'idle', '$.context.working', json('[]')) WHERE actor_id = '#gate'`);
    srv = await restart();
    const p = (await srv.request('GET', '/api/productivity')).body;
    assert.deepEqual([p.state, p.working_instances], ['productive', ['claude-a']]);
    assert.equal((await gateRow(srv)).value, 'productive');
  });
});
