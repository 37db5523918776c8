// The work mode machine alone: mode, focus and variables, timed modes and where they return,
// stale timers, configuration changes, and a persist -> JSON -> restore round trip whose
// timer still fires at the same deadline.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActor } from 'xstate';
import { createDeadlineTimer } from '../src/actors/mode-gate/deadline-timer.js';
import { checkSnapshot } from '../src/actors/runtime/snapshots.js';
import { modeContextSchema, type ModeEvent, type ModeTimerEndedIntent } from '../src/machines/mode-context.js';
import { modeMachine } from '../src/machines/mode.js';
import { FakeClock } from './support/clock.js';

const MIN = 60_000;
type NoTime<E> = E extends unknown ? Omit<E, 'at'> : never;

function start(clock = new FakeClock(), mode = 'work_silence') {
  const machine = modeMachine.provide({ actors: { modeTimer: createDeadlineTimer(clock, 'mode.timer_ended') } });
  const actor = createActor(machine, { input: { mode, defaultMode: 'work_silence', vars: { volume: 3 }, at: clock.now() } });
  const intents: ModeTimerEndedIntent[] = [];
  actor.on('notify', (e) => intents.push(e));
  actor.start();
  const send = (e: NoTime<ModeEvent>) => actor.send({ ...e, at: clock.now() } as ModeEvent);
  return { clock, actor, intents, send, machine };
}

