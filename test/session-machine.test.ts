// The managed session machine alone: starting -> ready -> busy with queued prompts -> ready,
// cancel, stop, exit from any state (final, ignoring what comes after), and a persist -> JSON
// -> restore round trip that passes the snapshot checks the server runs at start.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActor } from 'xstate';
import { checkSnapshot } from '../src/actors/runtime/snapshots.js';
import { sessionContextSchema } from '../src/machines/session-context.js';
import { sessionMachine } from '../src/machines/session.js';

const input = { id: 'ses-000000000001', name: 'n', kind: 'headless' as const, agent: 'claude' as const, repo: 'r', cwd: '/r', claudeSessionId: 'u', account: null, at: 1000 };

function start() {
  const actor = createActor(sessionMachine, { input });
  actor.start();
  return actor;
}

describe('session machine', () => {
  it('counts prompts and turns: a prompt queued while busy keeps it busy until its own result', () => {
    const a = start();
    assert.equal(a.getSnapshot().value, 'starting');
    a.send({ type: 'session.spawned', pid: 42, at: 1001 });
    a.send({ type: 'session.ready', at: 1002 });
    assert.equal(a.getSnapshot().value, 'ready');
    a.send({ type: 'session.send', at: 1003, by: 'loopback' });
    a.send({ type: 'session.send', at: 1004, by: 'token' });
    assert.equal(a.getSnapshot().value, 'busy');
    a.send({ type: 'session.result', at: 1005 });
    assert.equal(a.getSnapshot().value, 'busy', 'the queued prompt still runs');
    a.send({ type: 'session.result', at: 1006 });
    assert.equal(a.getSnapshot().value, 'ready');
    assert.deepEqual([a.getSnapshot().context.prompts, a.getSnapshot().context.turns, a.getSnapshot().context.pid], [2, 2, 42]);
  });

  it('cancels a turn with its queued prompts, then takes new ones', () => {
    const a = start();
    a.send({ type: 'session.ready', at: 1 });
    a.send({ type: 'session.send', at: 2, by: 'loopback' });
    a.send({ type: 'session.send', at: 3, by: 'loopback' });
    a.send({ type: 'session.cancel', at: 4, by: 'loopback' });
    assert.equal(a.getSnapshot().value, 'cancelling');
    a.send({ type: 'session.result', at: 5 });
    assert.equal(a.getSnapshot().value, 'ready');
    assert.equal(a.getSnapshot().context.turns, 2);
    a.send({ type: 'session.cancel', at: 6, by: 'loopback' });
    assert.equal(a.getSnapshot().value, 'ready', 'nothing to cancel when ready');
  });

  it('exits from any state with the code and reason, and ignores everything after', () => {
    for (const setup of [[], [{ type: 'session.ready', at: 1 }], [{ type: 'session.ready', at: 1 }, { type: 'session.send', at: 2, by: 'loopback' }], [{ type: 'session.stop', at: 1, by: 'token' }]] as const) {
      const a = start();
      for (const e of setup) a.send(e as never);
      a.send({ type: 'session.exited', at: 9, code: 143, signal: null, reason: 'stopped', lastLines: ['bye'] });
      const s = a.getSnapshot();
      assert.equal(s.value, 'exited');
      assert.equal(s.status, 'done');
      assert.deepEqual(s.context.exit, { code: 143, signal: null, reason: 'stopped', lastLines: ['bye'], at: 9 });
      assert.equal(s.context.pid, null);
      a.send({ type: 'session.send', at: 10, by: 'loopback' });
      assert.equal(a.getSnapshot().context.prompts, s.context.prompts);
    }
  });

  it('survives persist -> JSON -> restore, passing the start-up checks', () => {
    const a = start();
    a.send({ type: 'session.ready', at: 1 });
    a.send({ type: 'session.send', at: 2, by: 'loopback' });
    a.send({ type: 'session.rename', name: 'renamed', at: 3 });
    a.send({ type: 'session.agent_session', sessionId: 'thread-1', at: 3 });
    const json = JSON.stringify(a.getPersistedSnapshot());
    const check = checkSnapshot(sessionMachine, sessionContextSchema, json, sessionMachine.version ?? '0');
    assert.ok(check.ok, check.ok ? '' : check.reason);
    const b = createActor(sessionMachine, { snapshot: check.snapshot, input } as never);
    b.start();
    assert.equal(b.getSnapshot().value, 'busy');
    assert.equal(b.getSnapshot().context.name, 'renamed');
    assert.equal(b.getSnapshot().context.claudeSessionId, 'thread-1', "the agent's own session id, as Codex named it");
    assert.equal(b.getSnapshot().value, 'busy', 'learning it changes no state');
    b.send({ type: 'session.result', at: 4 });
    assert.equal(b.getSnapshot().value, 'ready');
  });
});
