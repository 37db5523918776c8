// The hub against a real SQLite file, with the writer's transactions held back on demand so
// that one batch is in flight while the next fills: what a caller is told, and what is left
// running, when a batch that carries an actor's snapshot commits or fails, or when a planner
// fails while the transaction is built.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { assign, emit, setup, type ActorRefLike } from 'xstate';
import type { CommitNotice } from '../src/actors/runtime/domain-events.js';
import { createHub, type HubOf, type KindHandle } from '../src/actors/runtime/hub.js';
import type { ActorKind } from '../src/actors/runtime/kinds.js';
import { openDatabase, type Database } from '../src/db/database.js';
import { migrate } from '../src/db/migrations.js';
import { createWriter, type Writer } from '../src/db/writer.js';
import { tempHome } from './support/system.js';

const counter = setup({
  types: { context: {} as { n: number; beats: number }, events: {} as { type: 'inc' } | { type: 'beat' } | { type: 'ping' }, emitted: {} as { type: 'pinged' } },
}).createMachine({
  id: 'counter',
  context: { n: 0, beats: 0 },
  initial: 'on',
  states: {
    on: {
      on: {
        inc: { actions: assign({ n: ({ context }) => context.n + 1 }) },
        // A change that produces no event rows (like a heartbeat).
        beat: { actions: assign({ beats: ({ context }) => context.beats + 1 }) },
        // A change that emits an intent, which the planners turn into rows.
        ping: { actions: [assign({ n: ({ context }) => context.n + 1 }), emit({ type: 'pinged' as const })] },
      },
    },
  },
});

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('hub: a change is acknowledged with the transaction that carries it', () => {
  let home: ReturnType<typeof tempHome>;
  let real: Database;
  let writer: Writer;
  type Counters = { counter: typeof counter };
  let hub: HubOf<Counters>;
  let counters: KindHandle<Counters, 'counter'>;
  /** Every actor the hub built (the first, and any rebuilt by a rollback), as the inspector hears of them. */
  let created: Set<ActorRefLike>;
  /** While set, the planner fails the transaction being built. */
  let planFails: boolean;
  /** While set, the next transaction waits for it before it reaches SQLite. */
  let hold: Promise<void> | null;
  let release: () => void = () => undefined;

  function holdNext(): void {
    hold = new Promise<void>((r) => (release = () => {
      hold = null;
      r();
    }));
  }

  const kind: ActorKind<Counters, 'counter'> = {
    name: 'counter',
    machine: counter,
    project: () => [],
    transitions: (id, snapshot, prev) => (prev && snapshot.context.n !== prev.context.n ? [{ type: 'counted', at: Date.now(), instanceId: id }] : []),
  };

  async function committed(id: string): Promise<{ n: number; beats: number } | undefined> {
    const row = await real.get<{ snapshot: string }>('SELECT snapshot FROM actor_snapshots WHERE actor_id = ?', [id]);
    return row ? (JSON.parse(row.snapshot) as { context: { n: number; beats: number } }).context : undefined;
  }

  const context = (id: string) => counters.snapshot(id)?.context;

  beforeEach(async () => {
    home = tempHome();
    real = await openDatabase(join(home.dir, 'hub.db'));
    await migrate(real);
    hold = null;
    created = new Set();
    planFails = false;
    const db: Database = {
      file: real.file,
      run: (sql, params) => real.run(sql, params),
      all: (sql, params) => real.all(sql, params),
      get: (sql, params) => real.get(sql, params),
      exec: async (sql) => {
        if (hold && sql.startsWith('BEGIN')) await hold;
        return real.exec(sql);
      },
      close: () => real.close(),
    };
    writer = createWriter(db);
    hub = createHub<Counters>({
      writer,
      logger: pino({ level: 'silent' }),
      eventDetailsMaxBytes: 1000,
      order: { within: [], plan: ['pings'], after: ['test'] },
      inspect: { next: (e) => e.type === '@xstate.actor' && created.add(e.actorRef) },
    });
    hub.subscribers.plan('pings', (intent) => {
      if (planFails) throw new Error('planner bug');
      return { events: [{ type: 'pinged', at: Date.now(), instanceId: intent.actorId }] };
    });
    counters = hub.kind(kind);
    await counters.spawn('x', undefined);
  });

  afterEach(async () => {
    release();
    hub.stopAll();
    await writer.close();
    await real.close();
    home.cleanup();
  });

  it('a change whose actor is already queued resolves only once that batch has committed it', async () => {
    holdNext();
    const first = counters.send('x', { type: 'inc' });
    await turn(); // the first transaction is in flight, held
    const second = counters.send('x', { type: 'inc' }); // queues x's snapshot in the next batch
    let heard: CommitNotice<Counters> | undefined;
    hub.subscribers.after('test', (n) => {
      if (n.changes.some((c) => c.snapshot.context.beats === 1)) heard ??= n;
    });
    let beatDone = false;
    const beat = counters.send('x', { type: 'beat' }).then(async () => {
      beatDone = true;
      return committed('x');
    });
    await turn();
    await turn();
    release();
    assert.equal(beatDone, false, 'not acknowledged while the batch that carries it waits');
    assert.equal(heard, undefined, 'commit listeners do not hear of it before it is committed');
    const [, , atAck] = await Promise.all([first, second, beat]);
    assert.deepEqual(atAck, { n: 2, beats: 1 }, 'once acknowledged, SQLite has it');
    assert.ok(heard, 'commit listeners hear of it once it is committed');
  });

  it('a change whose actor is already queued fails with that batch, and is rolled back', async () => {
    holdNext();
    const first = counters.send('x', { type: 'inc' });
    await turn();
    const second = counters.send('x', { type: 'inc' });
    const beat = counters.send('x', { type: 'beat' });
    const settled = Promise.allSettled([first, second, beat]);
    await real.exec('ALTER TABLE events RENAME TO events_away');
    release();
    const [a, b, c] = await settled;
    assert.equal(a.status, 'rejected');
    assert.equal(b.status, 'rejected');
    assert.equal(c.status, 'rejected', 'a change that was not written is not acknowledged');
    assert.deepEqual(context('x'), { n: 0, beats: 0 });
    assert.deepEqual(await committed('x'), { n: 0, beats: 0 });
  });

  it('an actor in a failed batch and in the batch behind it is rebuilt once, and nothing of it is left running', async () => {
    holdNext();
    const p1 = counters.send('x', { type: 'inc' });
    await turn(); // p1's batch is in flight with x's snapshot
    const p2 = counters.send('x', { type: 'inc' }); // x queued again, in the batch behind it
    const settled = Promise.allSettled([p1, p2]);
    await real.exec('ALTER TABLE events RENAME TO events_away');
    release();
    const [r1, r2] = await settled;
    assert.equal(r1.status, 'rejected');
    assert.equal(r2.status, 'rejected');
    await real.exec('ALTER TABLE events_away RENAME TO events');

    const live = counters.get('x');
    const running = [...created].filter((a) => a.getSnapshot().status === 'active');
    assert.equal(created.size, 2, 'the first actor and one rebuilt from its committed snapshot');
    assert.deepEqual(running, [live], 'only the live actor is running');
    assert.deepEqual(context('x'), { n: 0, beats: 0 });

    // The live actor takes events and they are written; no stray actor writes over them.
    await counters.send('x', { type: 'inc' });
    await hub.flush();
    assert.deepEqual(await committed('x'), { n: 1, beats: 0 });
    assert.equal((await real.get<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE event_type = 'counted'"))!.n, 1);
  });

  it('a planner that throws fails the change that emitted the intent and rolls its actor back; the next change is written', async () => {
    planFails = true;
    await assert.rejects(counters.send('x', { type: 'ping' }), /planner bug/);
    assert.deepEqual(context('x'), { n: 0, beats: 0 }, 'back to what is committed');
    assert.deepEqual(await committed('x'), { n: 0, beats: 0 });
    planFails = false;
    await counters.send('x', { type: 'ping' });
    assert.deepEqual(await committed('x'), { n: 1, beats: 0 });
    assert.equal((await real.get<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE event_type = 'pinged'"))!.n, 1, "the planner's rows are in the same transaction");
  });
});
