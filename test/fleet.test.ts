// Machines and a hub, each a real system on its own SQLite file, talking real HTTP and a real
// WebSocket over loopback: registration with a machine token, the sync of instances and
// events (compared by content), the versioned documents (409 with the current one, past or
// future), presence after three missed heartbeats (the hub's clock is injected), revocation,
// remote calls run inside the machine (its mode, a clean stop), and bad input of every kind
// answered 4xx or with a close code, writing nothing.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { FakeClock } from './support/clock.js';
import { runCli } from './support/process.js';
import { readRows } from './support/sqlite.js';
import { connectFeed } from './support/feed.js';
import { synced as syncedTo, until } from './support/fleet.js';
import { hookPayload, startTestServer, tableCounts, tempHome, type TestServer } from './support/system.js';

async function addToken(hubHome: string, name: string): Promise<string> {
  const r = await runCli(['machines', 'add', name, '--home', hubHome]);
  assert.equal(r.code, 0, r.stderr);
  const token = r.stdout.trim();
  assert.match(token, /^tam_[A-Za-z0-9_-]{43}$/);
  return token;
}

/** What the hub and the machine must agree on for an instance. */
const byId = (a: any[]) => [...a].sort((x, y) => x.id.localeCompare(y.id));
const essence = (i: any) => ({ id: i.id, state: i.state, status: i.status, tool_count: i.tool_count, session_id: i.session_id, last_activity: i.last_activity, stop_reason: i.stop_reason });

