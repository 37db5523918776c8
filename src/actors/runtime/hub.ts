// The hub: a Map of independent root actors (instances, mode, gate), each persisted to its
// own snapshot row. Every change an actor makes, whether caused by a request or by one of its
// timers, is written (snapshot, projection rows, event rows) through the group-commit writer;
// callers get a promise that settles only after SQLite has it. An actor's snapshot is
// serialised once per transaction, when the batch starts, however many events it took
// meanwhile. If a transaction fails, the actors it touched are rebuilt from their last
// committed snapshot, so memory never runs ahead of the database for long. Observers hear
// of every transition of one machine's actors synchronously, and what they `forward` to
// another actor joins the same transaction (the gate follows the instances this way).
import { createActor, type AnyStateMachine, type Actor, type InspectionEvent, type Observer, type SnapshotFrom } from 'xstate';
import type { Logger } from 'pino';
import { eventInsert, type EventDraft } from '../../db/queries/events.js';
import { snapshotUpsert } from '../../db/queries/snapshots.js';
import type { WriteOp, Writer } from '../../db/writer.js';

export type AnyActor = Actor<AnyStateMachine>;
export type AnySnapshot = SnapshotFrom<AnyStateMachine>;

/** What kind of actor an entry is: how to build it and which rows mirror its state. */
export interface ActorKind {
  machine: AnyStateMachine;
  /** Builds (does not start) an actor for `id`, fresh from `input` or from a persisted snapshot. */
  create(id: string, from: { snapshot: unknown } | { input: unknown }): AnyActor;
  /** Rows that mirror the actor's state (written with its snapshot, once per transaction). */
  project(id: string, snapshot: AnySnapshot): WriteOp[];
  /** Events a change produced (prev: the snapshot before it, null for a new actor). */
  transitions(id: string, snapshot: AnySnapshot, prev: AnySnapshot | null): EventDraft[];
}

/** `ActorKind.create` for a machine: an actor fresh from its input, or from a persisted snapshot. */
export function actorCreator(machine: AnyStateMachine): ActorKind['create'] {
  return (id, from) =>
    ('snapshot' in from
      ? createActor(machine, { id, snapshot: from.snapshot as never, input: undefined as never })
      : createActor(machine, { id, input: from.input as never })) as unknown as AnyActor;
}

export interface ActorChange {
  id: string;
  machineId: string;
  snapshot: AnySnapshot;
  prev: AnySnapshot | null;
}

export interface EmittedIntent {
  actorId: string;
  event: { type: string } & Record<string, unknown>;
}

/** Published after a transaction committed: what changed, which events were written. */
export interface CommitNotice {
  changes: ActorChange[];
  events: EventDraft[];
  emitted: EmittedIntent[];
}

export type CommitListener = (notice: CommitNotice) => void;
/** Hears every snapshot of an actor of one machine as it happens (before commit); must be cheap. */
export type ChangeObserver = (id: string, snapshot: AnySnapshot) => void;
/**
 * Turns an emitted event into rows for the same transaction (the notification outbox, say).
 * `source` is the emitting actor's snapshot after the change (also when that change ended it).
 */
export type EmitPlanner = (emitted: EmittedIntent, source: AnySnapshot | undefined) => { ops?: WriteOp[]; events?: EventDraft[] };

interface Entry {
  id: string;
  kind: ActorKind;
  actor: AnyActor;
  /** Persisted snapshot JSON as last committed, for rollback; null if never committed. */
  committedJson: string | null;
  /** Snapshot as of the last change handed to the writer (the "prev" of the next change). */
  lastSnapshot: AnySnapshot | null;
  /** A lazy snapshot row for this actor waits in the writer's next batch. */
  queued: boolean;
  /** The JSON the lazy row wrote, committed when its batch commits. */
  flushing: string | null;
  /** Stopped and replaced by a rollback; a later rollback of another batch leaves it be. */
  rolledBack: boolean;
  unsubscribe: () => void;
}

export interface HubDeps {
  writer: Writer;
  logger: Logger;
  eventDetailsMaxBytes: number;
  /** Inspection observer every actor is connected to (`serve --inspect`). */
  inspect?: Observer<InspectionEvent>;
}

