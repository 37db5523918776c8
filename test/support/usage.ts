// A usage service over a real SQLite file in a temporary home, without the HTTP server:
// for tests of scanning, ingesting and reporting.
import { join } from 'node:path';
import pino from 'pino';
import { createHub } from '../../src/actors/runtime/hub.js';
import type { RootMachines } from '../../src/actors/runtime/root-machines.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrations.js';
import { createWriter } from '../../src/db/writer.js';
import { createUsageService, type UsageService, type UsageSettings } from '../../src/usage/service.js';
import type { Expected, Totals } from './transcripts.js';

export interface LocalUsage {
  usage: UsageService;
  db: Database;
  close(): Promise<void>;
}

export async function openUsage(home: string, settings: Partial<UsageSettings> & { roots: UsageSettings['roots'] }, now: () => number = Date.now): Promise<LocalUsage> {
  const db = await openDatabase(join(home, 'usage.db'));
  await migrate(db);
  const writer = createWriter(db);
  const logger = pino({ level: 'silent' });
  const hub = createHub<RootMachines>({ writer, logger, eventDetailsMaxBytes: 16 * 1024 });
  const usage = createUsageService({ db, hub, logger, now, settings: { timezone: 'UTC', localDevice: 'desktop', pricing: {}, ...settings } });
  await usage.start();
  return {
    usage,
    db,
    async close() {
      await usage.idle();
      await writer.close();
      await db.close();
    },
  };
}

/** The report's day x model rows in the shape of a generated corpus's expectation. */
export async function dailyByModel(usage: UsageService, timezone = 'UTC'): Promise<Expected> {
  const r = await usage.report({ groupBy: ['day', 'model'], timezone });
  const out: Expected = new Map();
  for (const row of r.rows) {
    let m = out.get(row.day!);
    if (!m) out.set(row.day!, (m = new Map()));
    m.set(row.model!, { input: row.input_tokens, output: row.output_tokens, cacheCreation: row.cache_creation_tokens, cacheRead: row.cache_read_tokens });
  }
  return out;
}

/** Sorted plain objects, for deepEqual with readable diffs. */
export function plain(e: Expected): Record<string, Record<string, Totals>> {
  const out: Record<string, Record<string, Totals>> = {};
  for (const day of [...e.keys()].sort()) {
    const models = e.get(day)!;
    out[day] = Object.fromEntries([...models.keys()].sort().map((m) => [m, models.get(m)!]));
  }
  return out;
}

/** Only the Claude models of an expectation (Codex models start with gpt- or o). */
export function claudeOnly(e: Expected): Expected {
  const out: Expected = new Map();
  for (const [day, models] of e) {
    const kept = new Map([...models].filter(([m]) => m.startsWith('claude-')));
    if (kept.size > 0) out.set(day, kept);
  }
  return out;
}