describe('machines reporting to a hub', () => {
  const hubHome = tempHome('token-api-hub-');
  const machineHome = tempHome('token-api-machine-');
  const hubClock = new FakeClock(Date.now());
  let hub: TestServer;
  let machine: TestServer;
  let token: string;
  let machineId: string;
  let stopRequests = 0;

  const hubGet = async (path: string) => (await hub.request('GET', path)).body;

  before(async () => {
    token = await addToken(hubHome.dir, 'laptop');
    hub = await startTestServer(hubHome.dir, {}, { clock: hubClock });
    writeFileSync(join(machineHome.dir, 'hub-token'), `${token}\n`, { mode: 0o600 });
    machine = await startTestServer(machineHome.dir, { hub: { url: hub.url } }, { requestStop: () => (stopRequests += 1) });
    machineId = (await machine.request('GET', '/v1/machine')).body.id;
  });
  after(async () => {
    await machine?.close();
    await hub?.close();
    hubHome.cleanup();
    machineHome.cleanup();
  });

  async function synced(): Promise<void> {
    await syncedTo(machine, hub);
  }

  it('registers with its token and shows on the hub beside the hub itself', async () => {
    const list = await until('the machine to register', async () => {
      const b = await hubGet('/v1/machines');
      return b.count === 2 && b;
    });
    const local = list.machines.find((m: any) => m.local);
    const laptop = list.machines.find((m: any) => !m.local);
    assert.ok(local);
    assert.equal(laptop.id, machineId);
    assert.equal(laptop.name, 'laptop');
    assert.equal(laptop.online, true);
    assert.equal(laptop.metadata.token_api_version.length > 0, true);
    assert.equal(laptop.daemon_state.status, 'running');
    assert.equal(laptop.daemon_state.pid, process.pid);
    assert.equal(laptop.daemon_state.port, Number(new URL(machine.url).port));
    // By name too.
    assert.equal((await hubGet('/v1/machines/laptop')).machine.id, machineId);
    await until('the hub connection', async () => (await machine.request('GET', '/v1/machine')).body.hub.connected);
  });

  it('its instances and events reach the hub, with their machine, and match the machine by content', async () => {
    const feed = await connectFeed(hub.wsUrl);
    for (const sid of ['s-one', 's-two', 's-three']) {
      assert.equal((await machine.hook(hookPayload(sid, 'SessionStart', { source: 'startup' }), `?pid=${process.pid}`)).status, 200);
      assert.equal((await machine.hook(hookPayload(sid, 'UserPromptSubmit', { prompt: 'go' }), `?pid=${process.pid}`)).status, 200);
      assert.equal((await machine.hook(hookPayload(sid, 'PreToolUse', { tool_name: 'Bash', tool_input: {} }), `?pid=${process.pid}`)).status, 200);
    }
    assert.equal((await machine.hook(hookPayload('s-two', 'Stop'), `?pid=${process.pid}`)).status, 200);
    await synced();
    const mine = (await machine.request('GET', '/api/instances?status=all')).body.instances;
    const theirs = (await hub.request('GET', `/api/instances?status=all&machine=${machineId}`)).body.instances;
    assert.equal(mine.length, 3);
    assert.deepEqual(byId(theirs).map(essence), byId(mine).map(essence));
    for (const i of theirs) assert.deepEqual(i.machine, { id: machineId, name: 'laptop', online: true });
    // The hub's own list holds them too, with their machine; its own instances carry none.
    const all = (await hub.request('GET', '/api/instances?status=all')).body.instances;
    assert.equal(all.filter((i: any) => i.machine?.id === machineId).length, 3);
    assert.deepEqual((await hub.request('GET', '/api/instances?machine=local')).body.instances, []);
    // One instance by id, found among the machine's.
    const one = (await hub.request('GET', `/api/instances/${mine[0].id}`)).body;
    assert.equal(one.machine.id, machineId);
    // Events: the machine's ids and types, once each, on the hub.
    const events = (await machine.request('GET', '/api/events?limit=1000')).body.events;
    const hubEvents = await readRows(hub.config.home, 'SELECT remote_id, event_type FROM remote_events WHERE machine = ? ORDER BY remote_id', [machineId]);
    assert.deepEqual(
      hubEvents.map((e: any) => [e.remote_id, e.event_type]),
      [...events].sort((a: any, b: any) => a.id - b.id).map((e: any) => [e.id, e.type]),
    );
    // The hub's feed carried each instance with its machine, last as the machine has it.
    await feed.sync();
    for (const i of mine) {
      const last = feed.ofType('instance').filter((m) => m.instance.id === i.id).at(-1);
      assert.ok(last, `an instance message for ${i.id}`);
      assert.deepEqual(essence(last.instance), essence(i));
      assert.deepEqual(last.instance.machine, { id: machineId, name: 'laptop', online: true });
    }
    await feed.close();
    // A client connecting now finds them in its snapshot.
    const late = await connectFeed(hub.wsUrl);
    const snap = await late.next('snapshot');
    assert.deepEqual(byId(snap.instances.filter((x) => x.machine?.id === machineId)).map(essence), byId(mine).map(essence));
    await late.close();
  });

  it('a document update names its version; a past or a future one is a 409 with the current document, and nothing is written', async () => {
    const m = (await hubGet(`/v1/machines/${machineId}`)).machine;
    const auth = { authorization: `Bearer ${token}` };
    const doc = { ...m.metadata, repos: [{ name: 'api', path: '/src/api' }] };
    const before = await tableCounts(hub.system);
    for (const wrong of [m.metadata_version - 1, m.metadata_version + 5]) {
      const r = await hub.request('PUT', `/v1/machines/${machineId}/metadata`, { metadata: doc, expected_version: wrong }, auth);
      assert.equal(r.status, 409, r.text);
      assert.equal(r.body.error, 'conflict');
      assert.equal(r.body.current.metadata_version, m.metadata_version);
      assert.deepEqual(r.body.current.metadata, m.metadata);
    }
    assert.deepEqual(await tableCounts(hub.system), before);
    const ok = await hub.request('PUT', `/v1/machines/${machineId}/metadata`, { metadata: doc, expected_version: m.metadata_version }, auth);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.machine.metadata_version, m.metadata_version + 1);
    assert.deepEqual(ok.body.machine.metadata.repos, [{ name: 'api', path: '/src/api' }]);
    // The daemon state is versioned on its own.
    assert.equal(ok.body.machine.daemon_state_version, m.daemon_state_version);
  });

  it('bad input: a document of the wrong shape, an unknown machine, no or a bad token: 4xx, nothing written', async () => {
    const m = (await hubGet(`/v1/machines/${machineId}`)).machine;
    const auth = { authorization: `Bearer ${token}` };
    const before = await tableCounts(hub.system);
    const cases: [string, string, unknown, Record<string, string>, number][] = [
      ['PUT', `/v1/machines/${machineId}/metadata`, { metadata: { host: 42 }, expected_version: m.metadata_version }, auth, 400],
      ['PUT', `/v1/machines/${machineId}/metadata`, { metadata: m.metadata, expected_version: m.metadata_version, extra: 1 }, auth, 400],
      ['PUT', `/v1/machines/${machineId}/daemon-state`, { daemon_state: { ...m.daemon_state, status: 'dancing' }, expected_version: m.daemon_state_version }, auth, 400],
      ['PUT', `/v1/machines/${machineId}/metadata`, { metadata: { ...m.metadata, home_dir: 'x'.repeat(20_000) }, expected_version: m.metadata_version }, auth, 400],
      ['PUT', `/v1/machines/${machineId}/metadata`, { metadata: m.metadata, expected_version: -1 }, auth, 400],
      ['PUT', '/v1/machines/6f1c2a9e-0000-4000-8000-000000000000/metadata', { metadata: m.metadata, expected_version: 1 }, auth, 404],
      ['GET', '/v1/machines/6f1c2a9e-0000-4000-8000-000000000000', undefined, {}, 404],
      ['GET', '/v1/machines/not a name', undefined, {}, 400],
      ['POST', '/v1/machines', { id: machineId, metadata: m.metadata, daemon_state: m.daemon_state }, {}, 401],
      ['POST', '/v1/machines', { id: machineId, metadata: m.metadata, daemon_state: m.daemon_state }, { authorization: 'Bearer tam_nottherealtoken' }, 401],
      ['POST', '/v1/machines', { id: 'not-a-uuid', metadata: m.metadata, daemon_state: m.daemon_state }, auth, 400],
      // The token is bound to its machine: another id is refused.
      ['POST', '/v1/machines', { id: '6f1c2a9e-0000-4000-8000-000000000001', metadata: m.metadata, daemon_state: m.daemon_state }, auth, 409],
      ['POST', `/v1/machines/6f1c2a9e-0000-4000-8000-000000000000/api`, { method: 'GET', path: '/api/mode' }, {}, 404],
      ['POST', `/v1/machines/${machineId}/api`, { method: 'TRACE', path: '/api/mode' }, {}, 400],
      ['POST', `/v1/machines/${machineId}/api`, { method: 'GET', path: 'api/mode' }, {}, 400],
      ['GET', '/api/instances?machine=nobody', undefined, {}, 404],
    ];
    for (const [method, path, body, headers, status] of cases) {
      const r = await hub.request(method, path, body, headers);
      assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)?.slice(0, 120)}: ${r.text}`);
      assert.equal(typeof r.body.error, 'string');
      assert.equal(typeof r.body.message, 'string');
    }
    await hub.system.settle();
    assert.deepEqual(await tableCounts(hub.system), before);
  });

  it('remote calls run inside the machine: its mode read and changed through the hub', async () => {
    const got = await hub.request('POST', `/v1/machines/laptop/api`, { method: 'GET', path: '/api/mode' });
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body.status, 200);
    assert.deepEqual(got.body.body, (await machine.request('GET', '/api/mode')).body);
    const target = got.body.body.mode === 'break' ? 'off' : 'break';
    const set = await hub.request('POST', `/v1/machines/${machineId}/api`, { method: 'POST', path: '/api/mode', body: { mode: target } });
    assert.equal(set.body.status, 200, set.text);
    assert.equal((await machine.request('GET', '/api/mode')).body.mode, target);
    // The machine's own refusal comes back as its answer.
    const bad = await hub.request('POST', `/v1/machines/${machineId}/api`, { method: 'POST', path: '/api/mode', body: { mode: 'nonsense' } });
    assert.equal(bad.status, 200);
    assert.equal(bad.body.status, 400);
    assert.equal(bad.body.body.error, 'validation_failed');
  });

  it('three missed heartbeats: offline on the hub, its instances kept and marked, device_disconnected recorded', async () => {
    const feed = await connectFeed(hub.wsUrl);
    await feed.next('snapshot');
    const before = (await hub.request('GET', `/api/instances?status=all&machine=${machineId}`)).body.instances.length;
    hubClock.advance(61_000);
    await hub.system.settle();
    const m = await until('the machine to show offline', async () => {
      const x = (await hubGet(`/v1/machines/${machineId}`)).machine;
      return x.online === false && x;
    });
    assert.equal(m.online, false);
    const instances = (await hub.request('GET', `/api/instances?status=all&machine=${machineId}`)).body.instances;
    assert.equal(instances.length, before);
    for (const i of instances) assert.equal(i.machine.online, false);
    const events = await until('device_disconnected', async () => {
      const e = (await hubGet('/api/events?type=device_disconnected')).events;
      return e.length > 0 && e;
    });
    assert.equal(events[0].details.machine, machineId);
    assert.equal(events[0].details.name, 'laptop');
    // The feed: the event, and the machine's instances again, greyed (online: false), not removed.
    await feed.next('event', (m) => m.event.type === 'device_disconnected');
    await until('the instances marked offline on the feed', async () => feed.ofType('instance').filter((m) => m.instance.machine?.online === false).length === before);
    await feed.close();
  });

  it('stop-daemon: the hub asks, the machine acknowledges, reports shutting-down and stops as on SIGTERM', async () => {
    const r = await hub.request('POST', `/v1/machines/${machineId}/stop`, {});
    assert.equal(r.status, 202, r.text);
    await until('the stop request', async () => stopRequests === 1);
    const m = await until('shutting-down on the hub', async () => {
      const x = (await hubGet(`/v1/machines/${machineId}`)).machine;
      return x.daemon_state.status === 'shutting-down' && x;
    });
    assert.equal(m.daemon_state.shutdown_source, 'hub');
  });

  it('revoking a token refuses the machine and closes its live connection; an unconnected machine is a 503 at once', async () => {
    await until('the hub connection', async () => (await machine.request('GET', '/v1/machine')).body.hub.connected);
    const r = await runCli(['machines', 'revoke', 'laptop', '--home', hubHome.dir]);
    assert.equal(r.code, 0, r.stderr);
    hubClock.advance(20_000);
    await until('the connection to close', async () => !(await machine.request('GET', '/v1/machine')).body.hub.connected);
    const call = await hub.request('POST', `/v1/machines/${machineId}/api`, { method: 'GET', path: '/api/mode' });
    assert.equal(call.status, 503, call.text);
    const put = await hub.request('PUT', `/v1/machines/${machineId}/metadata`, { metadata: {}, expected_version: 1 }, { authorization: `Bearer ${token}` });
    assert.equal(put.status, 401);
    const list = await runCli(['machines', 'list', '--home', hubHome.dir]);
    assert.match(list.stdout, /^laptop\ttam_.{4}…\trevoked /m);
  });
  it('the machines\' events on the hub are pruned like its own (event_retention_days)', async () => {
    const count = async () => (await readRows(hub.config.home, 'SELECT COUNT(*) AS n FROM remote_events WHERE machine = ?', [machineId]))[0]!.n as number;
    assert.ok((await count()) > 0);
    hubClock.advance(31 * 86_400_000);
    await until('the old events to be pruned', async () => (await count()) === 0);
    // The instances stay: the machine is the truth of their state, not of their history.
    assert.equal((await hub.request('GET', `/api/instances?status=all&machine=${machineId}`)).body.count, 3);
  });
});

describe('the machine socket refuses what it cannot take', () => {
  const hubHome = tempHome('token-api-hub-');
  let hub: TestServer;
  let token: string;
  before(async () => {
    token = await addToken(hubHome.dir, 'raw');
    hub = await startTestServer(hubHome.dir);
  });
  after(async () => {
    await hub.close();
    hubHome.cleanup();
  });

  const wsUrl = () => hub.url.replace(/^http/, 'ws') + '/v1/machines/connect';

  function open(headers: Record<string, string>): Promise<{ ws: WebSocket; closed: Promise<{ code: number; reason: string }> } | { status: number; body: any }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl(), { headers });
      const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
      ws.on('open', () => resolve({ ws, closed }));
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(body) }));
      });
      ws.on('error', (e) => (e.message.includes('Unexpected server response') ? undefined : reject(e)));
    });
  }

  it('a machine told of a hub without its token refuses to start, saying where the token goes', async () => {
    const home = tempHome('token-api-machine-');
    try {
      await assert.rejects(startTestServer(home.dir, { hub: { url: hub.url } }), (e: Error) => e.name === 'ConfigError' && e.message.includes(join(home.dir, 'hub-token')) && /machines add NAME/.test(e.message));
    } finally {
      home.cleanup();
    }
  });

  it('the upgrade needs a live machine token, even from loopback', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer tam_unknown' }, { authorization: 'Bearer not-a-machine-token' }]) {
      const r = await open(headers);
      assert.ok('status' in r, 'refused');
      assert.equal(r.status, 401);
      assert.equal(r.body.error, 'unauthorized');
    }
  });

  it('a hello before registering closes 4404; non-JSON and wrong frames 4400; a frame over the limit 1009; nothing written', async () => {
    const before = await tableCounts(hub.system);
    const frames: [string | Buffer, number][] = [
      [JSON.stringify({ t: 'hello', v: 1, machine: '6f1c2a9e-0000-4000-8000-000000000000', epoch: '6f1c2a9e-0000-4000-8000-000000000001', boot: '6f1c2a9e-0000-4000-8000-000000000002', head: 0 }), 4404],
      ['not json', 4400],
      [JSON.stringify({ t: 'changes', from: 0, upto: 1, instances: [], events: [] }), 4400],
      [JSON.stringify({ t: 'hello', v: 2 }), 4400],
      [Buffer.alloc(5 * 1024 * 1024, 'x').toString(), 1009],
    ];
    for (const [frame, code] of frames) {
      const r = await open({ authorization: `Bearer ${token}` });
      assert.ok('ws' in r);
      r.ws.send(frame);
      assert.equal((await r.closed).code, code, String(frame).slice(0, 80));
    }
    await hub.system.settle();
    assert.deepEqual(await tableCounts(hub.system), before);
  });
});
