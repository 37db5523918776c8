// Start-up of a single, long-lived root actor (the work mode, the gate): restored from its
// snapshot row after the same checks instances get (snapshots.ts), or created fresh when
// there is none. A snapshot that fails its checks does not stop the server: the actor starts
// fresh, and the log and an `actor.reset` event say why.
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Database } from '../../db/database.js';
import { activeSnapshotOf } from '../../db/queries/snapshots.js';
import type { InputFrom } from 'xstate';
import type { KindName, Machines } from './domain-events.js';
import type { KindHandle } from './hub.js';
import { checkSnapshot } from './snapshots.js';

export type RootStart = { how: 'restored' | 'created' | 'reset'; migratedFrom: string | null; reason?: string };

export async function startRootActor<M extends Machines, K extends KindName<M>>(deps: {
  db: Database;
  /** The actors of its kind. */
  actors: KindHandle<M, K>;
  logger: Logger;
  id: string;
  contextSchema: z.ZodType;
  /** Input for a fresh actor. */
  fresh: () => InputFrom<M[K]>;
  now: () => number;
}): Promise<RootStart> {
  const { actors, id } = deps;
  const { kind } = actors;
  const row = await activeSnapshotOf(deps.db, id, kind.machine.id);
  let reason: string | undefined;
  if (row) {
    const check = checkSnapshot(kind.machine, deps.contextSchema, row.snapshot, row.machine_version);
    if (check.ok) {
      try {
        actors.restore(id, check.snapshot, row.snapshot);
        return { how: 'restored', migratedFrom: check.migratedFrom };
      } catch (err) {
        reason = `actor failed to start: ${(err as Error).message}`;
      }
    } else {
      reason = check.reason;
    }
  }
  if (reason !== undefined) deps.logger.error({ actor: id, reason }, `${id} snapshot invalid; starting afresh`);
  await actors.spawn(id, deps.fresh(), reason === undefined ? undefined : { events: [{ type: 'actor.reset', at: deps.now(), details: { actor: id, reason } }] });
  return reason === undefined ? { how: 'created', migratedFrom: null } : { how: 'reset', migratedFrom: null, reason };
}
