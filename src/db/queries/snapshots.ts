// Root actors' persisted snapshots (actor_snapshots): one row per actor, written lazily once per
// transaction by the hub's commit unit, read back at start and when a stopped instance revives.
import type { Database } from '../database.js';
import type { WriteOp } from '../writer.js';

export type SnapshotRow = {
  actor_id: string;
  machine_id: string;
  machine_version: string;
  /** The actor's status when written: active, done, error (retired: set aside at start). */
  status: string;
  /** The persisted snapshot, JSON. */
  snapshot: string;
  updated_at: string;
};

export function snapshotUpsert(row: SnapshotRow): WriteOp {
  return { kind: 'upsert', table: 'actor_snapshots', key: ['actor_id'], row };
}

/** The last snapshot of an actor, whatever its status (a stopped instance's, to revive it). */
export function snapshotOf(db: Database, actorId: string): Promise<{ snapshot: string; machine_version: string } | undefined> {
  return db.get<{ snapshot: string; machine_version: string }>('SELECT snapshot, machine_version FROM actor_snapshots WHERE actor_id = ?', [actorId]);
}

/** The snapshot of a live (status active) actor of a machine, to restore it at start. */
export function activeSnapshotOf(db: Database, actorId: string, machineId: string): Promise<{ snapshot: string; machine_version: string } | undefined> {
  return db.get<{ snapshot: string; machine_version: string }>(
    `SELECT snapshot, machine_version FROM actor_snapshots WHERE actor_id = ? AND machine_id = ? AND status = 'active'`,
    [actorId, machineId],
  );
}

/** Sets a snapshot aside: it is never restored again. */
export function retireSnapshotOp(actorId: string, at: string): WriteOp {
  return { kind: 'sql', sql: `UPDATE actor_snapshots SET status = 'retired', updated_at = ? WHERE actor_id = ?`, params: [at, actorId] };
}
