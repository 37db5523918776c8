// The scheduled job machine alone, with the real due timer (croner on a FakeClock) and a run the
// test finishes by hand: a scheduled time starts a run; a start while it runs is skipped and
// emitted, never run alongside; a time long past is a missed run, and several missed times are
// one run; disabling stops the schedule and enabling lets the times it was off pass; and a
// persist -> JSON -> restore round trip keeps the schedule's place.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActor, fromPromise } from 'xstate';
import { createDueTimer } from '../src/cron/due-timer.js';
import type { CronRunStart, CronSkipped } from '../src/machines/cron-job-context.js';
import { cronJobMachine } from '../src/machines/cron-job.js';
import { FakeClock } from './support/clock.js';

const MIN = 60_000;

function start(o: { clock?: FakeClock; schedule?: string; enabled?: boolean; handledUntil?: number; snapshot?: unknown } = {}) {
  const clock = o.clock ?? new FakeClock();
  let n = 0;
  const runs: { input: CronRunStart & { jobId: string }; finish: () => void }[] = [];
  const machine = cronJobMachine.provide({
    actors: {
      dueTimer: createDueTimer(clock, () => `due-${++n}`),
      runJob: fromPromise<unknown, CronRunStart & { jobId: string }>(({ input }) => new Promise((resolve) => runs.push({ input, finish: () => resolve(null) }))),
    },
  });
  const input = { jobId: 'j', schedule: o.schedule ?? '*/5 * * * *', timezone: 'UTC', enabled: o.enabled ?? true, handledUntil: o.handledUntil ?? clock.now() };
  const actor = o.snapshot ? createActor(machine, { snapshot: o.snapshot as never, input }) : createActor(machine, { input });
  const skipped: CronSkipped[] = [];
  actor.on('cron.skipped', (e) => skipped.push(e));
  actor.start();
  const value = () => actor.getSnapshot().value as { schedule: string; run: string };
  return { clock, actor, runs, skipped, value };
}

/** Lets a finished run's promise reach the machine. */
const settle = () => new Promise<void>((r) => setImmediate(r));

describe('scheduled job machine', () => {
  it('runs when its scheduled time comes, and waits for the next one after', async () => {
    const m = start();
    assert.deepEqual(m.value(), { schedule: 'enabled', run: 'idle' });
    m.clock.advance(5 * MIN - 1);
    assert.equal(m.runs.length, 0);
    m.clock.advance(1);
    assert.deepEqual(m.value(), { schedule: 'enabled', run: 'running' });
    assert.equal(m.runs.length, 1);
    assert.deepEqual(m.runs[0]!.input, { jobId: 'j', runId: 'due-1', trigger: 'schedule', scheduledFor: m.clock.now(), startedAt: m.clock.now() });
    assert.equal(m.actor.getSnapshot().context.handledUntil, m.clock.now());
    m.runs[0]!.finish();
    await settle();
    assert.deepEqual(m.value(), { schedule: 'enabled', run: 'idle' });
    assert.equal(m.actor.getSnapshot().context.run, null);
    m.clock.advance(5 * MIN);
    assert.equal(m.runs.length, 2);
    assert.equal(m.runs[1]!.input.runId, 'due-2');
  });

  it('never runs twice at once: a time that comes while it runs, or a start by hand, is skipped and emitted', async () => {
    const m = start();
    m.clock.advance(5 * MIN);
    m.clock.advance(5 * MIN);
    assert.equal(m.runs.length, 1, 'still the first run');
    assert.equal(m.skipped.length, 1);
    assert.deepEqual(m.skipped[0], { type: 'cron.skipped', runId: 'due-2', trigger: 'schedule', scheduledFor: m.clock.now(), at: m.clock.now(), busyWith: 'due-1' });
    assert.equal(m.actor.getSnapshot().context.handledUntil, m.clock.now(), 'the skipped time is handled: it does not run late');
    m.actor.send({ type: 'cron.start', runId: 'manual-1', trigger: 'manual', scheduledFor: null, at: m.clock.now() });
    assert.equal(m.skipped.at(-1)!.runId, 'manual-1');
    assert.equal(m.actor.getSnapshot().context.run!.runId, 'due-1');
    m.runs[0]!.finish();
    await settle();
    m.actor.send({ type: 'cron.start', runId: 'manual-2', trigger: 'manual', scheduledFor: null, at: m.clock.now() });
    assert.equal(m.runs.length, 2);
    assert.equal(m.runs[1]!.input.trigger, 'manual');
  });

  it('a time that passed long ago (token-api was down) is one missed run, however many passed', () => {
    const clock = new FakeClock();
    const m = start({ clock, schedule: '0 * * * *', handledUntil: clock.now() - 5 * 60 * MIN });
    assert.equal(m.runs.length, 0, 'not during start-up');
    clock.advance(0);
    assert.equal(m.runs.length, 1);
    assert.equal(m.runs[0]!.input.trigger, 'missed');
    assert.equal(m.runs[0]!.input.scheduledFor, clock.now() - 4 * 60 * MIN);
    assert.equal(m.actor.getSnapshot().context.handledUntil, clock.now(), 'the others are handled with it');
  });

  it('disabled, it waits for nothing; enabled again, the times it was off pass', async () => {
    const m = start({ enabled: false });
    assert.deepEqual(m.value(), { schedule: 'disabled', run: 'idle' });
    m.clock.advance(60 * MIN);
    assert.equal(m.runs.length, 0);
    m.actor.send({ type: 'cron.configure', schedule: '*/5 * * * *', timezone: 'UTC', enabled: true, at: m.clock.now() });
    assert.deepEqual(m.value(), { schedule: 'enabled', run: 'idle' });
    assert.equal(m.actor.getSnapshot().context.handledUntil, m.clock.now());
    m.clock.advance(0);
    assert.equal(m.runs.length, 0, 'no catching up on what passed while off');
    m.clock.advance(5 * MIN);
    assert.equal(m.runs.length, 1);
    // A new schedule takes effect at once.
    m.runs[0]!.finish();
    await settle();
    m.actor.send({ type: 'cron.configure', schedule: '0 0 * * *', timezone: 'UTC', enabled: true, at: m.clock.now() });
    m.clock.advance(5 * MIN);
    assert.equal(m.runs.length, 1);
    // A start by hand works while disabled.
    m.actor.send({ type: 'cron.configure', schedule: '0 0 * * *', timezone: 'UTC', enabled: false, at: m.clock.now() });
    m.actor.send({ type: 'cron.start', runId: 'manual', trigger: 'manual', scheduledFor: null, at: m.clock.now() });
    assert.deepEqual(m.value(), { schedule: 'disabled', run: 'running' });
  });

  it('persists to JSON and restores where its schedule was', () => {
    const m = start();
    m.clock.advance(3 * MIN);
    const json = JSON.stringify(m.actor.getPersistedSnapshot());
    m.actor.stop();
    const r = start({ clock: m.clock, snapshot: JSON.parse(json) });
    assert.deepEqual(r.value(), { schedule: 'enabled', run: 'idle' });
    assert.deepEqual(r.actor.getSnapshot().context, m.actor.getSnapshot().context);
    m.clock.advance(2 * MIN);
    assert.equal(r.runs.length, 1, 'the restored timer comes due at the same time');
  });
});
