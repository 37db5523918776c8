// The registry of live root actors: one id space over all kinds (an id is live once), and per
// kind a typed map, so a kind's handle gives its callers typed actors. It builds and starts each
// actor (connected to the inspector when there is one), tells the commit unit of every change
// and emitted intent, tells the `within` subscribers of every transition, and retires an actor
// that fails. Each entry's closures know its kind; the commit unit sees them all alike.
import type { Logger } from 'pino';
import { createActor, type Actor, type AnyActorRef, type InspectionEvent, type Observer, type SnapshotFrom } from 'xstate';
import { snapshotUpsert } from '../../db/queries/snapshots.js';
import type { CommitUnit, Tracked } from './commit-unit.js';
import type { ActorChanged, IntentEmitted, KindName, Machines } from './domain-events.js';
import type { ActorKind } from './kinds.js';
import type { Subscribers } from './subscribers.js';

/** A live actor of kind K with its entry. */
export interface Live<M extends Machines, K extends KindName<M>> {
  actor: Actor<M[K]>;
  entry: Tracked<M>;
  /** The snapshot as of the last change handed to the writer (the "prev" of the next change). */
  last: SnapshotFrom<M[K]> | null;
}

export interface RegistryDeps<M extends Machines> {
  unit: CommitUnit<M>;
  subscribers: Subscribers<M>;
  logger: Logger;
  /** Inspection observer every actor is connected to (`serve --inspect`). */
  inspect?: Observer<InspectionEvent>;
}

/** Where a fresh actor starts: its input, or a persisted snapshot (checked by src/actors/runtime/snapshots.ts). */
export type StartFrom<M extends Machines, K extends KindName<M>> = { input: unknown } | { snapshot: unknown; json: string | null };

export function createRegistry<M extends Machines>(deps: RegistryDeps<M>) {
  const { unit, subscribers } = deps;
  /** Every live actor by id, whatever its kind. */
  const entries = new Map<string, Tracked<M>>();
  const kinds = new Map<string, Map<string, Live<M, KindName<M>>>>();

  function liveOf<K extends KindName<M>>(kind: ActorKind<M, K>): Map<string, Live<M, K>> {
    let map = kinds.get(kind.name) as Map<string, Live<M, K>> | undefined;
    if (!map) kinds.set(kind.name, (map = new Map<string, Live<M, K>>()) as unknown as Map<string, Live<M, KindName<M>>>);
    return map;
  }

  /** Builds, registers and starts an actor of `kind`. */
  function build<K extends KindName<M>>(kind: ActorKind<M, K>, id: string, from: StartFrom<M, K>): Live<M, K> {
    // createActor's options are conditional on the machine's input type, which TypeScript cannot
    // resolve for a generic machine: the options are checked by the kind's typed handle instead.
    const options = 'snapshot' in from ? { id, snapshot: from.snapshot, input: undefined } : { id, input: from.input };
    const actor: Actor<M[K]> = createActor(kind.machine, options as never);
    if (deps.inspect) {
      // Root actors are created here; connect them (and their children) to the inspector.
      actor.system.inspect(deps.inspect);
      deps.inspect.next?.({ type: '@xstate.actor', actorRef: actor, rootId: actor.sessionId });
    }
    const map = liveOf(kind);
    // A change of kind K is an ActorChanged<M> of that kind (TypeScript cannot follow K into the union).
    const changeOf = (snapshot: SnapshotFrom<M[K]>, prev: SnapshotFrom<M[K]> | null) => ({ kind: kind.name, id, snapshot, prev }) as ActorChanged<M>;
    // The snapshot's generic parts (status, error), which every actor has, read through the base type.
    const ref: AnyActorRef = actor;
    let unsubscribe = () => undefined as void;
    const live: Live<M, K> = {
      actor,
      last: null,
      entry: {
        id,
        kind: kind.name,
        committedJson: 'snapshot' in from ? from.json : null,
        queued: false,
        flushing: null,
        rolledBack: false,
        snapshot: () => actor.getSnapshot(),
        status: () => ref.getSnapshot().status,
        error: () => ref.getSnapshot().error,
        seen: () => changeOf(actor.getSnapshot(), null),
        change() {
          const snapshot = actor.getSnapshot();
          const events = kind.transitions(id, snapshot, live.last);
          const changed = changeOf(snapshot, live.last);
          live.last = snapshot;
          return { changed, events };
        },
        rows() {
          live.entry.queued = false;
          const snapshot = actor.getSnapshot();
          const json = JSON.stringify(actor.getPersistedSnapshot());
          live.entry.flushing = json;
          return [
            snapshotUpsert({
              actor_id: id,
              machine_id: kind.machine.id,
              machine_version: kind.machine.version ?? '0',
              status: ref.getSnapshot().status,
              snapshot: json,
              updated_at: new Date().toISOString(),
            }),
            ...kind.project(id, snapshot),
          ];
        },
        retire() {
          if (entries.get(id) !== live.entry) return;
          entries.delete(id);
          map.delete(id);
          unsubscribe();
        },
        stop() {
          unsubscribe();
          actor.stop();
          if (entries.get(id) !== live.entry) return;
          entries.delete(id);
          map.delete(id);
        },
        rebuild() {
          const json = live.entry.committedJson;
          if (json === null) {
            subscribers.changed(kind.name, id, actor.getSnapshot());
            return;
          }
          try {
            const restored = build(kind, id, { snapshot: JSON.parse(json), json });
            restored.last = restored.actor.getSnapshot();
            deps.logger.warn({ actor: id }, 'write failed; actor rolled back to its last committed snapshot');
          } catch (err) {
            deps.logger.error({ err, actor: id }, 'rollback failed; actor retired');
          }
        },
      },
    };
    const sub = actor.subscribe({
      next: (snapshot) => {
        unit.touched(live.entry);
        subscribers.changed(kind.name, id, snapshot);
      },
      error: (err) => {
        deps.logger.error({ err, actor: id }, 'actor failed; retired from the hub');
        if (entries.get(id) === live.entry) {
          entries.delete(id);
          map.delete(id);
        }
        unit.forget(live.entry);
        subscribers.changed(kind.name, id, actor.getSnapshot());
        unit.add({ events: [{ type: 'actor.error', at: Date.now(), instanceId: id, details: { message: String((err as Error)?.message ?? err) } }] });
        unit.schedule();
      },
    });
    // What an actor of kind K emits is an IntentEmitted<M> of that kind.
    const emitted = actor.on('*', (event) => unit.emitted({ kind: kind.name, actorId: id, event } as IntentEmitted<M>));
    unsubscribe = () => {
      sub.unsubscribe();
      emitted.unsubscribe();
    };
    entries.set(id, live.entry);
    map.set(id, live);
    unit.quietly(() => actor.start());
    return live;
  }

  return {
    build,
    /** The live actors of a kind, typed. */
    of: liveOf,
    get: (id: string): Tracked<M> | undefined => entries.get(id),
    /** Every live actor, in the order they started. */
    all: (): IterableIterator<Tracked<M>> => entries.values(),
    has: (id: string): boolean => entries.has(id),
    count: (): number => entries.size,
    countOf: (kind: string): number => kinds.get(kind)?.size ?? 0,
    /** Stops every actor (their timers too) without writing anything. */
    stopAll(): void {
      for (const map of kinds.values()) {
        for (const live of map.values()) live.entry.stop();
        map.clear();
      }
      entries.clear();
    },
  };
}

export type Registry<M extends Machines> = ReturnType<typeof createRegistry<M>>;
