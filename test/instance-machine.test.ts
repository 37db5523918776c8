import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActor } from 'xstate';
import { createExpiryTimer } from '../src/actors/instances/expiry-timer.js';
import { instanceMachine } from '../src/machines/instance.js';
import { instanceContextSchema, type InstanceContext, type InstanceEvent, type InstanceInput, type NotifyIntent } from '../src/machines/instance-context.js';
import { checkSnapshot } from '../src/actors/runtime/snapshots.js';
import { FakeClock } from './support/clock.js';

const HOUR = 3_600_000;
type EventNoTime = InstanceEvent extends infer E ? (E extends InstanceEvent ? Omit<E, 'at'> & { at?: number } : never) : never;

function input(clock: FakeClock, over: Partial<InstanceInput> = {}): InstanceInput {
  return {
    instanceId: 'claude-s1',
    agentType: 'claude',
    sessionId: 's1',
    transcriptPath: '/t/s1.jsonl',
    tabName: null,
    number: 1,
    origin: { type: 'local', sourceIp: null, deviceId: 'desktop' },
    profile: { slot: 0, name: 'profile_1', voice: 'v', sound: 's.wav', color: '#0099ff' },
    pid: 100,
    pidLocal: true,
    tty: null,
    workingDir: '/w',
    registeredAt: clock.now(),
    expiresAfterMs: 3 * HOUR,
    ...over,
  };
}

/** `alive`: the pids the expiry timer finds running (none unless a test says so). */
function start(clock: FakeClock, over: Partial<InstanceInput> = {}, alive: Set<number> = new Set()) {
  const machine = instanceMachine.provide({ actors: { expiryTimer: createExpiryTimer(clock, (pid) => alive.has(pid)) } });
  const actor = createActor(machine, { input: input(clock, over) });
  const intents: NotifyIntent[] = [];
  actor.on('notify', (e) => intents.push(e));
  actor.start();
  const send = (e: EventNoTime) => actor.send({ at: clock.now(), ...e } as InstanceEvent);
  return { actor, intents, send, machine };
}

