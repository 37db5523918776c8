// The hub: independent root actors (instances, mode, gate), each persisted to its own snapshot
// row. It composes the registry (typed live actors by kind), the commit unit (one transaction
// for everything that changed, acknowledged after COMMIT, rolled back when it fails) and the
// named subscribers (src/system/wiring.ts). Every change an actor makes, whether caused by a
// request or by one of its timers, is written through the group-commit writer; callers get a
// promise that settles only after SQLite has it. What a `within` subscriber forwards to another
// actor joins the same transaction (the gate follows the instances this way).
import type { Logger } from 'pino';
import type { Actor, EventFromLogic, InputFrom, InspectionEvent, Observer, SnapshotFrom } from 'xstate';
import type { EventDraft } from '../../db/queries/events.js';
import type { Writer } from '../../db/writer.js';
import { createCommitUnit } from './commit-unit.js';
import type { ActorChanged, CommitNotice, Extra, KindName, Machines } from './domain-events.js';
import type { ActorKind } from './kinds.js';
import { createRegistry, type Registry } from './registry.js';
import { createSubscribers, type SubscriberOrder } from './subscribers.js';

export interface HubDeps {
  writer: Writer;
  logger: Logger;
  eventDetailsMaxBytes: number;
  /** The subscribers' names, in the order they hear of things (src/system/wiring.ts ORDER); default none. */
  order?: SubscriberOrder;
  /** Inspection observer every actor is connected to (`serve --inspect`). */
  inspect?: Observer<InspectionEvent>;
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

/** The live actors of one kind, typed by its machine: what the kind's service holds. */
export interface KindHandle<M extends Machines, K extends KindName<M>> {
  readonly kind: ActorKind<M, K>;
  /** Starts a new actor and commits its first snapshot (with `extra` rows). */
  spawn(id: string, input: InputFrom<M[K]>, extra?: Extra): Promise<CommitNotice<M>>;
  /**
   * Restores an actor from a persisted snapshot checked by src/actors/runtime/snapshots.ts; it is
   * already committed, so nothing is written unless starting it changes something.
   */
  restore(id: string, snapshot: unknown, json: string): Actor<M[K]>;
  /**
   * Sends an event to a live actor and commits whatever it (and anything else) changed. `extra`
   * may be a function of the snapshot after the event, so that rows describing the transition
   * share its transaction.
   */
  send(id: string, event: EventFromLogic<M[K]>, extra?: Extra | ((after: SnapshotFrom<M[K]>) => Extra)): Promise<CommitNotice<M>>;
  /**
   * Sends an event without a commit of its own: from a `within` subscriber, the change joins the
   * transaction of the change being observed; elsewhere it is committed on the next microtask.
   * False when there is no such live actor.
   */
  forward(id: string, event: EventFromLogic<M[K]>): boolean;
  get(id: string): Actor<M[K]> | undefined;
  snapshot(id: string): SnapshotFrom<M[K]> | undefined;
  has(id: string): boolean;
  all(): IterableIterator<[string, SnapshotFrom<M[K]>]>;
  count(): number;
}

export function createHub<M extends Machines>(deps: HubDeps) {
  const subscribers = createSubscribers<M>(deps.order ?? { within: [], plan: [], after: [] }, deps.logger);
  // The unit asks the registry for live actors; the registry tells the unit of changes.
  let registry: Registry<M> | undefined;
  const unit = createCommitUnit<M>({ writer: deps.writer, logger: deps.logger, eventDetailsMaxBytes: deps.eventDetailsMaxBytes, subscribers, live: (id) => registry?.get(id) });
  registry = createRegistry<M>({ unit, subscribers, logger: deps.logger, inspect: deps.inspect });
  const reg = registry;

  function kind<K extends KindName<M>>(kind: ActorKind<M, K>): KindHandle<M, K> {
    const live = reg.of(kind);
    return {
      kind,
      spawn(id, input, extra) {
        if (reg.has(id)) return Promise.reject(new ActorExistsError(id));
        const l = reg.build(kind, id, { input });
        unit.mark(l.entry);
        unit.add(extra);
        return unit.commit();
      },
      restore(id, snapshot, json) {
        const l = reg.build(kind, id, { snapshot, json });
        l.last = l.actor.getSnapshot();
        if (l.entry.status() === 'error') {
          l.entry.retire();
          throw l.entry.error() ?? new Error(`actor ${id} failed to start`);
        }
        // Starting a restored actor is not a change; only what happens after it is.
        unit.forget(l.entry);
        return l.actor;
      },
      send(id, event, extra) {
        const l = live.get(id);
        if (!l) return Promise.reject(new ActorNotFoundError(id));
        unit.quietly(() => l.actor.send(event));
        unit.mark(l.entry);
        unit.add(typeof extra === 'function' ? extra(l.actor.getSnapshot()) : extra);
        return unit.commit();
      },
      forward(id, event) {
        const l = live.get(id);
        if (!l) return false;
        unit.quietly(() => l.actor.send(event));
        unit.mark(l.entry);
        // Within a send the caller's commit takes it first and this finds nothing to do.
        unit.schedule();
        return true;
      },
      get: (id) => live.get(id)?.actor,
      snapshot: (id) => live.get(id)?.actor.getSnapshot(),
      has: (id) => live.has(id),
      *all() {
        for (const [id, l] of live) yield [id, l.actor.getSnapshot()];
      },
      count: () => live.size,
    };
  }

  return {
    kind,
    subscribers,
    /** Every live actor as it is now, as a change from nothing (`prev` null), in the order they started. */
    live: (): ActorChanged<M>[] => [...reg.all()].map((e) => e.seen()),
    /** Whether any live actor has the id. */
    has: (id: string): boolean => reg.has(id),
    /** Live actors, all kinds or one. */
    count: (kindName?: KindName<M>): number => (kindName === undefined ? reg.count() : reg.countOf(kindName)),

    /** Writes rows that belong to no actor transition (an event that changed nothing). */
    record(extra: Extra): Promise<CommitNotice<M>> {
      unit.add(extra);
      return unit.commit();
    },

    /**
     * Adds event rows that record something which changed no state (a gate check) to the next
     * transaction, without a promise to wait on: they are gathered for one event-loop turn and
     * committed together (failures are logged). `flush` commits them too.
     */
    note(events: EventDraft[]): void {
      unit.note(events);
    },

    /** Commits changes made by timers that are still waiting for their microtask, then waits for the writer. */
    flush: (): Promise<void> => unit.flush(),

    /** Stops every actor (their timers too) without writing anything. */
    stopAll(): void {
      unit.cancel();
      reg.stopAll();
    },
  };
}

export type HubOf<M extends Machines> = ReturnType<typeof createHub<M>>;