describe('mode machine', () => {
  it('starts in the configured mode, steady, focus off', () => {
    const { actor, clock } = start();
    const s = actor.getSnapshot();
    assert.equal(s.value, 'steady');
    assert.deepEqual(s.context, {
      mode: 'work_silence',
      since: clock.now(),
      setBy: 'start',
      deadline: null,
      returnTo: null,
      defaultMode: 'work_silence',
      focus: false,
      focusSince: clock.now(),
      vars: { volume: 3 },
    });
  });

  it('sets a mode until changed, and keeps `since` when the same mode is set again', () => {
    const { actor, clock, send } = start();
    clock.advance(1000);
    send({ type: 'mode.update', mode: 'work_music' });
    const since = actor.getSnapshot().context.since;
    assert.equal(since, clock.now());
    clock.advance(1000);
    send({ type: 'mode.update', mode: 'work_music' });
    assert.equal(actor.getSnapshot().context.since, since);
    assert.equal(actor.getSnapshot().context.setBy, 'request');
    assert.equal(clock.pending(), 0, 'no timer without a duration');
  });

  it('a timed mode returns to the mode before it at its deadline and emits mode_timer_ended once', () => {
    const { actor, clock, send, intents } = start(new FakeClock(), 'work_music');
    const t0 = clock.now();
    send({ type: 'mode.update', mode: 'break', durationMs: 15 * MIN });
    let s = actor.getSnapshot();
    assert.equal(s.value, 'timed');
    assert.equal(s.context.deadline, t0 + 15 * MIN);
    assert.equal(s.context.returnTo, 'work_music');
    clock.advance(15 * MIN - 1);
    assert.equal(actor.getSnapshot().context.mode, 'break');
    assert.equal(intents.length, 0);
    clock.advance(1);
    s = actor.getSnapshot();
    assert.equal(s.value, 'steady');
    assert.equal(s.context.mode, 'work_music');
    assert.equal(s.context.setBy, 'timer');
    assert.equal(s.context.deadline, null);
    assert.deepEqual(intents, [
      { type: 'notify', intent: 'mode_timer_ended', instanceId: null, at: t0 + 15 * MIN, tool: null, message: 'break ended; back to work_music', previous: 'break', mode: 'work_music' },
    ]);
    clock.advance(60 * MIN);
    assert.equal(intents.length, 1);
  });

  it('a timer set during a timer keeps the first way back; a timed mode equal to the mode before returns to the default', () => {
    const { actor, clock, send } = start(new FakeClock(), 'work_music');
    send({ type: 'mode.update', mode: 'break', durationMs: 15 * MIN });
    clock.advance(5 * MIN);
    send({ type: 'mode.update', mode: 'off', durationMs: 5 * MIN });
    assert.equal(actor.getSnapshot().context.returnTo, 'work_music');
    assert.equal(actor.getSnapshot().context.deadline, clock.now() + 5 * MIN);
    assert.equal(clock.pending(), 1, 'the first timer was replaced');
    clock.advance(5 * MIN);
    assert.equal(actor.getSnapshot().context.mode, 'work_music');

    send({ type: 'mode.update', mode: 'break' });
    send({ type: 'mode.update', mode: 'break', durationMs: MIN });
    assert.equal(actor.getSnapshot().context.returnTo, 'work_silence');
    clock.advance(MIN);
    assert.equal(actor.getSnapshot().context.mode, 'work_silence');
  });

  it('a mode set without a duration cancels the timer; a stale or early timer event changes nothing', () => {
    const { actor, clock, send, intents } = start();
    send({ type: 'mode.update', mode: 'break', durationMs: 10 * MIN });
    send({ type: 'mode.timer_ended' });
    assert.equal(actor.getSnapshot().context.mode, 'break', 'early timer event ignored');
    send({ type: 'mode.update', mode: 'work_music' });
    assert.equal(actor.getSnapshot().value, 'steady');
    assert.equal(clock.pending(), 0);
    clock.advance(11 * MIN);
    send({ type: 'mode.timer_ended' });
    assert.equal(actor.getSnapshot().context.mode, 'work_music');
    assert.equal(intents.length, 0);
  });

  it('focus and variables change alone or with the mode, in one transition', () => {
    const { actor, clock, send } = start();
    clock.advance(1000);
    send({ type: 'mode.update', focus: true, vars: { volume: 5 } });
    let c = actor.getSnapshot().context;
    assert.deepEqual([c.mode, c.focus, c.focusSince, c.vars], ['work_silence', true, clock.now(), { volume: 5 }]);
    clock.advance(1000);
    send({ type: 'mode.update', mode: 'break', durationMs: MIN, focus: true });
    c = actor.getSnapshot().context;
    assert.equal(c.focusSince, clock.now() - 1000, 'focus unchanged keeps its since');
    assert.equal(c.mode, 'break');
    clock.advance(MIN);
    assert.equal(actor.getSnapshot().context.focus, true, 'a timer does not touch focus');
  });

  it('a configuration without the current mode resets to the default and cancels its timer', () => {
    const { actor, clock, send } = start(new FakeClock(), 'work_music');
    send({ type: 'mode.update', mode: 'break', durationMs: MIN });
    send({ type: 'mode.configure', modes: ['work_silence', 'pause'], defaultMode: 'work_silence', vars: {} });
    const s = actor.getSnapshot();
    assert.equal(s.value, 'steady');
    assert.deepEqual([s.context.mode, s.context.setBy, s.context.deadline, s.context.vars], ['work_silence', 'config', null, {}]);
    assert.equal(clock.pending(), 0);
  });

  it('a configuration without the way back keeps the timed mode and returns to the default instead', () => {
    const { actor, clock, send } = start(new FakeClock(), 'work_music');
    send({ type: 'mode.update', mode: 'break', durationMs: MIN });
    send({ type: 'mode.configure', modes: ['work_silence', 'break'], defaultMode: 'work_silence', vars: {} });
    assert.equal(actor.getSnapshot().context.returnTo, 'work_silence');
    clock.advance(MIN);
    assert.equal(actor.getSnapshot().context.mode, 'work_silence');
  });

  it('round trip: a timed mode persisted, restored later, ends at the same deadline', () => {
    const { actor, clock, send } = start(new FakeClock(), 'work_music');
    send({ type: 'mode.update', mode: 'break', durationMs: 15 * MIN, focus: true });
    const deadline = actor.getSnapshot().context.deadline!;
    clock.advance(5 * MIN);
    const json = JSON.stringify(actor.getPersistedSnapshot());
    actor.stop();
    assert.equal(clock.pending(), 0);

    const check = checkSnapshot(modeMachine, modeContextSchema, json, '1');
    assert.ok(check.ok, JSON.stringify(check));
    const later = new FakeClock(clock.now() + 3 * MIN);
    const machine = modeMachine.provide({ actors: { modeTimer: createDeadlineTimer(later, 'mode.timer_ended') } });
    const restored = createActor(machine, { snapshot: check.snapshot as never, input: undefined as never });
    const intents: string[] = [];
    restored.on('notify', (e) => intents.push(e.message));
    restored.start();
    assert.equal(restored.getSnapshot().value, 'timed');
    assert.deepEqual(restored.getSnapshot().context, actor.getSnapshot().context);
    later.advance(deadline - later.now() - 1);
    assert.equal(restored.getSnapshot().context.mode, 'break');
    later.advance(1);
    assert.equal(restored.getSnapshot().context.mode, 'work_music');
    assert.deepEqual(intents, ['break ended; back to work_music']);
  });

  it('a restored timed mode whose deadline passed while stopped ends on the first timer turn', () => {
    const { actor, clock, send } = start(new FakeClock(), 'work_music');
    send({ type: 'mode.update', mode: 'break', durationMs: MIN });
    const json = JSON.stringify(actor.getPersistedSnapshot());
    actor.stop();
    const later = new FakeClock(clock.now() + 60 * MIN);
    const machine = modeMachine.provide({ actors: { modeTimer: createDeadlineTimer(later, 'mode.timer_ended') } });
    const restored = createActor(machine, { snapshot: JSON.parse(json), input: undefined as never });
    restored.start();
    assert.equal(restored.getSnapshot().context.mode, 'break');
    later.advance(0);
    assert.equal(restored.getSnapshot().context.mode, 'work_music');
  });

  it('checkSnapshot refuses a mode snapshot with a bad context', () => {
    const { actor } = start();
    const p = actor.getPersistedSnapshot() as unknown as { context: Record<string, unknown> };
    const bad = JSON.stringify({ ...p, context: { ...p.context, focus: 'yes' } });
    const r = checkSnapshot(modeMachine, modeContextSchema, bad, '1');
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /focus/);
  });
});
