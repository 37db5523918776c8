// The instance machine's `instance.idle`: an agent that went quiet (a Codex rollout untouched
// for the idle timeout, an aborted turn) is idle, without a notification, and quiet is not
// activity (the expiry deadline does not move).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActor } from 'xstate';
import { createExpiryTimer } from '../src/actors/instances/expiry-timer.js';
import { instanceMachine } from '../src/machines/instance.js';
import type { InstanceContext, InstanceEvent, NotifyIntent } from '../src/machines/instance-context.js';
import { FakeClock } from './support/clock.js';

function start(clock: FakeClock) {
  const machine = instanceMachine.provide({ actors: { expiryTimer: createExpiryTimer(clock) } });
  const actor = createActor(machine, {
    input: {
      instanceId: 'codex-s1',
      agentType: 'codex',
      sessionId: 's1',
      transcriptPath: '/c/rollout-s1.jsonl',
      tabName: null,
      number: 1,
      origin: { type: 'local', sourceIp: null, deviceId: 'desktop' },
      profile: { slot: 0, name: 'profile_1', voice: 'v', sound: 's.wav', color: '#0099ff' },
      pid: null,
      pidLocal: false,
      tty: null,
      workingDir: '/w',
      registeredAt: clock.now(),
      expiresAfterMs: 3 * 3_600_000,
    },
  });
  const intents: NotifyIntent[] = [];
  actor.on('notify', (e) => intents.push(e));
  actor.start();
  return { actor, intents, machine, send: (e: InstanceEvent) => actor.send(e) };
}

describe('instance.idle', () => {
  it('takes a working instance to idle, clears the tool, tells nobody and leaves the last activity', () => {
    const clock = new FakeClock();
    const { actor, intents, send } = start(clock);
    clock.advance(1000);
    send({ type: 'hook.pre_tool_use', tool: 'shell', at: clock.now() });
    const activeAt = clock.now();
    clock.advance(5 * 60_000);
    send({ type: 'instance.idle', reason: 'rollout untouched for 5 min', at: clock.now() });
    const snap = actor.getSnapshot();
    assert.equal(snap.value, 'idle');
    const ctx = snap.context as InstanceContext;
    assert.equal(ctx.currentTool, null);
    assert.equal(ctx.lastActivityAt, activeAt);
    assert.equal(ctx.stateSince, clock.now());
    assert.deepEqual(intents, []);
  });

  it('clears what an awaiting instance waited for, and is ignored when already idle', () => {
    const clock = new FakeClock();
    const { actor, intents, send } = start(clock);
    send({ type: 'hook.permission_request', tool: 'shell', at: clock.now() });
    assert.equal(actor.getSnapshot().value, 'awaiting');
    assert.equal(intents.length, 1);
    clock.advance(1000);
    send({ type: 'instance.idle', reason: 'turn aborted', at: clock.now() });
    assert.equal(actor.getSnapshot().value, 'idle');
    assert.equal((actor.getSnapshot().context as InstanceContext).awaiting, null);
    const before = actor.getSnapshot();
    send({ type: 'instance.idle', reason: null, at: clock.now() + 1 });
    assert.equal(actor.getSnapshot(), before, 'no change at all');
  });

  it('survives persistence: a restored idle instance still works', () => {
    const clock = new FakeClock();
    const { actor, send, machine } = start(clock);
    send({ type: 'hook.user_prompt_submit', at: clock.now() });
    send({ type: 'instance.idle', reason: null, at: clock.now() });
    const persisted = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()));
    actor.stop();
    const restored = createActor(machine, { snapshot: persisted, input: undefined as never }).start();
    assert.equal(restored.getSnapshot().value, 'idle');
    restored.send({ type: 'hook.user_prompt_submit', at: clock.now() + 10 });
    assert.equal(restored.getSnapshot().value, 'working');
    restored.stop();
  });
});
