// The productivity gate machine alone: productive while instances work, a grace period when
// the last one stops (injected clock), interrupted grace, no grace, and a persist -> JSON ->
// restore round trip whose grace still ends at the same deadline.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActor } from 'xstate';
import { createDeadlineTimer } from '../src/actors/mode-gate/deadline-timer.js';
import { checkSnapshot } from '../src/actors/runtime/snapshots.js';
import { gateContextSchema, type GateEvent } from '../src/machines/gate-context.js';
import { gateMachine } from '../src/machines/gate.js';
import { FakeClock } from './support/clock.js';

const MIN = 60_000;
type NoTime<E> = E extends unknown ? Omit<E, 'at'> : never;

function start(clock = new FakeClock(), working: string[] = [], graceMs = 2 * MIN) {
  const machine = gateMachine.provide({ actors: { graceTimer: createDeadlineTimer(clock, 'gate.grace_ended') } });
  const actor = createActor(machine, { input: { working, graceMs, at: clock.now() } });
  actor.start();
  const send = (e: NoTime<GateEvent>) => actor.send({ ...e, at: clock.now() } as GateEvent);
  const state = () => actor.getSnapshot().value as string;
  return { clock, actor, send, state };
}

describe('gate machine', () => {
  it('starts idle with no working instance, productive with some', () => {
    assert.equal(start().state(), 'idle');
    const g = start(new FakeClock(), ['b', 'a']);
    assert.equal(g.state(), 'productive');
    assert.deepEqual(g.actor.getSnapshot().context.working, ['a', 'b']);
  });

  it('opens when an instance works, stays open while any works, then grants the grace period', () => {
    const { clock, send, state, actor } = start();
    const t0 = clock.now();
    send({ type: 'instances.working', ids: ['a'] });
    assert.equal(state(), 'productive');
    assert.equal(actor.getSnapshot().context.since, t0);
    clock.advance(1000);
    send({ type: 'instances.working', ids: ['a', 'b'] });
    send({ type: 'instances.working', ids: ['b'] });
    assert.equal(state(), 'productive');
    assert.equal(actor.getSnapshot().context.since, t0, 'still productive since the first');
    clock.advance(1000);
    send({ type: 'instances.working', ids: [] });
    assert.equal(state(), 'grace');
    const c = actor.getSnapshot().context;
    assert.equal(c.graceUntil, clock.now() + 2 * MIN);
    assert.equal(c.since, clock.now(), 'productive ended now');
    clock.advance(2 * MIN - 1);
    assert.equal(state(), 'grace');
    clock.advance(1);
    assert.equal(state(), 'idle');
    assert.equal(actor.getSnapshot().context.graceUntil, null);
    assert.equal(actor.getSnapshot().context.stateSince, clock.now());
  });

  it('work during the grace period reopens the gate and cancels the grace timer', () => {
    const { clock, send, state, actor } = start(new FakeClock(), ['a']);
    send({ type: 'instances.working', ids: [] });
    clock.advance(MIN);
    send({ type: 'instances.working', ids: ['c'] });
    assert.equal(state(), 'productive');
    assert.equal(actor.getSnapshot().context.graceUntil, null);
    assert.equal(clock.pending(), 0);
    clock.advance(10 * MIN);
    assert.equal(state(), 'productive');
  });

  it('with no grace configured, the gate closes as the last instance stops', () => {
    const { send, state } = start(new FakeClock(), ['a'], 0);
    send({ type: 'instances.working', ids: [] });
    assert.equal(state(), 'idle');
  });

  it('a new grace period takes the configured length; the running one keeps its deadline', () => {
    const { clock, send, state, actor } = start(new FakeClock(), ['a']);
    send({ type: 'instances.working', ids: [] });
    const until = actor.getSnapshot().context.graceUntil;
    send({ type: 'gate.configure', graceMs: 5 * MIN });
    assert.equal(actor.getSnapshot().context.graceUntil, until);
    clock.advance(2 * MIN);
    assert.equal(state(), 'idle');
    send({ type: 'instances.working', ids: ['a'] });
    send({ type: 'instances.working', ids: [] });
    assert.equal(actor.getSnapshot().context.graceUntil, clock.now() + 5 * MIN);
  });

  it('round trip: a gate in its grace period, persisted and restored, closes at the same deadline', () => {
    const { clock, send, actor } = start(new FakeClock(), ['a']);
    send({ type: 'instances.working', ids: [] });
    const until = actor.getSnapshot().context.graceUntil!;
    clock.advance(30_000);
    const json = JSON.stringify(actor.getPersistedSnapshot());
    actor.stop();
    assert.equal(clock.pending(), 0);

    const check = checkSnapshot(gateMachine, gateContextSchema, json, '1');
    assert.ok(check.ok, JSON.stringify(check));
    const later = new FakeClock(clock.now() + 30_000);
    const machine = gateMachine.provide({ actors: { graceTimer: createDeadlineTimer(later, 'gate.grace_ended') } });
    const restored = createActor(machine, { snapshot: check.snapshot as never, input: undefined as never });
    restored.start();
    assert.equal(restored.getSnapshot().value, 'grace');
    assert.deepEqual(restored.getSnapshot().context, actor.getSnapshot().context);
    later.advance(until - later.now() - 1);
    assert.equal(restored.getSnapshot().value, 'grace');
    later.advance(1);
    assert.equal(restored.getSnapshot().value, 'idle');
  });
});
