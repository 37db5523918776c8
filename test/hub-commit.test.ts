// The hub against a real SQLite file, with the writer's transactions held back on demand so
// that one batch is in flight while the next fills: what a caller is told, and what is left
// running, when a batch that carries an actor's snapshot commits or fails.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { assign, setup } from 'xstate';
import { actorCreator, createHub, type ActorKind, type AnyActor, type CommitNotice, type Hub } from '../src/actors/runtime/hub.js';
import { openDatabase, type Database } from '../src/db/database.js';
import { migrate } from '../src/db/migrations.js';
import { createWriter, type Writer } from '../src/db/writer.js';
import { tempHome } from './support/system.js';

const counter = setup({
  types: { context: {} as { n: number; beats: number }, events: {} as { type: 'inc' } | { type: 'beat' } },
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
      },
    },
  },
});

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('hub: a change is acknowledged with the transaction that carries it', () => {
  let home: ReturnType<typeof tempHome>;
  let real: Database;
  let writer: Writer;
  let hub: Hub;
  /** Every actor the kind built (the first, and any rebuilt by a rollback). */
  let created: AnyActor[];
  /** While set, the next transaction waits for it before it reaches SQLite. */
  let hold: Promise<void> | null;
  let release: () => void = () => undefined;

  function holdNext(): void {
    hold = new Promise<void>((r) => (release = () => {
      hold = null;
      r();
    }));
  }

  const kind: ActorKind = {
    machine: counter,
    create: (id, from) => {
      const actor = actorCreator(counter)(id, from);
      created.push(actor);
      return actor;
    },
    project: () => [],
    transitions: (id, snapshot, prev) =>
      prev && (snapshot.context as { n: number }).n !== (prev.context as { n: number }).n ? [{ type: 'counted', at: Date.now(), instanceId: id }] : [],
  };

  async function committed(id: string): Promise<{ n: number; beats: number } | undefined> {
    const row = await real.get<{ snapshot: string }>('SELECT snapshot FROM actor_snapshots WHERE actor_id = ?', [id]);
    return row ? (JSON.parse(row.snapshot) as { context: { n: number; beats: number } }).context : undefined;
  }

  function context(actor: AnyActor | undefined): { n: number; beats: number } {
    return actor!.getSnapshot().context as { n: number; beats: number };
  }

  beforeEach(async () => {
    home = tempHome();
    real = await openDatabase(join(home.dir, 'hub.db'));
    await migrate(real);
    hold = null;
    created = [];
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
    hub = createHub({ writer, logger: pino({ level: 'silent' }), eventDetailsMaxBytes: 1000 });
    await hub.spawn('x', kind, {});
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
    const first = hub.send('x', { type: 'inc' });
    await turn(); // the first transaction is in flight, held
    const second = hub.send('x', { type: 'inc' }); // queues x's snapshot in the next batch
    let heard: CommitNotice | undefined;
    hub.onCommit((n) => {
      if (n.changes.some((c) => (c.snapshot.context as { beats: number }).beats === 1)) heard ??= n;
    });
    let beatDone = false;
    const beat = hub.send('x', { type: 'beat' }).then(async () => {
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
    const first = hub.send('x', { type: 'inc' });
    await turn();
    const second = hub.send('x', { type: 'inc' });
    const beat = hub.send('x', { type: 'beat' });
    const settled = Promise.allSettled([first, second, beat]);
    await real.exec('ALTER TABLE events RENAME TO events_away');
    release();
    const [a, b, c] = await settled;
    assert.equal(a.status, 'rejected');
    assert.equal(b.status, 'rejected');
    assert.equal(c.status, 'rejected', 'a change that was not written is not acknowledged');
    assert.deepEqual(context(hub.get('x')), { n: 0, beats: 0 });
    assert.deepEqual(await committed('x'), { n: 0, beats: 0 });
  });

  it('an actor in a failed batch and in the batch behind it is rebuilt once, and nothing of it is left running', async () => {
    holdNext();
    const p1 = hub.send('x', { type: 'inc' });
    await turn(); // p1's batch is in flight with x's snapshot
    const p2 = hub.send('x', { type: 'inc' }); // x queued again, in the batch behind it
    const settled = Promise.allSettled([p1, p2]);
    await real.exec('ALTER TABLE events RENAME TO events_away');
    release();
    const [r1, r2] = await settled;
    assert.equal(r1.status, 'rejected');
    assert.equal(r2.status, 'rejected');
    await real.exec('ALTER TABLE events_away RENAME TO events');

    const live = hub.get('x');
    const running = created.filter((a) => a.getSnapshot().status === 'active');
    assert.equal(created.length, 2, 'the first actor and one rebuilt from its committed snapshot');
    assert.deepEqual(running, [live], 'only the live actor is running');
    assert.deepEqual(context(live), { n: 0, beats: 0 });

    // The live actor takes events and they are written; no stray actor writes over them.
    await hub.send('x', { type: 'inc' });
    await hub.flush();
    assert.deepEqual(await committed('x'), { n: 1, beats: 0 });
    assert.equal((await real.get<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE event_type = 'counted'"))!.n, 1);
  });
});
