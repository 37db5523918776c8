// The usage handle the server and the command line share: scans transcripts, receives
// records pushed by other machines, answers totals, and tells listeners (the WebSocket feed)
// what each committed batch added, per device and instance, as `token_usage_update`.
import type { Logger } from 'pino';
import type { Hub } from '../actors/runtime/root-machines.js';
import type { Config } from '../config/config.js';
import type { Database } from '../db/database.js';
import { claimSessionOp, hasDeviceRecords, hasUnclaimed, instanceSums, maxRecordSeq, recordsAfter } from '../db/queries/usage.js';
import { loadAttributor, type Attribution, type LiveAttribution } from './attribution.js';
import type { TranscriptRoots } from './discover.js';
import type { Price } from '../config/price-schema.js';
import { createPricing } from './pricing.js';
import { emptyTotals, summarize, type UsageQuery, type UsageReport, type UsageTotals } from './report.js';
import { pushUsage, type PushResult } from './push.js';
import { createScanner, type ScanProgress, type ScanReport } from './scanner.js';
import { createUsageStore } from './store.js';
import { dayRange } from '../lib/timezone.js';
import type { StoredRecord, UsageRecord } from './types.js';

export interface UsageSettings {
  timezone: string;
  roots: TranscriptRoots;
  /** Records that no instance claims belong to this device. */
  localDevice: string;
  pricing: Readonly<Record<string, Price>>;
}

/** The usage settings of a loaded configuration. */
export function usageSettings(config: Config): UsageSettings {
  return {
    timezone: config.usageTimezone,
    roots: { claudeDirs: config.usageClaudeDirs, codexDirs: config.usageCodexDirs },
    localDevice: config.localDevice,
    pricing: config.usagePricing,
  };
}

export interface UsageServiceDeps {
  db: Database;
  hub: Pick<Hub, 'record'>;
  logger: Logger;
  now: () => number;
  settings: UsageSettings;
  /** Which live instance a session belongs to, from memory (the instances service). */
  liveAttribution?: LiveAttribution;
}

/** What the WebSocket feed publishes after usage was committed. */
export interface TokenUsageUpdate {
  type: 'token_usage_update';
  at: string;
  device_id: string;
  instance_id: string | null;
  /** How the records arrived: read from a transcript here, or pushed by another machine. */
  /** database: records another process (`token-api usage`) wrote, seen at the next sync. */
  origin: 'transcript' | 'push' | 'database';
  /** What this batch added. */
  added: UsageTotals;
  /** The instance's totals now (null for records no instance claims). */
  instance: UsageTotals | null;
  /** The device's totals for today, in the configured time zone. */
  device_today: UsageTotals & { day: string; timezone: string };
}

export type UsageListener = (update: TokenUsageUpdate) => void;

/** How a scan or a push went: the feed's `sync_status`, after each one. */
export interface SyncStatus {
  /** scan: this machine's transcripts were read; push_received: another machine sent records; push_sent: records sent to a hub. */
  kind: 'scan' | 'push_received' | 'push_sent';
  status: 'ok' | 'failed';
  /** This machine's device (scan, push_sent), or the device that sent records (push_received). */
  device_id: string;
  /** Records that were new where they arrived. */
  records: number;
  error: string | null;
  /** push_sent: the hub's URL. */
  target?: string;
}

export interface ReceiveResult {
  device_id: string;
  received: number;
  inserted: number;
  duplicates: number;
}

function addedTotals(records: readonly StoredRecord[]): UsageTotals {
  const t = emptyTotals();
  const models = new Set<string>();
  const unpriced = new Set<string>();
  let first = Infinity;
  let last = -Infinity;
  for (const r of records) {
    t.input_tokens += r.input;
    t.output_tokens += r.output;
    t.cache_creation_tokens += r.cacheCreation;
    t.cache_read_tokens += r.cacheRead;
    t.cost_usd += r.costUsd ?? 0;
    t.records += 1;
    models.add(r.model);
    if (r.costUsd === null) unpriced.add(r.model);
    first = Math.min(first, r.at);
    last = Math.max(last, r.at);
  }
  t.total_tokens = t.input_tokens + t.output_tokens + t.cache_creation_tokens + t.cache_read_tokens;
  t.cost_usd = Math.round(t.cost_usd * 1e6) / 1e6;
  t.models = [...models].sort();
  t.unpriced_models = [...unpriced].sort();
  t.first_at = records.length ? new Date(first).toISOString() : null;
  t.last_at = records.length ? new Date(last).toISOString() : null;
  return t;
}