export interface Extra {
  ops?: WriteOp[];
  events?: EventDraft[];
}

export class ActorExistsError extends Error {
  constructor(readonly id: string) {
    super(`an actor ${id} is already live`);
    this.name = 'ActorExistsError';
  }
}

export class ActorNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`no live actor ${id}`);
    this.name = 'ActorNotFoundError';
  }
}

export function createHub(deps: HubDeps) {
  const entries = new Map<string, Entry>();
  const listeners = new Set<CommitListener>();
  const planners: EmitPlanner[] = [];
  const observers = new Map<string, Set<ChangeObserver>>();

  let dirty = new Map<string, Entry>();
  let pendingOps: WriteOp[] = [];
  let pendingEvents: EventDraft[] = [];
  let pendingEmitted: EmittedIntent[] = [];
  let scheduled = false;
  /** Rows from `note` wait for the end of this event-loop turn (or an earlier commit). */
  let noted = false;
  /** True while the hub itself is sending, so changes are committed by the caller's batch. */
  let sending = false;

  function notifyObservers(entry: Entry, snapshot: AnySnapshot): void {
    const set = observers.get(entry.kind.machine.id);
    if (!set) return;
    for (const o of set) {
      try {
        o(entry.id, snapshot);
      } catch (err) {
        deps.logger.error({ err, actor: entry.id }, 'change observer failed');
      }
    }
  }

  function attach(entry: Entry): void {
    const sub = entry.actor.subscribe({
      next: (snapshot) => {
        dirty.set(entry.id, entry);
        if (!sending) schedule();
        notifyObservers(entry, snapshot as AnySnapshot);
      },
      error: (err) => {
        deps.logger.error({ err, actor: entry.id }, 'actor failed; retired from the hub');
        if (entries.get(entry.id) === entry) entries.delete(entry.id);
        dirty.delete(entry.id);
        notifyObservers(entry, entry.actor.getSnapshot() as AnySnapshot);
        pendingEvents.push({ type: 'actor.error', at: Date.now(), instanceId: entry.id, details: { message: String((err as Error)?.message ?? err) } });
        schedule();
      },
    });
    const emitted = entry.actor.on('*', (event) => {
      pendingEmitted.push({ actorId: entry.id, event: event as EmittedIntent['event'] });
    });
    entry.unsubscribe = () => {
      sub.unsubscribe();
      emitted.unsubscribe();
    };
  }

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

  /** The snapshot row and projection rows of an actor, computed when its batch starts. */
  function snapshotRows(entry: Entry): WriteOp[] {
    entry.queued = false;
    const snapshot = entry.actor.getSnapshot() as AnySnapshot;
    const json = JSON.stringify(entry.actor.getPersistedSnapshot());
    entry.flushing = json;
    return [
      snapshotUpsert({
        actor_id: entry.id,
        machine_id: entry.kind.machine.id,
        machine_version: entry.kind.machine.version ?? '0',
        status: snapshot.status,
        snapshot: json,
        updated_at: new Date().toISOString(),
      }),
      ...entry.kind.project(entry.id, snapshot),
    ];
  }

  /** Hands everything collected so far to the writer as one unit; resolves after COMMIT. */
  function commit(): Promise<CommitNotice> {
    scheduled = false;
    noted = false;
    const batch = dirty;
    const ops = pendingOps;
    const events = pendingEvents;
    const emitted = pendingEmitted;
    dirty = new Map();
    pendingOps = [];
    pendingEvents = [];
    pendingEmitted = [];

    const changes: ActorChange[] = [];
    const queuedNow: Entry[] = [];
    const rowOps: WriteOp[] = [];
    /** Some actor's change rides on a snapshot row already waiting in the writer's next batch. */
    let alreadyQueued = false;
    for (const entry of batch.values()) {
      const snapshot = entry.actor.getSnapshot() as AnySnapshot;
      events.push(...entry.kind.transitions(entry.id, snapshot, entry.lastSnapshot));
      changes.push({ id: entry.id, machineId: entry.kind.machine.id, snapshot, prev: entry.lastSnapshot });
      entry.lastSnapshot = snapshot;
      if (!entry.queued) {
        entry.queued = true;
        queuedNow.push(entry);
        rowOps.push({ kind: 'lazy', build: () => snapshotRows(entry) });
      } else alreadyQueued = true;
      if (snapshot.status !== 'active' && entries.get(entry.id) === entry) {
        entries.delete(entry.id);
        entry.unsubscribe();
      }
    }
    try {
      for (const e of emitted) {
        const source = (batch.get(e.actorId) ?? entries.get(e.actorId))?.actor.getSnapshot() as AnySnapshot | undefined;
        for (const plan of planners) {
          const r = plan(e, source);
          if (r.ops) ops.push(...r.ops);
          if (r.events) events.push(...r.events);
        }
      }
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
    const notice: CommitNotice = { changes, events, emitted };
    return deps.writer.submit(all).then(
      () => {
        for (const entry of queuedNow) if (entry.flushing !== null) entry.committedJson = entry.flushing;
        for (const l of listeners) {
          try {
            l(notice);
          } catch (err) {
            deps.logger.error({ err }, 'commit listener failed');
          }
        }
        return notice;
      },
      (err: unknown) => {
        rollback(queuedNow);
        throw err;
      },
    );
  }

  function rollback(touched: Entry[]): void {
    // An actor in a failed batch may also be in the batch behind it, which fails with it:
    // it is rebuilt from its committed snapshot once, by whichever rollback comes first.
    touched = touched.filter((entry) => !entry.rolledBack);
    // Stop every touched actor first, then rebuild: all of them go back to one committed
    // state together, so what observers forward while they rebuild cannot mix the two.
    for (const entry of touched) {
      entry.rolledBack = true;
      entry.queued = false;
      entry.unsubscribe();
      entry.actor.stop();
      if (entries.get(entry.id) === entry) entries.delete(entry.id);
      // A change forwarded to this (now stopped) actor meanwhile must not be written.
      if (dirty.get(entry.id) === entry) dirty.delete(entry.id);
    }
    for (const entry of touched) {
      if (entry.committedJson === null) {
        notifyObservers(entry, entry.actor.getSnapshot() as AnySnapshot);
        continue;
      }
      try {
        const restored = build(entry.id, entry.kind, { snapshot: JSON.parse(entry.committedJson) }, entry.committedJson);
        restored.lastSnapshot = restored.actor.getSnapshot() as AnySnapshot;
        deps.logger.warn({ actor: entry.id }, 'write failed; actor rolled back to its last committed snapshot');
      } catch (err) {
        deps.logger.error({ err, actor: entry.id }, 'rollback failed; actor retired');
      }
    }
  }

  function build(id: string, kind: ActorKind, from: { snapshot: unknown } | { input: unknown }, committedJson: string | null): Entry {
    const actor = kind.create(id, from);
    if (deps.inspect) {
      // Root actors are created by their kinds; connect them (and their children) here.
      actor.system.inspect(deps.inspect);
      deps.inspect.next?.({ type: '@xstate.actor', actorRef: actor, rootId: actor.sessionId });
    }
    const entry: Entry = { id, kind, actor, committedJson, lastSnapshot: null, queued: false, flushing: null, rolledBack: false, unsubscribe: () => undefined };
    attach(entry);
    entries.set(id, entry);
    withSending(() => actor.start());
    return entry;
  }

  /** Runs fn with changes left to the caller's commit; nests (an observer may forward). */
  function withSending<T>(fn: () => T): T {
    const was = sending;
    sending = true;
    try {
      return fn();
    } finally {
      sending = was;
    }
  }

  function addExtra(extra: Extra | undefined): void {
    if (extra?.ops) pendingOps.push(...extra.ops);
    if (extra?.events) pendingEvents.push(...extra.events);
  }

  return {
    /** Starts a new actor and commits its first snapshot (with `extra` rows). */
    spawn(id: string, kind: ActorKind, input: unknown, extra?: Extra): Promise<CommitNotice> {
      if (entries.has(id)) return Promise.reject(new ActorExistsError(id));
      const entry = build(id, kind, { input }, null);
      dirty.set(id, entry);
      addExtra(extra);
      return commit();
    },

    /**
     * Restores an actor from a validated persisted snapshot; the snapshot is already
     * committed, so nothing is written unless starting it changes something.
     */
    restore(id: string, kind: ActorKind, snapshot: unknown, json: string): AnyActor {
      const entry = build(id, kind, { snapshot }, json);
      entry.lastSnapshot = entry.actor.getSnapshot() as AnySnapshot;
      if (entry.actor.getSnapshot().status === 'error') {
        entries.delete(id);
        entry.unsubscribe();
        throw (entry.actor.getSnapshot() as { error?: unknown }).error ?? new Error(`actor ${id} failed to start`);
      }
      // Starting a restored actor is not a change; only what happens after it is.
      dirty.delete(id);
      return entry.actor;
    },

    /**
     * Sends an event to a live actor and commits whatever it (and anything else) changed.
     * `extra` may be a function of the snapshot after the event, so that rows describing
     * the transition share its transaction.
     */
    send<E extends { type: string }>(id: string, event: E, extra?: Extra | ((after: AnySnapshot) => Extra)): Promise<CommitNotice> {
      const entry = entries.get(id);
      if (!entry) return Promise.reject(new ActorNotFoundError(id));
      withSending(() => entry.actor.send(event));
      dirty.set(id, entry);
      addExtra(typeof extra === 'function' ? extra(entry.actor.getSnapshot() as AnySnapshot) : extra);
      return commit();
    },

    /** Writes rows that belong to no actor transition (an event that changed nothing). */
    record(extra: Extra): Promise<CommitNotice> {
      addExtra(extra);
      return commit();
    },

    get(id: string): AnyActor | undefined {
      return entries.get(id)?.actor;
    },

    has(id: string): boolean {
      return entries.has(id);
    },

    /** Live actors of one machine. */
    *actorsOf(machineId: string): Generator<[string, AnyActor]> {
      for (const [id, e] of entries) if (e.kind.machine.id === machineId) yield [id, e.actor];
    },

    count(machineId?: string): number {
      if (!machineId) return entries.size;
      let n = 0;
      for (const e of entries.values()) if (e.kind.machine.id === machineId) n += 1;
      return n;
    },

    /**
     * Observes every transition of the actors of one machine, synchronously, as it happens
     * (including actors being restored, failing or rolled back). For cheap bookkeeping and
     * `forward`; anything slow belongs in a commit listener.
     */
    observe(machineId: string, observer: ChangeObserver): () => void {
      let set = observers.get(machineId);
      if (!set) observers.set(machineId, (set = new Set()));
      set.add(observer);
      return () => set.delete(observer);
    },

    /**
     * Sends an event to a live actor without a commit of its own: from an observer, the change
     * joins the transaction of the change being observed; elsewhere it is committed on the
     * next microtask. False when there is no such live actor.
     */
    forward<E extends { type: string }>(id: string, event: E): boolean {
      const entry = entries.get(id);
      if (!entry) return false;
      withSending(() => entry.actor.send(event));
      dirty.set(id, entry);
      // Within hub.send the caller's commit takes it first and this finds nothing to do.
      schedule();
      return true;
    },

    onCommit(listener: CommitListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    addEmitPlanner(planner: EmitPlanner): void {
      planners.push(planner);
    },

    /**
     * Adds event rows that record something which changed no state (a gate check) to the next
     * transaction, without a promise to wait on: they are gathered for one event-loop turn and
     * committed together (failures are logged). `flush` commits them too.
     */
    note(events: EventDraft[]): void {
      for (const e of events) pendingEvents.push(e);
      scheduleNoted();
    },

    /** Commits changes made by timers that are still waiting for their microtask, then waits for the writer. */
    async flush(): Promise<void> {
      if (scheduled || noted) await commit().catch(() => undefined);
      await deps.writer.flush();
    },

    /** Stops every actor (their timers too) without writing anything. */
    stopAll(): void {
      scheduled = false;
      for (const e of entries.values()) {
        e.unsubscribe();
        e.actor.stop();
      }
      entries.clear();
    },
  };
}

export type Hub = ReturnType<typeof createHub>;
