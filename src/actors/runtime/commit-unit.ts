// The commit unit: gathers what changed (actors, extra rows, emitted intents) and hands it to
// the group-commit writer as one transaction, resolving only after COMMIT. An actor's snapshot
// row is lazy: serialised once, when its batch starts, however many events it took meanwhile.
// A change whose actor already waits in the writer's next batch rides on that batch. When a
// transaction fails, every actor it touched goes back to its last committed snapshot.
import type { Logger } from 'pino';
import { eventInsert, type EventDraft } from '../../db/queries/events.js';
import type { WriteOp, Writer } from '../../db/writer.js';
import type { ActorChanged, CommitNotice, Extra, IntentEmitted, KindName, Machines, SnapshotOf } from './domain-events.js';
import type { Subscribers } from './subscribers.js';

/** A live root actor as the commit unit sees it, whatever its kind (src/actors/runtime/registry.ts). */
export interface Tracked<M extends Machines> {
  readonly id: string;
  readonly kind: KindName<M>;
  /** Persisted snapshot JSON as last committed, for rollback; null if never committed. */
  committedJson: string | null;
  /** A lazy snapshot row for this actor waits in the writer's next batch. */
  queued: boolean;
  /** The JSON the lazy row wrote, committed when its batch commits. */
  flushing: string | null;
  /** Stopped and replaced by a rollback; a later rollback of another batch leaves it be. */
  rolledBack: boolean;
  snapshot(): SnapshotOf<M>;
  /** The snapshot's status: active, done, error, stopped. */
  status(): string;
  /** Why it failed, when its status is error. */
  error(): unknown;
  /** The actor as it is now, as a change from nothing (a picture of the live actors). */
  seen(): ActorChanged<M>;
  /** The change since the one last handed to the writer (the next one's `prev` is now) and its event rows. */
  change(): { changed: ActorChanged<M>; events: EventDraft[] };
  /** The snapshot row and projection rows as of now (sets `flushing`). */
  rows(): WriteOp[];
  /** Leaves the registry if it is still the live actor of its id (it ended). */
  retire(): void;
  /** Stops it for good and leaves the registry. */
  stop(): void;
  /** Starts a fresh actor in its place from its committed snapshot (observers hear of it when there is none). */
  rebuild(): void;
}

export interface CommitUnitDeps<M extends Machines> {
  writer: Writer;
  logger: Logger;
  eventDetailsMaxBytes: number;
  subscribers: Subscribers<M>;
  /** The live actor of an id, if any. */
  live(id: string): Tracked<M> | undefined;
}