export function createUsageService(deps: UsageServiceDeps) {
  const { db, settings } = deps;
  const pricing = createPricing(settings.pricing);
  const store = createUsageStore({ db, hub: deps.hub, pricing, now: deps.now });
  const listeners = new Set<UsageListener>();
  const syncListeners = new Set<(s: SyncStatus) => void>();
  function tellSync(st: SyncStatus): void {
    for (const l of syncListeners) {
      try {
        l(st);
      } catch (err) {
        deps.logger.error({ err }, 'sync status listener failed');
      }
    }
  }
  let publishing: Promise<void> = Promise.resolve();

  function publish(records: StoredRecord[], origin: TokenUsageUpdate['origin']): void {
    if (listeners.size === 0 || records.length === 0) return;
    const groups = new Map<string, StoredRecord[]>();
    for (const r of records) {
      const k = `${r.deviceId}\u0000${r.instanceId ?? ''}`;
      let g = groups.get(k);
      if (!g) groups.set(k, (g = []));
      g.push(r);
    }
    // Updates go out in commit order; reading the totals is the only I/O.
    publishing = publishing.then(async () => {
      for (const g of groups.values()) {
        const { deviceId, instanceId } = g[0]!;
        try {
          const [instance, today] = await Promise.all([instanceId ? service.instanceTotals(instanceId) : Promise.resolve(null), service.deviceToday(deviceId)]);
          const update: TokenUsageUpdate = {
            type: 'token_usage_update',
            at: new Date(deps.now()).toISOString(),
            device_id: deviceId,
            instance_id: instanceId,
            origin,
            added: addedTotals(g),
            instance,
            device_today: today,
          };
          for (const l of listeners) {
            try {
              l(update);
            } catch (err) {
              deps.logger.error({ err }, 'usage listener failed');
            }
          }
        } catch (err) {
          deps.logger.warn({ err }, 'could not read usage totals for an update');
        }
      }
    });
  }

  const scanner = createScanner({ store, roots: settings.roots, now: deps.now, onRecords: (r) => publish(r, 'transcript') });
  let scanning: Promise<ScanReport> | null = null;
  /** The highest usage_records.seq this server has looked at (null until the first sync). */
  let seenSeq: number | null = null;

  const maxSeq = () => maxRecordSeq(db);

  /** Records written by another process since the last sync are announced, so every total shown is what the database holds. */
  async function announceOthers(): Promise<void> {
    if (seenSeq === null) {
      seenSeq = await maxSeq();
      return;
    }
    const rows = await recordsAfter(db, seenSeq, 100_000);
    if (rows.length === 0) return;
    seenSeq = rows[rows.length - 1]!.seq;
    publish(
      rows.map((r) => ({
        key: r.key,
        deviceId: r.device_id,
        instanceId: r.instance_id,
        source: r.source as StoredRecord['source'],
        sessionId: r.session_id,
        project: r.project,
        model: r.model,
        at: r.at,
        input: r.input_tokens,
        output: r.output_tokens,
        cacheCreation: r.cache_creation_tokens,
        cacheRead: r.cache_read_tokens,
        costUsd: r.cost_usd,
      })),
      'database',
    );
  }

  const service = {
    pricing,
    store,
    timezone: settings.timezone,

    /** Recomputes stored costs if the pricing table changed; call once at start. */
    async start(): Promise<void> {
      const r = await store.repriceIfChanged();
      if (r.repriced && r.models > 0) deps.logger.info({ models: r.models, pricing: pricing.fingerprint }, 'usage costs recomputed for a changed pricing table');
    },

    /** Reads every transcript that changed; a call while a scan runs joins it. */
    sync(opts: { onProgress?: (p: ScanProgress) => void; signal?: AbortSignal } = {}): Promise<ScanReport> {
      scanning ??= (async () => {
        try {
          await announceOthers();
          const attributor = await loadAttributor(db, settings.localDevice, deps.liveAttribution);
          const report = await scanner.scan({ attributor, onProgress: opts.onProgress, signal: opts.signal });
          // What this scan wrote was announced as it was read.
          seenSeq = Math.max(seenSeq ?? 0, await maxSeq());
          if (report.records > 0) {
            await deps.hub.record({ events: [{ type: 'usage.synced', at: deps.now(), deviceId: settings.localDevice, details: report }] });
          }
          const stopped = report.aborted ? 'the scan was stopped before it finished' : null;
          tellSync({ kind: 'scan', status: stopped ? 'failed' : 'ok', device_id: settings.localDevice, records: report.records, error: stopped });
          return report;
        } catch (err) {
          tellSync({ kind: 'scan', status: 'failed', device_id: settings.localDevice, records: 0, error: (err as Error).message });
          throw err;
        } finally {
          scanning = null;
        }
      })();
      return scanning;
    },

    /** Reads the transcripts, then sends this machine's records to a hub (token-api usage push's work). */
    async push(o: { to: string; device?: string; token?: string }): Promise<PushResult> {
      const deviceId = o.device ?? settings.localDevice;
      try {
        await service.sync();
        const r = await pushUsage({ store, target: o.to, deviceId, localDevice: settings.localDevice, token: o.token });
        tellSync({ kind: 'push_sent', status: 'ok', device_id: deviceId, records: r.inserted, error: null, target: r.target });
        return r;
      } catch (err) {
        tellSync({ kind: 'push_sent', status: 'failed', device_id: deviceId, records: 0, error: (err as Error).message, target: o.to });
        throw err;
      }
    },

    /** Hears how each scan and push went. */
    onSyncStatus(listener: (s: SyncStatus) => void): () => void {
      syncListeners.add(listener);
      return () => syncListeners.delete(listener);
    },

    /** Reads what one transcript gained (the live path), attributed to an instance. */
    /**
     * Gives an instance the records of its session that were read before it was known (a
     * scan, or hooks installed mid-session), which went to this machine with no instance.
     */
    async claimSession(sessionId: string, attribution: Attribution): Promise<void> {
      if (!attribution.instanceId) return;
      // Usually there is nothing to claim: ask first (indexed), write only when there is.
      if (!(await hasUnclaimed(db, sessionId, settings.localDevice))) return;
      await deps.hub.record({ ops: [claimSessionOp(sessionId, settings.localDevice, attribution.instanceId, attribution.deviceId)] });
    },

    readTranscript(path: string, attribution: Attribution): Promise<StoredRecord[]> {
      return scanner.readFile(path, attribution);
    },

    isTranscript: scanner.isTranscript,

    /** Stores records pushed by another machine; sending the same records again changes nothing. */
    async receive(deviceId: string, records: readonly UsageRecord[]): Promise<ReceiveResult> {
      const fresh = await store.ingest(
        records.map((r) => ({ ...r, deviceId, instanceId: null })),
        [],
      );
      const result: ReceiveResult = { device_id: deviceId, received: records.length, inserted: fresh.length, duplicates: records.length - fresh.length };
      if (fresh.length > 0) {
        await deps.hub.record({ events: [{ type: 'usage.received', at: deps.now(), deviceId, details: result }] });
        publish(fresh, 'push');
      }
      tellSync({ kind: 'push_received', status: 'ok', device_id: deviceId, records: fresh.length, error: null });
      return result;
    },

    report(q: Omit<UsageQuery, 'timezone'> & { timezone?: string }): Promise<UsageReport> {
      return summarize(db, { ...q, timezone: q.timezone ?? settings.timezone, estimated: pricing.isEstimated });
    },

    /** Whether any record of this device is stored. */
    async hasDevice(deviceId: string): Promise<boolean> {
      return hasDeviceRecords(db, deviceId);
    },

    async instanceTotals(instanceId: string): Promise<UsageTotals> {
      return (await summarize(db, { instance: instanceId, groupBy: [], timezone: settings.timezone, estimated: pricing.isEstimated })).totals;
    },

    /** Totals of each of these instances (one indexed query), for lists such as the dashboard. */
    async totalsOfInstances(ids: readonly string[]): Promise<Map<string, UsageTotals>> {
      const out = new Map<string, UsageTotals>();
      if (ids.length === 0) return out;
      const rows = await instanceSums(db, ids);
      for (const r of rows) {
        out.set(r.instance_id, {
          ...emptyTotals(),
          input_tokens: r.i,
          output_tokens: r.o,
          cache_creation_tokens: r.cc,
          cache_read_tokens: r.cr,
          total_tokens: r.i + r.o + r.cc + r.cr,
          cost_usd: Math.round((r.cost ?? 0) * 1e6) / 1e6,
          records: r.n,
        });
      }
      return out;
    },

    /** Today's totals of every device that used tokens today, in the configured zone. */
    async devicesToday(): Promise<{ day: string; timezone: string; devices: UsageReport['rows']; totals: UsageTotals }> {
      const { day, start, end } = dayRange(deps.now(), settings.timezone);
      const r = await summarize(db, { since: start, until: end, groupBy: ['device'], timezone: settings.timezone });
      return { day, timezone: settings.timezone, devices: r.rows, totals: r.totals };
    },

    async deviceToday(deviceId: string, timezone = settings.timezone): Promise<UsageTotals & { day: string; timezone: string }> {
      const { day, start, end } = dayRange(deps.now(), timezone);
      const r = await summarize(db, { device: deviceId, since: start, until: end, groupBy: [], timezone });
      return { ...r.totals, day, timezone };
    },

    /** Registers a listener for `token_usage_update`; returns its removal. */
    onUpdate(listener: UsageListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** Resolves when the scan, ingest batches and updates under way have finished. */
    async idle(): Promise<void> {
      await scanning?.catch(() => undefined);
      await store.idle();
      await publishing;
    },
  };
  return service;
}

export type UsageService = ReturnType<typeof createUsageService>;
