// A live agent is never lost: expiry leaves an instance whose process runs alone (idle, no
// "timed out"), and any activity of a stopped instance's session revives it, with the same id,
// its name when free and a `revived` event, so that its permission requests reach the person.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FakeClock } from './support/clock.js';
import { hookPayload, startTestServer, tempHome, type TestServer } from './support/system.js';
import { databaseOf } from './support/sqlite.js';

const MINUTE = 60_000;

describe('stopped instances come back, live ones are never expired', () => {
  let home: ReturnType<typeof tempHome>;
  let s: TestServer;
  let clock: FakeClock;
  const alive = new Set<number>();

  beforeEach(async () => {
    home = tempHome();
    clock = new FakeClock();
    alive.clear();
    s = await startTestServer(home.dir, { instance_expiry_minutes: 0.5 }, { clock, processExists: (pid) => alive.has(pid) });
  });
  afterEach(async () => {
    await s.close();
    home.cleanup();
  });

  const intents = async (instance: string) =>
    (await databaseOf(s.system).all<{ intent: string }>('SELECT intent FROM notification_intents WHERE instance_id = ? ORDER BY at', [instance])).map((r) => r.intent);

  it('the repro: past the expiry with its process alive, an instance is only idle and nobody hears "timed out"', async () => {
    alive.add(4321);
    await s.hook(hookPayload('live', 'SessionStart'), '?pid=4321');
    await s.hook(hookPayload('live', 'UserPromptSubmit'), '?pid=4321');
    await s.hook(hookPayload('live', 'Stop'), '?pid=4321');
    clock.advance(40_000);
    await s.system.settle();
    const i = await s.request('GET', '/api/instances/claude-live');
    assert.equal(i.body.state, 'idle');
    assert.equal(i.body.status, 'active');
    assert.deepEqual(await intents('claude-live'), ['finished'], 'no expired intent');

    // Its next prompt, tool and permission request are the instance's, and the request goes out.
    await s.hook(hookPayload('live', 'UserPromptSubmit'), '?pid=4321');
    await s.hook(hookPayload('live', 'PreToolUse', { tool_name: 'Bash' }), '?pid=4321');
    const n = await s.hook(hookPayload('live', 'Notification', { notification_type: 'permission_prompt', message: 'Claude needs your permission to use Bash' }), '?pid=4321');
    assert.equal(n.body.outcome, 'applied');
    assert.equal(n.body.to, 'awaiting');
    assert.deepEqual(await intents('claude-live'), ['finished', 'needs_permission']);
  });

  it('an instance that expired (its process unknown) comes back with its next event, same id and name, and its permission request is announced', async () => {
    await s.hook(hookPayload('gone', 'SessionStart'));
    await s.hook(hookPayload('gone', 'UserPromptSubmit'));
    await s.hook(hookPayload('gone', 'PreToolUse', { tool_name: 'Read' }));
    await s.hook(hookPayload('gone', 'PostToolUse', { tool_name: 'Read' }));
    clock.advance(MINUTE);
    await s.system.settle();
    assert.equal((await s.request('GET', '/api/instances/claude-gone')).body.stop_reason, 'expired');

    const r = await s.hook(hookPayload('gone', 'UserPromptSubmit'));
    assert.equal(r.status, 200);
    assert.equal(r.body.outcome, 'applied');
    assert.equal(r.body.registered, true);
    assert.equal(r.body.instance.id, 'claude-gone');
    assert.equal(r.body.instance.display_name, 'Claude #1');
    assert.equal(r.body.instance.state, 'working');
    assert.equal(r.body.instance.tool_count, 1, 'its counts come back with it');
    const p = await s.hook(hookPayload('gone', 'PermissionRequest', { tool_name: 'Bash' }));
    assert.equal(p.body.to, 'awaiting');
    assert.deepEqual(await intents('claude-gone'), ['expired', 'needs_permission']);
    const revived = await s.request('GET', '/api/events?type=instance.revived&instance=claude-gone');
    assert.equal(revived.body.events[0].details.from, 'expired');
  });

  it('stopped from the dashboard (deregistered) while it works, it comes back with its next event', async () => {
    await s.hook(hookPayload('dash', 'UserPromptSubmit'));
    assert.equal((await s.request('DELETE', '/api/instances/claude-dash')).body.state, 'stopped');
    const r = await s.hook(hookPayload('dash', 'Notification', { notification_type: 'permission_prompt', message: 'needs Bash' }));
    assert.equal(r.body.instance.state, 'awaiting');
    assert.equal(r.body.instance.id, 'claude-dash');
    const revived = await s.request('GET', '/api/events?type=instance.revived&instance=claude-dash');
    assert.equal(revived.body.events[0].details.from, 'deregistered');
    assert.ok((await intents('claude-dash')).includes('needs_permission'));
  });

  it('a revived instance keeps its display number when it is free, and takes the lowest free one when not', async () => {
    alive.add(5001);
    await s.hook(hookPayload('first', 'SessionStart'));
    await s.hook(hookPayload('second', 'SessionStart'), '?pid=5001'); // its process runs: it keeps #2 throughout
    await s.request('DELETE', '/api/instances/claude-first');
    const kept = await s.hook(hookPayload('first', 'UserPromptSubmit'));
    assert.equal(kept.body.instance.display_name, 'Claude #1');
    await s.request('DELETE', '/api/instances/claude-first');
    // Within name_reuse_minutes (60) of its stop, #1 is given to no other instance.
    const within = await s.hook(hookPayload('other', 'SessionStart'));
    assert.equal(within.body.instance.display_name, 'Claude #3');
    await s.request('DELETE', '/api/instances/claude-other');
    clock.advance(61 * 60_000);
    await s.hook(hookPayload('third', 'SessionStart')); // past the window: takes #1
    // #1 is third's now, #2 second's: the lowest free one.
    const moved = await s.hook(hookPayload('first', 'UserPromptSubmit'));
    assert.equal(moved.body.instance.display_name, 'Claude #3');
  });

  it('past name_reuse_minutes, a revived instance still gets its own number back when no other instance holds it', async () => {
    for (const id of ['one', 'two', 'three']) await s.hook(hookPayload(id, 'SessionStart'));
    for (const id of ['one', 'two', 'three']) await s.request('DELETE', `/api/instances/claude-${id}`);
    clock.advance(61 * 60_000);
    // The numbers are free again: a new instance takes the lowest.
    assert.equal((await s.hook(hookPayload('new', 'SessionStart'))).body.instance.display_name, 'Claude #1');
    // #2 is the lowest free one now, but #3 was this instance's and nobody took it.
    const back = await s.hook(hookPayload('three', 'UserPromptSubmit'));
    assert.equal(back.body.instance.display_name, 'Claude #3');
  });

  it('events of one stopped session arriving together revive it once, in order', async () => {
    await s.hook(hookPayload('burst', 'SessionStart'));
    await s.hook(hookPayload('burst', 'SessionEnd'));
    const answers = await Promise.all([
      s.hook(hookPayload('burst', 'UserPromptSubmit')),
      s.hook(hookPayload('burst', 'PreToolUse', { tool_name: 'Bash' })),
      s.hook(hookPayload('burst', 'PostToolUse', { tool_name: 'Bash' })),
    ]);
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200]);
    assert.equal((await s.request('GET', '/api/events?type=instance.revived&instance=claude-burst')).body.count, 1);
    const i = await s.request('GET', '/api/instances/claude-burst');
    assert.equal(i.body.state, 'working');
    assert.equal(i.body.tool_count, 1);
  });
});
