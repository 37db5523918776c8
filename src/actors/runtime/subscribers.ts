// Who hears what the hub does, by name, in one declared order (src/system/wiring.ts declares
// it). Three phases: `within` a transaction (a transition of an actor of one kind, as it
// happens: cheap bookkeeping and forwards, which join the transaction), `plan` (an emitted
// intent becomes rows of the same transaction) and `after` COMMIT (before the caller's answer).
// A slot is filled once and emptied by the function filling it returns; a name the order does
// not declare is refused, so nothing subscribes outside the wiring.
import type { Logger } from 'pino';
import type { SnapshotFrom } from 'xstate';
import type { AfterCommit, ChangeObserver, CommitNotice, Extra, IntentEmitted, KindName, Machines, Planner, SnapshotOf } from './domain-events.js';

export interface SubscriberOrder {
  readonly within: readonly string[];
  readonly plan: readonly string[];
  readonly after: readonly string[];
}

interface Slot<F> {
  readonly name: string;
  fn: F | null;
}

export function createSubscribers<M extends Machines>(order: SubscriberOrder, logger: Logger) {
  const slots = <F>(names: readonly string[]): Slot<F>[] => names.map((name) => ({ name, fn: null }));
  const within = slots<{ kind: string; observe: (id: string, snapshot: SnapshotOf<M>) => void }>(order.within);
  const plan = slots<Planner<M>>(order.plan);
  const after = slots<AfterCommit<M>>(order.after);

  function fill<F>(list: Slot<F>[], phase: string, name: string, fn: F): () => void {
    const slot = list.find((s) => s.name === name);
    if (!slot) throw new Error(`no ${phase} subscriber is named ${name}; the wiring declares ${list.map((s) => s.name).join(', ') || 'none'}`);
    if (slot.fn !== null) throw new Error(`the ${phase} subscriber ${name} is already attached`);
    slot.fn = fn;
    return () => {
      if (slot.fn === fn) slot.fn = null;
    };
  }

  return {
    /** Hears every transition of the actors of one kind, synchronously (restores, failures and rollbacks included). */
    within<K extends KindName<M>>(kind: K, name: string, observe: ChangeObserver<SnapshotFrom<M[K]>>): () => void {
      // Called only with snapshots of actors of this kind (changed() checks the kind).
      return fill(within, 'within', name, { kind, observe: observe as (id: string, snapshot: SnapshotOf<M>) => void });
    },
    plan: (name: string, planner: Planner<M>): (() => void) => fill(plan, 'plan', name, planner),
    after: (name: string, listener: AfterCommit<M>): (() => void) => fill(after, 'after', name, listener),

    /** An actor of `kind` transitioned (a throw is logged: bookkeeping never breaks a transition). */
    changed(kind: string, id: string, snapshot: SnapshotOf<M>): void {
      for (const { name, fn } of within) {
        if (fn === null || fn.kind !== kind) continue;
        try {
          fn.observe(id, snapshot);
        } catch (err) {
          logger.error({ err, actor: id, subscriber: name }, 'change observer failed');
        }
      }
    },

    /** The rows the planners add for an intent; a throw fails the transaction being built. */
    planned(intent: IntentEmitted<M>, source: SnapshotOf<M> | undefined, into: Required<Extra>): void {
      for (const { fn } of plan) {
        if (fn === null) continue;
        const r = fn(intent, source);
        if (r.ops) into.ops.push(...r.ops);
        if (r.events) into.events.push(...r.events);
      }
    },

    /** A transaction committed (a throw is logged; the others still hear of it). */
    committed(notice: CommitNotice<M>): void {
      for (const { name, fn } of after) {
        if (fn === null) continue;
        try {
          fn(notice);
        } catch (err) {
          logger.error({ err, subscriber: name }, 'commit listener failed');
        }
      }
    },
  };
}

export type Subscribers<M extends Machines> = ReturnType<typeof createSubscribers<M>>;
