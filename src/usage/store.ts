// Usage rows in SQLite: records (idempotent by key), transcript cursors and push cursors.
// Ingesting is serialised: each batch learns which of its keys are new with one read, then
// writes only those through the hub (so they share the group commit with everything else),
// and resolves with the new records once they are committed. Stored costs follow the
// pricing table: when it changes, they are recomputed in one transaction.
import type { Database } from '../db/database.js';
import {
  claimKnownSessionsOp,
  insertRecordOps,
  pricingFingerprint,
  pricingFingerprintOp,
  pushCursorOf,
  pushCursorOp,
  recordsAfter,
  repriceOp,
  storedKeys,
  storedModels,
  usageFileOp,
  usageFiles,
  type RecordRow,
} from '../db/queries/usage.js';
import type { WriteOp } from '../db/writer.js';
import type { EventDraft } from '../db/queries/events.js';
import type { Hub } from '../actors/runtime/root-machines.js';
import type { CodexState } from './codex-parser.js';
import type { FileCursor } from './line-reader.js';
import type { Pricing } from './pricing.js';
import type { AttributedRecord, StoredRecord, UsageSource } from './types.js';

export interface StoredCursor {
  source: UsageSource;
  cursor: FileCursor;
  state: CodexState | null;
}

export interface UsageStoreDeps {
  db: Database;
  hub: Pick<Hub, 'record'>;
  pricing: Pricing;
  now: () => number;
}

export function cursorOp(path: string, c: StoredCursor, now: number): WriteOp {
  return usageFileOp({
    path,
    source: c.source,
    offset: c.cursor.offset,
    size: c.cursor.size,
    mtime_ms: c.cursor.mtimeMs,
    head: c.cursor.head,
    state: c.state ? JSON.stringify(c.state) : null,
    updated_at: new Date(now).toISOString(),
  });
}

/** Multi-row inserts for new records; those read with no instance go to one committed meanwhile. */
function insertOps(records: readonly StoredRecord[]): WriteOp[] {
  const unowned = [...new Set(records.filter((r) => r.instanceId === null && r.sessionId !== null).map((r) => r.sessionId!))];
  const ops = insertRecordOps(records, (r) => [r.key, r.deviceId, r.source, r.sessionId, r.instanceId, r.project, r.model, r.at, r.input, r.output, r.cacheCreation, r.cacheRead, r.costUsd]);
  return unowned.length > 0 ? [...ops, claimKnownSessionsOp(unowned)] : ops;
}

export function createUsageStore(deps: UsageStoreDeps) {
  const { db, hub, pricing } = deps;
  /** Ingest batches run one after another (the "which keys are new" read must not race). */
  let chain: Promise<unknown> = Promise.resolve();

  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  }

  async function existingKeys(keys: string[]): Promise<Set<string>> {
    const have = new Set<string>();
    for (let i = 0; i < keys.length; i += 5000) {
      const rows = await storedKeys(db, keys.slice(i, i + 5000));
      for (const r of rows) have.add(r.key);
    }
    return have;
  }

  return {
    async loadCursors(): Promise<Map<string, StoredCursor>> {
      const rows = await usageFiles(db);
      const out = new Map<string, StoredCursor>();
      for (const r of rows) {
        let state: CodexState | null = null;
        if (r.state) {
          try {
            state = JSON.parse(r.state) as CodexState;
          } catch {
            state = null;
          }
        }
        out.set(r.path, { source: r.source as UsageSource, cursor: { offset: r.offset, size: r.size, mtimeMs: r.mtime_ms, head: r.head }, state });
      }
      return out;
    },

    /**
     * Stores the records not stored yet (the first of each key wins, here and in the table),
     * with `ops` (cursors) and `events` in the same transaction; resolves with the new ones
     * (the given objects, completed with their cost).
     */
    ingest(records: readonly AttributedRecord[], ops: readonly WriteOp[] = [], events: readonly EventDraft[] = []): Promise<StoredRecord[]> {
      return serial(async () => {
        const unique = new Map<string, AttributedRecord>();
        for (const r of records) if (!unique.has(r.key)) unique.set(r.key, r);
        const have = unique.size > 0 ? await existingKeys([...unique.keys()]) : new Set<string>();
        const fresh: StoredRecord[] = [];
        for (const r of unique.values()) {
          if (have.has(r.key)) continue;
          // Records are the caller's to give away: completed in place, not copied.
          const stored = r as StoredRecord;
          stored.costUsd = pricing.cost(r.model, r);
          fresh.push(stored);
        }
        const all = [...ops, ...insertOps(fresh)];
        if (all.length > 0 || events.length > 0) await hub.record({ ops: all, events: [...events] });
        return fresh;
      });
    },

    /** Recomputes every stored cost when the pricing table changed since they were computed. */
    async repriceIfChanged(): Promise<{ repriced: boolean; models: number }> {
      if ((await pricingFingerprint(db)) === pricing.fingerprint) return { repriced: false, models: 0 };
      return serial(async () => {
        const models = await storedModels(db);
        const ops: WriteOp[] = models.map((model) => repriceOp(model, pricing.priceOf(model)));
        ops.push(pricingFingerprintOp(pricing.fingerprint));
        await hub.record({ ops });
        return { repriced: true, models: models.length };
      });
    },

    /** Records stored after a sequence number, oldest first (for pushing). */
    allRecordsAfter(afterSeq: number, limit: number): Promise<RecordRow[]> {
      return recordsAfter(db, afterSeq, limit);
    },

    async pushCursor(target: string, deviceId: string): Promise<number> {
      return pushCursorOf(db, target, deviceId);
    },

    setPushCursor(target: string, deviceId: string, lastSeq: number): Promise<unknown> {
      return hub.record({
        ops: [pushCursorOp(target, deviceId, lastSeq, new Date(deps.now()).toISOString())],
      });
    },

    /** Waits for the ingest batches already started. */
    idle(): Promise<void> {
      return chain.then(() => undefined);
    },
  };
}

export type UsageStore = ReturnType<typeof createUsageStore>;
