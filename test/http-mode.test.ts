// The work mode over HTTP, on a real SQLite file with an injected clock: GET/POST /api/mode,
// the timer's expiry and its intent, the timer across restarts of the whole system, GET/POST
// /api/state with configured variables, and bad values that answer 400 and change nothing.
import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import type { ConfigFile } from '../src/config/config.js';
import type { ActorRefLike } from 'xstate';
import { FakeClock } from './support/clock.js';
import { databaseOf, readRows } from './support/sqlite.js';
import { hookPayload, startTestServer, tableCounts, tempHome, type TestServer } from './support/system.js';

const MIN = 60_000;
const CONFIG: ConfigFile = {
  state_variables: {
    volume: { type: 'number', default: 3, min: 0, max: 10 },
    music: { type: 'string', default: 'lofi', values: ['lofi', 'jazz'] },
    dnd: { type: 'boolean', default: false },
  },
};

describe('work mode and state over HTTP', () => {
  let home: ReturnType<typeof tempHome>;
  let s: TestServer | undefined;
  let clock: FakeClock;

  /** The actors as the inspector (`serve --inspect`) hears of them. */
  let inspected: ActorRefLike[];

  async function restart(file: ConfigFile = CONFIG) {
    await s?.close();
    inspected = [];
    s = await startTestServer(home.dir, file, { clock, inspect: { next: (e) => e.type === '@xstate.actor' && inspected.push(e.actorRef) } });
    return s;
  }

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

  it('starts in the default mode, focus off, with the configured modes', async () => {
    const srv = await restart();
    const r = await srv.request('GET', '/api/mode');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      mode: 'work_silence',
      policy: 'work',
      focus: false,
      since: new Date(clock.now()).toISOString(),
      set_by: 'start',
      deadline: null,
      remaining_s: null,
      return_to: null,
      modes: ['work_silence', 'work_music', 'break', 'off'],
    });
  });

  it('POST /api/mode sets a mode for a duration; at the deadline it returns, records it and emits mode_timer_ended', async () => {
    const srv = await restart();
    await srv.request('POST', '/api/mode', { mode: 'work_music' });
    clock.advance(1000);
    const set = await srv.request('POST', '/api/mode', { mode: 'break', minutes: 15 });
    assert.equal(set.status, 200, set.text);
    assert.equal(set.body.mode, 'break');
    assert.equal(set.body.policy, 'open');
    assert.equal(set.body.deadline, new Date(clock.now() + 15 * MIN).toISOString());
    assert.equal(set.body.remaining_s, 15 * 60);
    assert.equal(set.body.return_to, 'work_music');
    // answered after commit: the snapshot row already says break
    const row = await databaseOf(srv.system).get<{ snapshot: string }>("SELECT snapshot FROM actor_snapshots WHERE actor_id = '#mode'");
    assert.equal(JSON.parse(row!.snapshot).context.mode, 'break');

    clock.advance(15 * MIN - 1);
    assert.equal((await srv.request('GET', '/api/mode')).body.mode, 'break');
    clock.advance(1);
    await srv.system.settle();
    const back = await srv.request('GET', '/api/mode');
    assert.equal(back.body.mode, 'work_music');
    assert.equal(back.body.set_by, 'timer');
    assert.equal(back.body.deadline, null);
    const events = (await srv.request('GET', '/api/events?type=mode.changed')).body.events;
    assert.deepEqual(
      events.map((e: { details: { from: string; to: string; by: string } }) => [e.details.from, e.details.to, e.details.by]),
      [
        ['break', 'work_music', 'timer'],
        ['work_music', 'break', 'request'],
        ['work_silence', 'work_music', 'request'],
      ],
    );
    // Its intent (an intent of no instance goes to this machine) is committed with the timer's change.
    assert.deepEqual(await readRows(home.dir, 'SELECT intent, instance_id, at, detail, sentence FROM notification_intents'), [
      { intent: 'mode_timer_ended', instance_id: null, at: new Date(clock.now()).toISOString(), detail: 'break ended; back to work_music', sentence: 'The break timer ended; mode is now work_music' },
    ]);
    const stored = await databaseOf(srv.system).get<{ snapshot: string }>("SELECT snapshot FROM actor_snapshots WHERE actor_id = '#mode'");
    assert.equal(JSON.parse(stored!.snapshot).context.mode, 'work_music', 'the timer change is committed');
  });

  it('the timer survives restarts with its remaining time intact, and fires after one', async () => {
    let srv = await restart();
    const set = await srv.request('POST', '/api/mode', { mode: 'break', minutes: 15 });
    const deadline = set.body.deadline;
    clock.advance(5 * MIN);
    await srv.close();
    s = undefined;
    clock.advance(3 * MIN); // the server is down for 3 minutes
    srv = await restart();
    assert.equal(srv.system.started.mode.how, 'restored');
    let mode = (await srv.request('GET', '/api/mode')).body;
    assert.equal(mode.mode, 'break');
    assert.equal(mode.deadline, deadline);
    assert.equal(mode.remaining_s, 7 * 60);
    assert.equal(mode.return_to, 'work_silence');
    clock.advance(7 * MIN - 1);
    assert.equal((await srv.request('GET', '/api/mode')).body.mode, 'break');
    clock.advance(1);
    mode = (await srv.request('GET', '/api/mode')).body;
    assert.equal(mode.mode, 'work_silence');
    assert.equal(mode.set_by, 'timer');
  });

  it('a timer whose deadline passed while the server was down ends right after start', async () => {
    let srv = await restart();
    await srv.request('POST', '/api/mode', { mode: 'off', minutes: 1 });
    await srv.close();
    s = undefined;
    clock.advance(60 * MIN);
    srv = await restart();
    clock.advance(0);
    await srv.system.settle();
    const mode = (await srv.request('GET', '/api/mode')).body;
    assert.equal(mode.mode, 'work_silence');
    assert.equal(mode.set_by, 'timer');
  });

  it('GET /api/state answers mode, focus, variables, the gate and instance counts; POST updates several at once', async () => {
    const srv = await restart();
    await srv.hook(hookPayload('a', 'UserPromptSubmit'));
    await srv.hook(hookPayload('b', 'PermissionRequest', { tool_name: 'Bash' }));
    await srv.hook(hookPayload('c', 'SessionStart'));
    let st = (await srv.request('GET', '/api/state')).body;
    assert.equal(st.mode, 'work_silence');
    assert.equal(st.focus, false);
    assert.deepEqual([st.volume, st.music, st.dnd], [3, 'lofi', false]);
    assert.deepEqual(st.instances, { idle: 1, working: 1, awaiting: 1, total: 3 });
    assert.equal(st.gate.productive, true);
    assert.deepEqual(st.gate.working_instances, ['claude-a']);

    clock.advance(1000);
    const r = await srv.request('POST', '/api/state', { mode: 'work_music', minutes: 30, focus: true, volume: 7, music: 'jazz' });
    assert.equal(r.status, 200, r.text);
    st = r.body;
    assert.deepEqual([st.mode, st.focus, st.volume, st.music, st.dnd, st.return_to], ['work_music', true, 7, 'jazz', false, 'work_silence']);
    assert.equal(st.deadline, new Date(clock.now() + 30 * MIN).toISOString());
    // The permission request's notification is delivered at once, on its own time: its outcome
    // rows may land among the newest events, so only the mode's and state's own rows are compared.
    const newest = (await srv.request('GET', '/api/events?limit=20')).body.events as { type: string; created_at: string }[];
    const types = newest.filter((e) => !e.type.startsWith('notification.') && e.created_at === new Date(clock.now()).toISOString()).map((e) => e.type).sort();
    assert.deepEqual(types, ['focus.changed', 'mode.changed', 'state.changed']);
    const changed = (await srv.request('GET', '/api/events?type=state.changed')).body.events[0].details;
    assert.deepEqual(changed, { volume: { from: 3, to: 7 }, music: { from: 'lofi', to: 'jazz' } });

    const focusOff = await srv.request('POST', '/api/state', { focus: false });
    assert.equal(focusOff.body.focus, false);
    assert.equal(focusOff.body.mode, 'work_music', 'the mode and its timer stay');
    assert.equal(focusOff.body.deadline, st.deadline);
  });

  it('bad values, unknown keys and empty bodies answer 400 and change nothing', async () => {
    const srv = await restart();
    await srv.request('POST', '/api/state', { focus: true, volume: 5 });
    const before = (await srv.request('GET', '/api/state')).body;
    const counts = await tableCounts(srv.system);
    const cases: [string, string, unknown, string][] = [
      ['POST', '/api/mode', { mode: 'nap' }, 'mode'],
      ['POST', '/api/mode', { mode: 'BREAK' }, 'mode'],
      ['POST', '/api/mode', { mode: 'break', minutes: 0 }, 'minutes'],
      ['POST', '/api/mode', { mode: 'break', minutes: -5 }, 'minutes'],
      ['POST', '/api/mode', { mode: 'break', minutes: '15' }, 'minutes'],
      ['POST', '/api/mode', { mode: 'break', minutes: 10081 }, 'minutes'],
      ['POST', '/api/mode', { mode: 'break', focus: true }, 'focus'],
      ['POST', '/api/mode', {}, 'mode'],
      ['POST', '/api/state', {}, '(root)'],
      ['POST', '/api/state', { minutes: 5 }, 'minutes'],
      ['POST', '/api/state', { focus: 'yes' }, 'focus'],
      ['POST', '/api/state', { focus: false, volume: 11 }, 'volume'],
      ['POST', '/api/state', { volume: 2.5, music: 'rock' }, 'music'],
      ['POST', '/api/state', { dnd: 1 }, 'dnd'],
      ['POST', '/api/state', { focus: false, colour: 'red' }, 'colour'],
      ['POST', '/api/state', { mode: 'break', vars: { volume: 1 } }, 'vars'],
      ['POST', '/api/state', [{ focus: false }], '(root)'],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await srv.request(method, path, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.body.error, 'validation_failed', r.text);
      assert.ok(field in r.body.fields, `${JSON.stringify(body)} names ${field}: ${r.text}`);
    }
    for (const raw of ['{"mode": "break"', 'mode=break', '"break"']) {
      const r = await srv.request('POST', '/api/mode', raw);
      assert.equal(r.status, 400, `${raw}: ${r.text}`);
    }
    for (const path of ['/api/mode?x=1', '/api/state?mode=break']) {
      const r = await srv.request('GET', path);
      assert.equal(r.status, 400, path);
    }
    assert.deepEqual((await srv.request('GET', '/api/state')).body, before);
    assert.deepEqual(await tableCounts(srv.system), counts);
  });

  it('a changed configuration is applied on start: a mode that is gone resets to the default, variables keep what still fits', async () => {
    let srv = await restart({ ...CONFIG, modes: { deep: 'work', chill: 'open', pause: 'open' }, default_mode: 'deep' });
    await srv.request('POST', '/api/state', { mode: 'chill', minutes: 10, volume: 9, music: 'jazz' });
    srv = await restart({
      modes: { deep: 'work', pause: 'open' },
      default_mode: 'pause',
      state_variables: { volume: { type: 'number', default: 1, max: 5 }, music: { type: 'string', default: 'jazz' }, lamp: { type: 'boolean', default: true } },
    });
    const st = (await srv.request('GET', '/api/state')).body;
    assert.deepEqual([st.mode, st.set_by, st.deadline, st.volume, st.music, st.lamp, st.dnd], ['pause', 'config', null, 1, 'jazz', true, undefined]);
    assert.deepEqual((await srv.request('GET', '/api/mode')).body.modes, ['deep', 'pause']);
    clock.advance(10 * MIN);
    assert.equal((await srv.request('GET', '/api/mode')).body.mode, 'pause');
  });

  it('a mode snapshot that fails its checks starts afresh, and says so', async () => {
    let srv = await restart();
    await srv.request('POST', '/api/mode', { mode: 'break' });
    await databaseOf(srv.system).run(`UPDATE actor_snapshots SET snapshot = '{"status":"active","value":"steady","context":{"mode":7}}' WHERE actor_id = '#mode'`);
    srv = await restart();
    assert.equal(srv.system.started.mode.how, 'reset');
    assert.equal((await srv.request('GET', '/api/mode')).body.mode, 'work_silence');
    const reset = (await srv.request('GET', '/api/events?type=actor.reset')).body.events;
    assert.equal(reset.length, 1);
    assert.equal(reset[0].details.actor, '#mode');
    assert.match(reset[0].details.reason, /context/);
  });

  it('the dashboard and health show the mode, focus and gate', async () => {
    const srv = await restart();
    await srv.request('POST', '/api/state', { mode: 'work_music', focus: true });
    await srv.hook(hookPayload('a', 'UserPromptSubmit'));
    const d = (await srv.request('GET', '/api/dashboard')).body;
    assert.deepEqual([d.mode, d.focus, d.focus_enabled, d.productivity_active, d.mode_deadline], ['work_music', true, true, true, null]);
    assert.equal(d.gate.state, 'productive');
    const h = (await srv.request('GET', '/health')).body;
    assert.equal(h.actors.mode, 1);
    assert.equal(h.actors.gate, 1);
    assert.equal(h.actors.total, 3);
  });

  it('a failed mode actor is retired, and reads, gate checks and hooks go on with the last known mode; changes answer 503', async () => {
    const srv = await restart({ ...CONFIG, distracting_apps: ['youtube'] });
    await srv.request('POST', '/api/mode', { mode: 'break', minutes: 15 });
    // A malformed event makes the machine's own action throw: xstate stops the actor with an error.
    const modeActor = inspected.find((a) => a.getSnapshot().machine?.id === 'mode' && a.getSnapshot().status === 'active');
    modeActor!.send({ type: 'mode.configure', modes: null, defaultMode: 'work_silence', vars: {}, at: clock.now() });
    assert.equal((await srv.request('GET', '/health')).body.actors.mode, 0, 'retired from the hub');
    const check = await srv.request('GET', '/api/check?app=youtube');
    assert.equal(check.status, 200);
    assert.deepEqual([check.body.mode, check.body.allowed], ['break', true]);
    assert.equal((await srv.request('GET', '/?app=youtube')).text, 'allowed');
    assert.equal((await srv.request('GET', '/api/mode')).body.mode, 'break');
    assert.equal((await srv.request('GET', '/api/state')).status, 200);
    const stopped = await srv.hook(hookPayload('m', 'Stop'));
    assert.equal(stopped.status, 200);
    const change = await srv.request('POST', '/api/mode', { mode: 'off' });
    assert.equal(change.status, 503);
    assert.equal(change.body.error, 'unavailable');
    assert.equal((await srv.request('GET', '/health')).status, 200);
  });
});
