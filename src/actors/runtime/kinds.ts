// A kind of root actor: its machine (with the real timers provided) and the rows that mirror its
// state: projection rows written with each snapshot, event rows a transition produces. The hub
// types everything about an actor by its kind, so callers hold typed snapshots and events.
import type { SnapshotFrom } from 'xstate';
import type { EventDraft } from '../../db/queries/events.js';
import type { WriteOp } from '../../db/writer.js';
import type { KindName, Machines } from './domain-events.js';

export interface ActorKind<M extends Machines, K extends KindName<M>> {
  /** The kind's name in the machine map (the machine's id). */
  name: K;
  machine: M[K];
  /** Rows that mirror the actor's state (written with its snapshot, once per transaction). */
  project(id: string, snapshot: SnapshotFrom<M[K]>): WriteOp[];
  /** Events a change produced (prev: the snapshot before it, null for a new actor). */
  transitions(id: string, snapshot: SnapshotFrom<M[K]>, prev: SnapshotFrom<M[K]> | null): EventDraft[];
}
