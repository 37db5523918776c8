// What a commit announces, as types: the root actors whose new snapshot it wrote (with the
// snapshot before), the event-log rows it wrote, and the intents those actors emitted. Typed by
// the machine map the hub holds (src/actors/runtime/root-machines.ts fixes it for the server),
// so a subscriber narrows a change by its `kind` and reads a typed context: no casts. Who hears
// each of them, and in which order, is src/system/wiring.ts.
import type { AnyStateMachine, EmittedFrom, SnapshotFrom } from 'xstate';
import type { EventDraft } from '../../db/queries/events.js';
import type { WriteOp } from '../../db/writer.js';

/** The machines of the hub's root actors, by kind name (the machine's id). */
export type Machines = Record<string, AnyStateMachine>;
export type KindName<M extends Machines> = keyof M & string;

/** A snapshot of a root actor of any kind. */
export type SnapshotOf<M extends Machines> = { [K in KindName<M>]: SnapshotFrom<M[K]> }[KindName<M>];

/** `actor.changed`: an actor of the transaction and its snapshot (prev: the one before; null when new). */
export type ActorChanged<M extends Machines> = {
  [K in KindName<M>]: { kind: K; id: string; snapshot: SnapshotFrom<M[K]>; prev: SnapshotFrom<M[K]> | null };
}[KindName<M>];

/** `intent.emitted`: what an actor emitted (an instance: notify finished, needs_permission...; the mode: mode_timer_ended). */
export type IntentEmitted<M extends Machines> = {
  [K in KindName<M>]: { kind: K; actorId: string; event: EmittedFrom<M[K]> };
}[KindName<M>];

/** `event.recorded`: a row of the event log (hook.*, instance.*, gate.*, mode.*, notification.*, usage.*, actor.*). */
export type EventRecorded = EventDraft;

/** Published after COMMIT: everything the transaction wrote. */
export interface CommitNotice<M extends Machines> {
  changes: ActorChanged<M>[];
  events: EventRecorded[];
  emitted: IntentEmitted<M>[];
}

/** Rows to write in the same transaction as a change. */
export interface Extra {
  ops?: WriteOp[];
  events?: EventDraft[];
}

/** Within the transaction: a transition of an actor of one kind, as it happens; what it forwards joins the transaction. */
export type ChangeObserver<S> = (id: string, snapshot: S) => void;
/**
 * While the transaction is built: an emitted intent becomes rows of the same transaction.
 * `source`: the emitting actor's snapshot after the change (also when that change ended it).
 */
export type Planner<M extends Machines> = (intent: IntentEmitted<M>, source: SnapshotOf<M> | undefined) => Extra;
/** After COMMIT, before the caller's answer. */
export type AfterCommit<M extends Machines> = (notice: CommitNotice<M>) => void;