describe('instance machine', () => {
  it('starts idle with the registration time as its activity and state time', () => {
    const clock = new FakeClock();
    const { actor } = start(clock);
    const s = actor.getSnapshot();
    assert.equal(s.value, 'idle');
    assert.equal(s.context.lastActivityAt, clock.now());
    assert.equal(s.context.stateSince, clock.now());
    assert.equal(s.context.toolCount, 0);
  });

  it('follows a whole turn: prompt, tool, permission, tool result, stop', () => {
    const clock = new FakeClock();
    const { actor, intents, send } = start(clock);
    clock.advance(1000);
    send({ type: 'hook.user_prompt_submit' });
    assert.equal(actor.getSnapshot().value, 'working');
    assert.equal(actor.getSnapshot().context.stateSince, clock.now());

    clock.advance(1000);
    send({ type: 'hook.pre_tool_use', tool: 'Bash', input: 'npm test' });
    let c = actor.getSnapshot().context;
    assert.equal(actor.getSnapshot().value, 'working');
    assert.equal(c.currentTool, 'Bash');
    assert.equal(c.currentToolInput, 'npm test');
    assert.equal(c.currentToolSince, clock.now());

    clock.advance(1000);
    send({ type: 'hook.permission_request', tool: 'Bash' });
    assert.equal(actor.getSnapshot().value, 'awaiting');
    // The request names no input: the tool call it asks about (its command) does.
    assert.deepEqual(actor.getSnapshot().context.awaiting, { kind: 'permission', tool: 'Bash', input: 'npm test', message: null, agentId: null });
    // The permission notification that follows the request is the same wait: no second intent.
    send({ type: 'hook.notification', notificationType: 'permission_prompt', message: 'Claude needs your permission to use Bash' });
    assert.equal(actor.getSnapshot().value, 'awaiting');
    assert.equal(intents.filter((i) => i.intent === 'needs_permission').length, 1);
    assert.equal(intents[0]!.tool, 'Bash');
    assert.equal(intents[0]!.input, 'npm test');

    clock.advance(1000);
    send({ type: 'hook.post_tool_use', tool: 'Bash' });
    c = actor.getSnapshot().context;
    assert.equal(actor.getSnapshot().value, 'working');
    assert.equal(c.currentTool, null);
    assert.equal(c.awaiting, null);
    assert.equal(c.toolCount, 1);

    send({ type: 'hook.stop', lastMessage: 'All done.' });
    assert.equal(actor.getSnapshot().value, 'idle');
    const finished = intents.find((i) => i.intent === 'finished');
    assert.deepEqual(finished, { type: 'notify', intent: 'finished', instanceId: 'claude-s1', at: clock.now(), tool: null, message: 'All done.' });
  });

  it('staying in a state keeps the time it was entered', () => {
    const clock = new FakeClock();
    const { actor, send } = start(clock);
    send({ type: 'hook.user_prompt_submit' });
    const since = clock.now();
    clock.advance(60_000);
    send({ type: 'hook.pre_tool_use', tool: 'Bash' });
    send({ type: 'hook.post_tool_use', tool: 'Bash' });
    send({ type: 'hook.user_prompt_submit' });
    assert.equal(actor.getSnapshot().value, 'working');
    assert.equal(actor.getSnapshot().context.stateSince, since);
    assert.equal(actor.getSnapshot().context.lastActivityAt, since + 60_000);
  });

  it('counts failed tool runs and clears the tool', () => {
    const clock = new FakeClock();
    const { actor, send } = start(clock);
    send({ type: 'hook.pre_tool_use', tool: 'Edit' });
    send({ type: 'hook.post_tool_use_failure', tool: 'Edit' });
    assert.equal(actor.getSnapshot().context.toolCount, 1);
    assert.equal(actor.getSnapshot().context.currentTool, null);
    assert.equal(actor.getSnapshot().value, 'working');
  });

  it('awaits on AskUserQuestion and on elicitation, emitting needs_input', () => {
    const clock = new FakeClock();
    const { actor, intents, send } = start(clock);
    send({ type: 'hook.pre_tool_use', tool: 'AskUserQuestion' });
    assert.equal(actor.getSnapshot().value, 'awaiting');
    assert.equal(actor.getSnapshot().context.awaiting?.kind, 'input');
    send({ type: 'hook.post_tool_use', tool: 'AskUserQuestion' });
    assert.equal(actor.getSnapshot().value, 'working');
    send({ type: 'hook.notification', notificationType: 'elicitation_dialog', message: 'Pick one' });
    assert.equal(actor.getSnapshot().value, 'awaiting');
    assert.deepEqual(
      intents.map((i) => [i.intent, i.tool, i.message]),
      [
        ['needs_input', 'AskUserQuestion', null],
        ['needs_input', null, 'Pick one'],
      ],
    );
  });

  it('leaves the state alone on an idle_prompt notification but counts it as activity', () => {
    const clock = new FakeClock();
    const { actor, send } = start(clock);
    clock.advance(5000);
    send({ type: 'hook.notification', notificationType: 'idle_prompt', message: 'waiting' });
    assert.equal(actor.getSnapshot().value, 'idle');
    assert.equal(actor.getSnapshot().context.lastActivityAt, clock.now());
    assert.equal(actor.getSnapshot().context.stateSince, clock.now() - 5000);
  });

  it('emits failed on StopFailure and returns to idle', () => {
    const clock = new FakeClock();
    const { actor, intents, send } = start(clock);
    send({ type: 'hook.user_prompt_submit' });
    send({ type: 'hook.stop_failure', error: 'rate_limit' });
    assert.equal(actor.getSnapshot().value, 'idle');
    assert.deepEqual(intents.map((i) => [i.intent, i.message]), [['failed', 'rate_limit']]);
  });

  it('counts subagents without changing state, never below zero', () => {
    const clock = new FakeClock();
    const { actor, send } = start(clock);
    send({ type: 'hook.user_prompt_submit' });
    send({ type: 'hook.subagent_start' });
    send({ type: 'hook.subagent_start' });
    assert.equal(actor.getSnapshot().context.subagentCount, 2);
    send({ type: 'hook.subagent_stop' });
    send({ type: 'hook.subagent_stop' });
    send({ type: 'hook.subagent_stop' });
    assert.equal(actor.getSnapshot().context.subagentCount, 0);
    assert.equal(actor.getSnapshot().value, 'working');
  });

  it('a session start (resume, clear) returns to idle, links the new session id and resets the turn', () => {
    const clock = new FakeClock();
    const { actor, send } = start(clock);
    send({ type: 'hook.pre_tool_use', tool: 'Bash' });
    send({ type: 'hook.subagent_start' });
    send({ type: 'hook.session_start', source: 'clear', sessionId: 's2', transcriptPath: '/t/s2.jsonl' });
    const c = actor.getSnapshot().context;
    assert.equal(actor.getSnapshot().value, 'idle');
    assert.equal(c.sessionId, 's2');
    assert.equal(c.transcriptPath, '/t/s2.jsonl');
    assert.equal(c.currentTool, null);
    assert.equal(c.subagentCount, 0);
  });

  it('takes pid, tab name, tty and working directory from any event that carries them', () => {
    const clock = new FakeClock();
    const { actor, send } = start(clock, { pid: null, workingDir: null });
    send({ type: 'hook.user_prompt_submit', pid: 777, tabName: 'api work', tty: '/dev/pts/3', cwd: '/src/x' });
    const c = actor.getSnapshot().context;
    assert.deepEqual([c.pid, c.tabName, c.tty, c.workingDir], [777, 'api work', '/dev/pts/3', '/src/x']);
  });

  for (const [event, reason] of [
    [{ type: 'hook.session_end', reason: 'logout' }, 'session_end: logout'],
    [{ type: 'instance.deregister', reason: null }, 'deregistered'],
    [{ type: 'instance.process_gone' }, 'process_gone'],
  ] as const) {
    it(`${event.type} stops the instance (${reason})`, () => {
      const clock = new FakeClock();
      const { actor, send } = start(clock);
      send({ type: 'hook.pre_tool_use', tool: 'Bash' });
      clock.advance(10);
      send(event as never);
      const s = actor.getSnapshot();
      assert.equal(s.value, 'stopped');
      assert.equal(s.status, 'done');
      assert.equal(s.context.stoppedAt, clock.now());
      assert.equal(s.context.stopReason, reason);
      assert.equal(s.context.currentTool, null);
    });
  }

  it('expires after the configured inactivity, emitting expired, and not before', () => {
    const clock = new FakeClock();
    const { actor, intents, send } = start(clock);
    clock.advance(2 * HOUR);
    send({ type: 'instance.heartbeat' });
    clock.advance(2 * HOUR); // 4h after registration but 2h after the heartbeat
    assert.equal(actor.getSnapshot().value, 'idle');
    clock.advance(HOUR - 1);
    assert.equal(actor.getSnapshot().value, 'idle');
    clock.advance(1);
    assert.equal(actor.getSnapshot().value, 'stopped');
    assert.equal(actor.getSnapshot().context.stopReason, 'expired');
    assert.equal(actor.getSnapshot().context.stoppedAt, clock.now());
    assert.deepEqual(intents.map((i) => i.intent), ['expired']);
    assert.equal(clock.pending(), 0, 'the timer is gone once the instance stopped');
  });

  it('ignores an early expiry check (a stale timer) and re-arms', () => {
    const clock = new FakeClock();
    const { actor, send } = start(clock);
    clock.advance(HOUR);
    send({ type: 'expiry.check' });
    assert.equal(actor.getSnapshot().value, 'idle');
    clock.advance(2 * HOUR - 1);
    assert.equal(actor.getSnapshot().value, 'idle');
    clock.advance(1);
    assert.equal(actor.getSnapshot().value, 'stopped');
  });

  it('round-trips persist -> JSON -> restore, keeping state, context and the expiry timer', () => {
    const clock = new FakeClock();
    const { actor, send, machine } = start(clock);
    send({ type: 'hook.user_prompt_submit' });
    send({ type: 'hook.pre_tool_use', tool: 'Grep' });
    send({ type: 'hook.post_tool_use', tool: 'Grep' });
    send({ type: 'hook.pre_tool_use', tool: 'Read' });
    const json = JSON.stringify(actor.getPersistedSnapshot());
    actor.stop();
    assert.equal(clock.pending(), 0);

    const restoredClock = new FakeClock(clock.now());
    const restoredMachine = instanceMachine.provide({ actors: { expiryTimer: createExpiryTimer(restoredClock, () => false) } });
    const restored = createActor(restoredMachine, { snapshot: JSON.parse(json), input: undefined as never });
    const intents: string[] = [];
    restored.on('notify', (e) => intents.push(e.intent));
    restored.start();
    const s = restored.getSnapshot();
    assert.equal(s.value, 'working');
    assert.equal(s.context.currentTool, 'Read');
    assert.equal(s.context.toolCount, 1);
    assert.deepEqual(s.context, actor.getSnapshot().context);
    assert.equal(restoredClock.pending(), 1, 'the restored actor armed its expiry timer');
    restoredClock.advance(3 * HOUR);
    assert.equal(restored.getSnapshot().value, 'stopped');
    assert.deepEqual(intents, ['expired']);
    void machine;
  });

  it('never expires an instance whose local process is alive: a working one goes idle, quietly, and is looked at again later', () => {
    const clock = new FakeClock();
    const alive = new Set([100]);
    const { actor, intents, send } = start(clock, {}, alive);
    send({ type: 'hook.user_prompt_submit' });
    send({ type: 'hook.pre_tool_use', tool: 'Bash' });
    clock.advance(3 * HOUR);
    assert.equal(actor.getSnapshot().value, 'idle');
    assert.equal(actor.getSnapshot().context.currentTool, null);
    assert.equal(intents.length, 0, 'no "timed out" for a live process');
    clock.advance(3 * HOUR);
    assert.equal(actor.getSnapshot().value, 'idle', 'still alive, still only idle');
    alive.delete(100);
    clock.advance(3 * HOUR);
    assert.equal(actor.getSnapshot().value, 'stopped', 'once its process is gone it expires');
    assert.deepEqual(intents.map((i) => i.intent), ['expired']);
  });

  it('an instance whose pid is not local (an SSH session) expires as before', () => {
    const clock = new FakeClock();
    const { actor } = start(clock, { pidLocal: false }, new Set([100]));
    clock.advance(3 * HOUR);
    assert.equal(actor.getSnapshot().value, 'stopped');
  });

  it('a version 1 snapshot migrates: its subagents counted (without ids), no pending stop, no agent name', () => {
    const clock = new FakeClock();
    const { actor } = start(clock);
    actor.send({ type: 'hook.user_prompt_submit', at: clock.now() });
    const v2 = actor.getPersistedSnapshot() as unknown as { context: Record<string, unknown> };
    const { subagents: _s, stopPending: _p, agentName: _a, ...rest } = v2.context;
    const v1 = { ...v2, context: { ...rest, subagentCount: 2 } };
    const check = checkSnapshot(instanceMachine, instanceContextSchema, JSON.stringify(v1), '1');
    assert.ok(check.ok, check.ok ? '' : check.reason);
    const ctx = (check as unknown as { snapshot: { context: InstanceContext } }).snapshot.context;
    assert.equal(ctx.subagents.length, 2);
    assert.equal(ctx.subagents[0]!.id, null);
    assert.equal(ctx.stopPending, false);
    assert.equal(ctx.agentName, null);
    assert.equal(check.ok && check.migratedFrom, '1');
  });

  it('carries a version for stored snapshots', () => {
    assert.equal(instanceMachine.version, '2');
  });
});
