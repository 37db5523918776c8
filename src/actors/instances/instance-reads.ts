// Instances as the API lists them: read from their committed projection (claude_instances), so
// a list never shows a change that is not yet durable.
import type { Database } from '../../db/database.js';
import { getInstance, listInstances, type InstanceFilter } from '../../db/queries/instances.js';
import { instanceView, type InstanceView } from './instance-view.js';

export function createInstanceReads(db: Database) {
  return {
    /** Awaiting first, then working, then idle; newest registration first within each. */
    async list(filter: InstanceFilter): Promise<InstanceView[]> {
      return (await listInstances(db, filter)).map(instanceView);
    },
    async get(id: string): Promise<InstanceView | null> {
      const row = await getInstance(db, id);
      return row ? instanceView(row) : null;
    },
  };
}

export type InstanceReads = ReturnType<typeof createInstanceReads>;
