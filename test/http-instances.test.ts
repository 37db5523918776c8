import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { FakeClock } from './support/clock.js';
import { startPhone, type Phone } from './support/phone.js';
import { hookPayload, startTestServer, tableCounts, tempHome, type TestServer } from './support/system.js';
import { databaseOf } from './support/sqlite.js';

describe('instances, devices, events, dashboard and health routes', () => {
  let home: ReturnType<typeof tempHome>;
  let s: TestServer;
  let clock: FakeClock;
  // The phone's webhook is a receiver on loopback: a test never reaches the real phone.
  let phone: Phone;

  before(async () => {
    phone = await startPhone();
  });
  beforeEach(async () => {
    await s?.close();
    home?.cleanup();
    home = tempHome();
    clock = new FakeClock();
    s = await startTestServer(
      home.dir,
      {
        devices: [{ id: 'pixel-phone', name: 'Pixel', type: 'mobile', tailscale_ip: '100.102.92.24', notification_method: 'webhook', webhook_url: phone.url }],
        profiles: { voices: ['Zira', 'David'], sounds: ['a.wav', 'b.wav'], colors: ['#111111', '#222222'] },
      },
      { clock },
    );
  });
  after(async () => {
    await s?.close();
    home?.cleanup();
    await phone.down();
  });

  describe('POST /api/instances/register', () => {
    it('takes the seed nested origin shape and answers the session id and profile', async () => {
      const r = await s.request('POST', '/api/instances/register', {
        instance_id: 'claude-1736445600123',
        tab_name: 'Claude #1',
        origin: { type: 'ssh', source_ip: '100.102.92.24', device_id: 'pixel-phone' },
        pid: 12345,
      });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.instance_id, 'claude-1736445600123');
      assert.match(r.body.session_id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(r.body.profile, { name: 'profile_1', tts_voice: 'Zira', notification_sound: 'a.wav', color: '#111111' });
      assert.deepEqual(r.body.origin, { type: 'ssh', source_ip: '100.102.92.24', device_id: 'pixel-phone' });
      assert.equal(r.body.state, 'idle');
      assert.equal(r.body.created, true);
    });

    it('takes the hook script flat shape and resolves the device from the IP', async () => {
      const r = await s.request('POST', '/api/instances/register', {
        instance_id: 'claude-flat',
        origin_type: 'ssh',
        source_ip: '100.102.92.24',
        pid: 1,
        working_dir: '/home/u/p',
      });
      assert.equal(r.status, 201);
      assert.equal(r.body.origin.device_id, 'pixel-phone');
      assert.equal(r.body.working_dir, '/home/u/p');
    });

    it('an empty source_ip and local origin means the desktop', async () => {
      const r = await s.request('POST', '/api/instances/register', { instance_id: 'claude-local', origin_type: 'local', source_ip: '' });
      assert.deepEqual(r.body.origin, { type: 'local', source_ip: null, device_id: 'desktop' });
    });

    it('is idempotent for the same instance id: same session id and profile back, nothing new written', async () => {
      const first = await s.request('POST', '/api/instances/register', { instance_id: 'claude-same' });
      const counts = await tableCounts(s.system);
      const again = await s.request('POST', '/api/instances/register', { instance_id: 'claude-same', tab_name: 'other' });
      assert.equal(again.status, 200);
      assert.equal(again.body.created, false);
      assert.equal(again.body.session_id, first.body.session_id);
      assert.deepEqual(again.body.profile, first.body.profile);
      assert.deepEqual(await tableCounts(s.system), counts);
    });

    it('refuses a session id that belongs to another instance (409)', async () => {
      await s.hook(hookPayload('taken', 'SessionStart'));
      const counts = await tableCounts(s.system);
      const r = await s.request('POST', '/api/instances/register', { instance_id: 'claude-thief', session_id: 'taken' });
      assert.equal(r.status, 409);
      assert.equal(r.body.error, 'conflict');
      assert.ok('session_id' in r.body.fields);
      assert.deepEqual(await tableCounts(s.system), counts);
    });

    it('cycles the profile pool once every profile is in use', async () => {
      const names: string[] = [];
      for (const id of ['c1', 'c2', 'c3']) names.push((await s.request('POST', '/api/instances/register', { instance_id: id })).body.profile.name);
      assert.deepEqual(names, ['profile_1', 'profile_2', 'profile_1']);
    });

    for (const [name, body, field] of [
      ['an unknown field', { instance_id: 'x', colour: 'red' }, 'colour'],
      ['a bad origin type', { origin_type: 'phone' }, 'origin_type'],
      ['a bad IP', { source_ip: '999.1.1.1' }, 'source_ip'],
      ['an id with a slash', { instance_id: '../etc/passwd' }, 'instance_id'],
      ['pid as a string', { pid: '12' }, 'pid'],
      ['an unknown nested field', { origin: { type: 'ssh', via: 'x' } }, 'origin.via'],
    ] as const) {
      it(`rejects ${name} with 400 naming the field, writing nothing`, async () => {
        const counts = await tableCounts(s.system);
        const r = await s.request('POST', '/api/instances/register', body);
        assert.equal(r.status, 400, r.text);
        assert.equal(r.body.error, 'validation_failed');
        assert.ok(field in r.body.fields, JSON.stringify(r.body.fields));
        assert.deepEqual(await tableCounts(s.system), counts);
      });
    }
  });

  describe('GET /api/instances and /api/instances/{id}', () => {
    it('lists active instances by default, awaiting first; filters by status, state and device', async () => {
      await s.hook(hookPayload('l1', 'UserPromptSubmit'));
      await s.hook(hookPayload('l2', 'PermissionRequest', { tool_name: 'Bash' }));
      await s.hook(hookPayload('l3', 'SessionStart'), '?ssh_client=100.102.92.24%201%2022');
      await s.hook(hookPayload('l4', 'SessionStart'));
      await s.hook(hookPayload('l4', 'SessionEnd'));
      const all = await s.request('GET', '/api/instances');
      assert.deepEqual(
        all.body.instances.map((i: { id: string; state: string }) => [i.id, i.state]),
        [
          ['claude-l2', 'awaiting'],
          ['claude-l1', 'working'],
          ['claude-l3', 'idle'],
        ],
      );
      assert.deepEqual((await s.request('GET', '/api/instances?status=stopped')).body.instances.map((i: { id: string }) => i.id), ['claude-l4']);
      assert.equal((await s.request('GET', '/api/instances?status=all')).body.count, 4);
      assert.deepEqual((await s.request('GET', '/api/instances?state=working')).body.instances.map((i: { id: string }) => i.id), ['claude-l1']);
      assert.deepEqual((await s.request('GET', '/api/instances?device=pixel-phone')).body.instances.map((i: { id: string }) => i.id), ['claude-l3']);
      assert.equal((await s.request('GET', '/api/instances?limit=1')).body.count, 1);
    });

    it('rejects bad filters with 400', async () => {
      for (const q of ['status=zombie', 'limit=0', 'limit=abc', 'limit=5000', 'device=a/b', 'sort=name']) {
        const r = await s.request('GET', `/api/instances?${q}`);
        assert.equal(r.status, 400, q);
        assert.ok(r.body.fields, q);
      }
    });

    it('answers one instance, 404 for an unknown id and 400 for a malformed one', async () => {
      await s.hook(hookPayload('g1', 'SessionStart'));
      const r = await s.request('GET', '/api/instances/claude-g1');
      assert.equal(r.status, 200);
      assert.equal(r.body.session_id, 'g1');
      assert.equal((await s.request('GET', '/api/instances/claude-nope')).status, 404);
      const bad = await s.request('GET', '/api/instances/%00bad');
      assert.equal(bad.status, 400);
    });
  });

  describe('DELETE /api/instances/{id} and heartbeat', () => {
    it('deregisters a live instance (stopped, committed) and is idempotent after', async () => {
      await s.hook(hookPayload('d1', 'UserPromptSubmit'));
      const r = await s.request('DELETE', '/api/instances/claude-d1');
      assert.equal(r.status, 200);
      assert.equal(r.body.state, 'stopped');
      assert.equal(r.body.stop_reason, 'deregistered');
      const row = await databaseOf(s.system).get<{ status: string }>('SELECT status FROM claude_instances WHERE id = ?', ['claude-d1']);
      assert.equal(row?.status, 'stopped');
      const again = await s.request('DELETE', '/api/instances/claude-d1');
      assert.equal(again.status, 200);
      assert.equal(again.body.state, 'stopped');
      assert.equal((await s.request('DELETE', '/api/instances/claude-none')).status, 404);
    });

    it('a heartbeat moves last activity (and so the expiry); 409 when stopped, 404 when unknown', async () => {
      await s.hook(hookPayload('h1', 'SessionStart'));
      clock.advance(60_000);
      const r = await s.request('POST', '/api/instances/claude-h1/heartbeat');
      assert.equal(r.status, 200);
      assert.equal(r.body.last_activity, new Date(clock.now()).toISOString());
      assert.equal((await s.request('POST', '/api/instances/claude-h1/heartbeat', { extra: 1 })).status, 400);
      await s.request('DELETE', '/api/instances/claude-h1');
      const stopped = await s.request('POST', '/api/instances/claude-h1/heartbeat');
      assert.equal(stopped.status, 409);
      assert.equal(stopped.body.error, 'conflict');
      assert.equal((await s.request('POST', '/api/instances/claude-zz/heartbeat')).status, 404);
    });
  });

  describe('devices', () => {
    it('lists the configured devices with the local desktop, and registers new ones', async () => {
      const list = await s.request('GET', '/api/devices');
      assert.deepEqual(list.body.devices.map((d: { id: string }) => d.id).sort(), ['desktop', 'pixel-phone']);
      const r = await s.request('POST', '/api/devices/register', { id: 'laptop', type: 'laptop', tailscale_ip: '100.70.1.2' });
      assert.equal(r.status, 201);
      assert.equal(r.body.name, 'laptop');
      const inst = await s.hook(hookPayload('lap', 'SessionStart'), '?ssh_client=100.70.1.2%2055%2022');
      assert.equal(inst.body.instance.device_id, 'laptop');
      const upd = await s.request('POST', '/api/devices/register', { id: 'laptop', name: 'ThinkPad', type: 'laptop', tailscale_ip: '100.70.1.2' });
      assert.equal(upd.status, 200);
      assert.equal(upd.body.name, 'ThinkPad');
      const dev = await databaseOf(s.system).get<{ name: string }>('SELECT name FROM devices WHERE id = ?', ['laptop']);
      assert.equal(dev?.name, 'ThinkPad');
    });

    it('refuses an IP that another device owns (409) and bad fields (400), writing nothing', async () => {
      const counts = await tableCounts(s.system);
      const clash = await s.request('POST', '/api/devices/register', { id: 'tablet', tailscale_ip: '100.102.92.24' });
      assert.equal(clash.status, 409);
      assert.ok('tailscale_ip' in clash.body.fields);
      for (const body of [{ id: 'has space' }, { id: 'x', type: 'fridge' }, { id: 'x', webhook_url: 'not a url' }, { id: 'x', extra: true }, {}]) {
        const r = await s.request('POST', '/api/devices/register', body);
        assert.equal(r.status, 400, JSON.stringify(body));
      }
      assert.deepEqual(await tableCounts(s.system), counts);
    });
  });

  describe('GET /api/events', () => {
    it('answers newest first, with limit, since, until, instance and type (exact or prefix)', async () => {
      await s.hook(hookPayload('ev1', 'SessionStart'));
      clock.advance(10_000);
      const mid = new Date(clock.now()).toISOString();
      await s.hook(hookPayload('ev1', 'UserPromptSubmit'));
      await s.hook(hookPayload('ev2', 'SessionStart'));
      const all = await s.request('GET', '/api/events?limit=100');
      const ids = all.body.events.map((e: { id: number }) => e.id);
      assert.deepEqual(ids, [...ids].sort((a: number, b: number) => b - a));
      assert.equal((await s.request('GET', '/api/events?limit=2')).body.count, 2);
      const since = await s.request('GET', `/api/events?since=${encodeURIComponent(mid)}&type=hook.*`);
      assert.deepEqual(since.body.events.map((e: { type: string }) => e.type), ['hook.session_start', 'hook.user_prompt_submit']);
      const until = await s.request('GET', `/api/events?until=${clock.now() - 10_000 + 1}&instance=claude-ev1`);
      assert.deepEqual(until.body.events.map((e: { type: string }) => e.type).sort(), ['hook.session_start', 'instance.registered']);
      const exact = await s.request('GET', '/api/events?type=instance.registered');
      assert.equal(exact.body.count, 2);
      const before = await s.request('GET', `/api/events?before=${ids[0]}&limit=1`);
      assert.equal(before.body.events[0].id, ids[1]);
    });

    it('rejects bad queries with 400', async () => {
      for (const q of ['limit=-1', 'since=yesterday', 'type=DROP%20TABLE', 'instance=a%20b', 'foo=1']) {
        const r = await s.request('GET', `/api/events?${q}`);
        assert.equal(r.status, 400, q);
      }
    });
  });

  it('GET /api/dashboard answers active instances, counts by state and recent events', async () => {
    await s.hook(hookPayload('db1', 'UserPromptSubmit'));
    await s.hook(hookPayload('db2', 'SessionStart'));
    const r = await s.request('GET', '/api/dashboard?events=3');
    assert.equal(r.status, 200);
    assert.equal(r.body.instances.length, 2);
    assert.deepEqual(r.body.counts, { idle: 1, working: 1, awaiting: 0 });
    assert.equal(r.body.recent_events.length, 3);
    assert.equal(r.body.recent_events[0].type, 'hook.session_start');
  });

  it('GET /health answers version, uptime, database and actor counts', async () => {
    await s.hook(hookPayload('hh', 'UserPromptSubmit'));
    clock.advance(5000);
    const r = await s.request('GET', '/health');
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'ok');
    assert.equal(r.body.service, 'token-api');
    assert.match(r.body.version, /^\d+\.\d+\.\d+/);
    assert.equal(r.body.uptime_s, 5);
    assert.equal(r.body.database.ok, true);
    assert.equal(r.body.database.synchronous, 'NORMAL');
    assert.equal(r.body.actors.instances, 1);
    assert.deepEqual(r.body.actors.instances_by_state, { idle: 0, working: 1, awaiting: 0 });
    assert.equal(r.body.websocket.clients, 0);
    assert.equal(typeof r.body.websocket.seq, 'number');
  });

  it('GET / names the service', async () => {
    const r = await s.request('GET', '/');
    assert.deepEqual(Object.keys(r.body), ['service', 'version']);
    assert.equal(r.body.service, 'token-api');
  });
});