export function createCommitUnit<M extends Machines>(deps: CommitUnitDeps<M>) {
  let dirty = new Map<string, Tracked<M>>();
  let pending: { ops: WriteOp[]; events: EventDraft[]; emitted: IntentEmitted<M>[] } = { ops: [], events: [], emitted: [] };
  let scheduled = false;
  /** Rows from `note` wait for the end of this event-loop turn (or an earlier commit). */
  let noted = false;
  /** True while the hub itself is sending, so changes are committed by the caller's batch. */
  let sending = false;

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      if (!scheduled) return;
      commit().catch((err) => deps.logger.error({ err }, 'background commit failed'));
    });
  }

  /** Commits what `note` gathered once this event-loop turn's I/O callbacks have run. */
  function scheduleNoted(): void {
    if (noted) return;
    noted = true;
    setImmediate(() => {
      if (!noted) return;
      commit().catch((err) => deps.logger.error({ err }, 'could not write recorded events'));
    });
  }

  /** Hands everything collected so far to the writer as one unit; resolves after COMMIT. */
  function commit(): Promise<CommitNotice<M>> {
    scheduled = false;
    noted = false;
    const batch = dirty;
    const { ops, events, emitted } = pending;
    dirty = new Map();
    pending = { ops: [], events: [], emitted: [] };

    const changes: ActorChanged<M>[] = [];
    const queuedNow: Tracked<M>[] = [];
    const rowOps: WriteOp[] = [];
    /** Some actor's change rides on a snapshot row already waiting in the writer's next batch. */
    let alreadyQueued = false;
    for (const entry of batch.values()) {
      const { changed, events: produced } = entry.change();
      events.push(...produced);
      changes.push(changed);
      if (!entry.queued) {
        entry.queued = true;
        queuedNow.push(entry);
        rowOps.push({ kind: 'lazy', build: () => entry.rows() });
      } else alreadyQueued = true;
      if (entry.status() !== 'active') entry.retire();
    }
    try {
      const planned = { ops, events };
      for (const e of emitted) deps.subscribers.planned(e, (batch.get(e.actorId) ?? deps.live(e.actorId))?.snapshot(), planned);
    } catch (err) {
      // A planner failed: nothing of this batch is written, so its actors go back to what is
      // committed (those already waiting in the writer's next batch will be written as they are).
      deps.logger.error({ err }, 'planning a transaction failed; its actors are rolled back');
      rollback(queuedNow);
      return Promise.reject(err);
    }
    const all = [...rowOps, ...ops, ...events.map((e) => eventInsert(e, deps.eventDetailsMaxBytes))];
    // With no rows of its own, this change is written by the batch that already holds its
    // actor's snapshot row: wait for that batch (an empty submit would resolve at once).
    if (all.length === 0 && alreadyQueued) all.push({ kind: 'lazy', build: () => [] });
    const notice: CommitNotice<M> = { changes, events, emitted };
    return deps.writer.submit(all).then(
      () => {
        for (const entry of queuedNow) if (entry.flushing !== null) entry.committedJson = entry.flushing;
        deps.subscribers.committed(notice);
        return notice;
      },
      (err: unknown) => {
        rollback(queuedNow);
        throw err;
      },
    );
  }

  function rollback(touched: Tracked<M>[]): void {
    // An actor in a failed batch may also be in the batch behind it, which fails with it:
    // it is rebuilt from its committed snapshot once, by whichever rollback comes first.
    touched = touched.filter((entry) => !entry.rolledBack);
    // Stop every touched actor first, then rebuild: all of them go back to one committed
    // state together, so what observers forward while they rebuild cannot mix the two.
    for (const entry of touched) {
      entry.rolledBack = true;
      entry.queued = false;
      entry.stop();
      // A change forwarded to this (now stopped) actor meanwhile must not be written.
      if (dirty.get(entry.id) === entry) dirty.delete(entry.id);
    }
    for (const entry of touched) entry.rebuild();
  }

  return {
    commit,

    /** An actor changed: its change joins the next commit (scheduled unless the hub is sending). */
    touched(entry: Tracked<M>): void {
      dirty.set(entry.id, entry);
      if (!sending) schedule();
    },
    /** An actor changed by the hub itself (spawn, send, forward): the caller commits, or schedules. */
    mark(entry: Tracked<M>): void {
      dirty.set(entry.id, entry);
    },
    /** Forgets a pending change of this actor (a restored actor's start, an actor that failed). */
    forget(entry: Tracked<M>): void {
      if (dirty.get(entry.id) === entry) dirty.delete(entry.id);
    },
    emitted(intent: IntentEmitted<M>): void {
      pending.emitted.push(intent);
    },
    add(extra: Extra | undefined): void {
      if (extra?.ops) pending.ops.push(...extra.ops);
      if (extra?.events) pending.events.push(...extra.events);
    },
    schedule,
    /** Event rows for the next transaction, committed at the end of this event-loop turn at the latest. */
    note(events: readonly EventDraft[]): void {
      for (const e of events) pending.events.push(e);
      scheduleNoted();
    },

    /** Runs fn with changes left to the caller's commit; nests (an observer may forward). */
    quietly<T>(fn: () => T): T {
      const was = sending;
      sending = true;
      try {
        return fn();
      } finally {
        sending = was;
      }
    },

    /** Commits changes made by timers that are still waiting for their microtask, then waits for the writer. */
    async flush(): Promise<void> {
      if (scheduled || noted) await commit().catch(() => undefined);
      await deps.writer.flush();
    },

    /** Drops a scheduled commit (everything stops). */
    cancel(): void {
      scheduled = false;
    },
  };
}

export type CommitUnit<M extends Machines> = ReturnType<typeof createCommitUnit<M>>;
