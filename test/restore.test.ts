import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { FakeClock } from './support/clock.js';
import { hookPayload, startTestServer, tempHome, type TestServer } from './support/system.js';
import { databaseOf } from './support/sqlite.js';
import { connectFeed } from './support/feed.js';

const HOUR = 3_600_000;

describe('restart: actors come back from their snapshots', () => {
  let home: ReturnType<typeof tempHome>;
  let s: TestServer | undefined;

  beforeEach(async () => {
    await s?.close();
    s = undefined;
    home?.cleanup();
    home = tempHome();
  });
  after(async () => {
    await s?.close();
    home?.cleanup();
  });

  async function restart(clock: FakeClock, file = {}) {
    await s?.close();
    s = await startTestServer(home.dir, file, { clock });
    return s;
  }

  it('restores state, profile, counts, display number and session links', async () => {
    const clock = new FakeClock();
    let srv = await restart(clock);
    await srv.hook(hookPayload('a', 'SessionStart'), '?tab_name=alpha');
    await srv.hook(hookPayload('b', 'UserPromptSubmit'));
    await srv.hook(hookPayload('b', 'PreToolUse', { tool_name: 'Bash' }));
    await srv.hook(hookPayload('b', 'PostToolUse', { tool_name: 'Bash' }));
    await srv.hook(hookPayload('b', 'PreToolUse', { tool_name: 'Edit' }));
    // /clear: a new session id for the same transcript's instance
    const cleared = await srv.hook(hookPayload('b2', 'SessionStart', { source: 'clear', transcript_path: hookPayload('b', 'x').transcript_path }));
    assert.equal(cleared.body.instance.id, 'claude-b');
    await srv.hook(hookPayload('b2', 'UserPromptSubmit'));
    await srv.hook(hookPayload('c', 'PermissionRequest', { tool_name: 'Write' }));
    const beforeList = (await srv.request('GET', '/api/instances')).body.instances;

    srv = await restart(clock);
    assert.equal(srv.system.started.restore.restored, 3);
    assert.equal((await srv.request('GET', '/health')).body.actors.instances, 3);
    const afterList = (await srv.request('GET', '/api/instances')).body.instances;
    assert.deepEqual(afterList, beforeList);
    // The feed's start picture is the actors' live views: memory matches the committed rows.
    const feed = await connectFeed(srv.wsUrl);
    const live = (await feed.next('snapshot')).instances;
    await feed.close();
    for (const i of beforeList) assert.deepEqual(live.find((v) => v.id === i.id), i, `live view of ${i.id}`);

    // session ids linked before the restart still reach their instance
    const viaOld = await srv.hook(hookPayload('b', 'Stop'));
    assert.equal(viaOld.body.instance.id, 'claude-b');
    assert.equal(viaOld.body.from, 'working');
    assert.equal(viaOld.body.instance.session_id, 'b2');
    // a new instance takes the lowest free number, not one a restored instance holds
    const d = await srv.hook(hookPayload('d', 'SessionStart'));
    assert.equal(d.body.instance.display_name, 'Claude #4');
    const held = beforeList.map((i: { profile: { name: string } }) => i.profile.name);
    assert.equal(held.includes(d.body.instance.profile.name), false, 'the new profile is one no restored instance holds');
  });

  it('the expiry timer survives a restart with the remaining time intact', async () => {
    const clock = new FakeClock();
    let srv = await restart(clock, { instance_expiry_minutes: 180 });
    await srv.hook(hookPayload('t', 'UserPromptSubmit'));
    clock.advance(2 * HOUR);
    srv = await restart(clock, { instance_expiry_minutes: 180 });
    clock.advance(HOUR - 1000);
    await srv.system.settle();
    assert.equal((await srv.request('GET', '/api/instances/claude-t')).body.state, 'working');
    clock.advance(1000);
    await srv.system.settle();
    const r = await srv.request('GET', '/api/instances/claude-t');
    assert.equal(r.body.state, 'stopped');
    assert.equal(r.body.stop_reason, 'expired');
  });

  it('an instance that expired while the server was down expires at start', async () => {
    const clock = new FakeClock();
    let srv = await restart(clock);
    await srv.hook(hookPayload('late', 'SessionStart'));
    await srv.close();
    s = undefined;
    clock.advance(5 * HOUR);
    srv = await restart(clock);
    clock.advance(0);
    await srv.system.settle();
    assert.equal((await srv.request('GET', '/api/instances/claude-late')).body.stop_reason, 'expired');
  });

  describe('a snapshot that fails validation does not stop the server', () => {
    const corruptions: [string, string][] = [
      ['bad JSON', `UPDATE actor_snapshots SET snapshot = '{"status": "act' WHERE actor_id = 'claude-x'`],
      ['an unknown state', `UPDATE actor_snapshots SET snapshot = json_set(snapshot, '$.value', 'dancing') WHERE actor_id = 'claude-x'`],
      ['a context that breaks the schema', `UPDATE actor_snapshots SET snapshot = json_set(snapshot, '$.context.toolCount', -5) WHERE actor_id = 'claude-x'`],
      ['an older machine version with no migration', `UPDATE actor_snapshots SET machine_version = '0' WHERE actor_id = 'claude-x'`],
    ];
    for (const [name, sql] of corruptions) {
      it(`${name}: the instance is rebuilt from its projection row`, async () => {
        const clock = new FakeClock();
        let srv = await restart(clock);
        await srv.hook(hookPayload('x', 'UserPromptSubmit'));
        await srv.hook(hookPayload('x', 'PostToolUse', { tool_name: 'Bash' }));
        await srv.hook(hookPayload('ok', 'SessionStart'));
        await databaseOf(srv.system).run(sql);
        srv = await restart(clock);
        assert.deepEqual([srv.system.started.restore.restored, srv.system.started.restore.rebuilt, srv.system.started.restore.retired], [1, 1, 0]);
        const x = await srv.request('GET', '/api/instances/claude-x');
        assert.equal(x.body.state, 'working');
        assert.equal(x.body.tool_count, 1);
        const ev = await srv.request('GET', '/api/events?type=instance.rebuilt');
        assert.equal(ev.body.count, 1);
        assert.equal(typeof ev.body.events[0].details.reason, 'string');
        // the rebuilt actor is live and takes events
        const next = await srv.hook(hookPayload('x', 'Stop'));
        assert.equal(next.body.to, 'idle');
        // and its repaired snapshot restores cleanly next time
        srv = await restart(clock);
        assert.deepEqual([srv.system.started.restore.restored, srv.system.started.restore.rebuilt], [2, 0]);
      });
    }

    it('with no usable projection row either, the instance is retired (stopped) and the rest still start', async () => {
      const clock = new FakeClock();
      let srv = await restart(clock);
      await srv.hook(hookPayload('x', 'UserPromptSubmit'));
      await srv.hook(hookPayload('ok', 'SessionStart'));
      await databaseOf(srv.system).run(`UPDATE actor_snapshots SET snapshot = 'garbage' WHERE actor_id = 'claude-x'`);
      await databaseOf(srv.system).run(`UPDATE claude_instances SET state = 'melting' WHERE id = 'claude-x'`);
      srv = await restart(clock);
      assert.deepEqual([srv.system.started.restore.restored, srv.system.started.restore.rebuilt, srv.system.started.restore.retired], [1, 0, 1]);
      const x = await srv.request('GET', '/api/instances/claude-x');
      assert.equal(x.body.status, 'stopped');
      assert.equal(x.body.stop_reason, 'snapshot_invalid');
      assert.equal((await srv.request('GET', '/api/events?type=instance.retired')).body.count, 1);
      assert.equal((await srv.request('GET', '/api/instances/claude-ok')).body.state, 'idle');
      srv = await restart(clock);
      assert.deepEqual([srv.system.started.restore.restored, srv.system.started.restore.retired], [1, 0]);
    });
  });

  it('a failed write answers 503, rolls the actor back to what was committed, and recovers', async () => {
    const clock = new FakeClock();
    const srv = await restart(clock);
    await srv.hook(hookPayload('w', 'UserPromptSubmit'));
    await databaseOf(srv.system).exec('ALTER TABLE events RENAME TO events_away');
    const failed = await srv.hook(hookPayload('w', 'Stop'));
    assert.equal(failed.status, 503);
    assert.equal(failed.body.error, 'unavailable');
    const health = await srv.request('GET', '/health');
    assert.equal(health.body.status, 'degraded');
    await databaseOf(srv.system).exec('ALTER TABLE events_away RENAME TO events');
    const ok = await srv.hook(hookPayload('w', 'Stop'));
    assert.equal(ok.status, 200);
    assert.equal(ok.body.from, 'working', 'memory went back to the committed state (not the idle of the failed Stop)');
    assert.equal(ok.body.to, 'idle');
  });

  it('a continued session whose link fails to commit is not linked in memory either', async () => {
    const clock = new FakeClock();
    const srv = await restart(clock);
    const transcript = hookPayload('c', 'x').transcript_path;
    await srv.hook(hookPayload('c', 'SessionStart'));
    await databaseOf(srv.system).exec('ALTER TABLE events RENAME TO events_away');
    const failed = await srv.hook(hookPayload('c2', 'SessionStart', { source: 'clear', transcript_path: transcript }));
    assert.equal(failed.status, 503);
    await databaseOf(srv.system).exec('ALTER TABLE events_away RENAME TO events');
    // c2 was not linked: its next hook (no transcript of c's) is a new instance, not claude-c.
    const probe = await srv.hook(hookPayload('c2', 'UserPromptSubmit'));
    assert.equal(probe.status, 200);
    assert.notEqual(probe.body.instance.id, 'claude-c');
    // A link that commits is kept: the next hook of that session reaches claude-c.
    const ok = await srv.hook(hookPayload('c3', 'SessionStart', { source: 'clear', transcript_path: transcript }));
    assert.equal(ok.body.instance.id, 'claude-c');
    assert.equal((await srv.hook(hookPayload('c3', 'UserPromptSubmit'))).body.instance.id, 'claude-c');
  });

  it('a replay that arrives while its event is still committing waits for it: a failed commit is never answered as a duplicate', async () => {
    const clock = new FakeClock();
    const srv = await restart(clock);
    await srv.hook(hookPayload('d', 'UserPromptSubmit'));
    await databaseOf(srv.system).exec('ALTER TABLE events RENAME TO events_away');
    const [first, replay] = await Promise.all([
      srv.hook(hookPayload('d', 'Stop'), '?event_id=evt-replay-0001'),
      srv.hook(hookPayload('d', 'Stop'), '?event_id=evt-replay-0001'),
    ]);
    assert.deepEqual([first.status, replay.status], [503, 503]);
    await databaseOf(srv.system).exec('ALTER TABLE events_away RENAME TO events');
    const again = await srv.hook(hookPayload('d', 'Stop'), '?event_id=evt-replay-0001');
    assert.equal(again.status, 200);
    assert.deepEqual([again.body.outcome, again.body.to], ['applied', 'idle']);
    const dup = await srv.hook(hookPayload('d', 'Stop'), '?event_id=evt-replay-0001');
    assert.equal(dup.body.outcome, 'duplicate');
  });
});
