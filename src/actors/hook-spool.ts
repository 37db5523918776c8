// The hook spool: what the hook script could not deliver, replayed in order, each event once.
// The script appends lines to `spool/hooks.ndjson` under a mkdir lock; whoever drains it takes
// the same lock only to rename the file to `batch-<time>-<who>.ndjson`, so appends never race
// the replay, then replays the batch and deletes it. Lines carry the script's event id, and
// an id already accepted (live, or by an earlier replay) changes nothing a second time.
import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { fieldsInWords, parseInWords, sentenceOfFields } from '../validation-words.js';
import { hookBodySchema, hookQuerySchema } from '../http/schemas.js';
import type { Clock } from './clock.js';
import { EVENT_ID_PATTERN } from './hook-event-ids.js';
import { toHookInput, type HookInput } from './hook-events.js';
import type { Hub } from './hub.js';
import type { Instances } from './instances.js';

/** A lock older than this was left by a process that died holding it. */
export const STALE_LOCK_MS = 60_000;
/** How long accepted event ids are kept (a spooled event older than this is not expected). */
export const EVENT_ID_RETENTION_MS = 30 * 24 * 3600_000;

export function spoolPaths(dir: string) {
  return {
    dir,
    active: join(dir, 'hooks.ndjson'),
    lock: join(dir, 'hooks.lock'),
    rejected: join(dir, 'rejected.ndjson'),
  };
}

export const BATCH_FILE = /^batch-[A-Za-z0-9_-]+\.ndjson$/;

const spoolLineSchema = z.object({
  event_id: z.string().regex(EVENT_ID_PATTERN, 'an event id'),
  spooled_at: z.union([z.number(), z.string().max(40)]),
  query: z.string().max(8192),
  body: z.record(z.string(), z.unknown()),
});

export interface SpooledEvent {
  eventId: string;
  at: number;
  input: HookInput;
}

export type ParsedLine = { ok: true; event: SpooledEvent } | { ok: false; reason: string };

function issues(error: z.ZodError, where: string): string {
  return `${where}: ${sentenceOfFields(fieldsInWords(error), 'field')}`;
}

/** One spool line -> a hook input with its id and time, or why it cannot be replayed. */
export function parseSpoolLine(text: string, now: number): ParsedLine {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  const line = parseInWords(spoolLineSchema, raw);
  if (!line.success) return { ok: false, reason: issues(line.error, 'line') };
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(line.data.query)) params[k] = v;
  const query = parseInWords(hookQuerySchema, params);
  if (!query.success) return { ok: false, reason: issues(query.error, 'query') };
  const body = parseInWords(hookBodySchema, line.data.body);
  if (!body.success) return { ok: false, reason: issues(body.error, 'body') };
  const s = line.data.spooled_at;
  const ms = typeof s === 'number' ? s : /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  // An unreadable or future time (a clock that was wrong) becomes "now": order is kept by position.
  const at = Number.isFinite(ms) && ms > 0 ? Math.min(ms, now) : now;
  return { ok: true, event: { eventId: line.data.event_id, at, input: toHookInput(body.data, query.data) } };
}

export interface ReplayReport {
  replayed: number;
  duplicates: number;
  invalid: { line: number; reason: string }[];
}

export interface DrainReport extends ReplayReport {
  batches: number;
  /** True when the spool's lock was held by someone else; what it guards is left for next time. */
  busy: boolean;
}

export interface HookSpoolDeps {
  dir: string;
  instances: Instances;
  hub: Hub;
  clock: Clock;
  logger: Logger;
  /** Wall-clock time for comparing with file times (the injected clock may be a test's). */
  wallNow?: () => number;
}

export function createHookSpool(deps: HookSpoolDeps) {
  const paths = spoolPaths(deps.dir);
  const wallNow = deps.wallNow ?? Date.now;
  let draining: Promise<DrainReport> | null = null;

  function lock(): boolean {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        mkdirSync(paths.lock);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      try {
        if (wallNow() - statSync(paths.lock).mtimeMs < STALE_LOCK_MS) return false;
        deps.logger.warn({ lock: paths.lock }, 'hook spool lock is stale (its holder died); breaking it');
        rmdirSync(paths.lock);
      } catch {
        // Released meanwhile: try again.
      }
    }
    return false;
  }

  function reject(lines: { text: string; reason: string }[], source: string): void {
    if (lines.length === 0) return;
    const at = new Date(wallNow()).toISOString();
    appendFileSync(paths.rejected, lines.map((l) => `${JSON.stringify({ rejected_at: at, source, reason: l.reason, line: l.text })}\n`).join(''));
  }

  /** Replays NDJSON spool text in order; each event once. Rejects if the events could not be committed. */
  async function replayText(text: string, pidLocal: boolean, source: string, opts: { refuseIfAllInvalid?: boolean } = {}): Promise<ReplayReport> {
    const now = deps.clock.now();
    const report: ReplayReport = { replayed: 0, duplicates: 0, invalid: [] };
    const events: SpooledEvent[] = [];
    const bad: { text: string; reason: string }[] = [];
    text.split('\n').forEach((line, i) => {
      const trimmed = line.trim();
      if (!trimmed) return;
      const parsed = parseSpoolLine(trimmed, now);
      if (parsed.ok) events.push(parsed.event);
      else {
        report.invalid.push({ line: i + 1, reason: parsed.reason });
        bad.push({ text: trimmed.slice(0, 64 * 1024), reason: parsed.reason });
      }
    });
    // Nothing usable: the caller refuses the whole upload, and nothing is written.
    if (events.length === 0 && opts.refuseIfAllInvalid) return report;
    const known = await deps.instances.eventIds.known(events.map((e) => e.eventId));
    const seen = new Set<string>();
    const pending: Promise<{ outcome: string }>[] = [];
    // Every event is handed over in one synchronous pass: order is kept and one transaction commits them.
    for (const e of events) {
      if (known.has(e.eventId) || seen.has(e.eventId)) {
        report.duplicates += 1;
        continue;
      }
      seen.add(e.eventId);
      pending.push(deps.instances.handleHook(e.input, pidLocal, { at: e.at, eventId: e.eventId }));
    }
    const results = await Promise.allSettled(pending);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const r of results) {
      if (r.status === 'fulfilled' && r.value.outcome === 'duplicate') report.duplicates += 1;
      else report.replayed += 1;
    }
    if (bad.length > 0) {
      deps.logger.warn({ source, invalid: report.invalid.slice(0, 10) }, 'hook spool lines could not be replayed; kept in spool/rejected.ndjson');
      try {
        reject(bad, source);
      } catch (err) {
        deps.logger.error({ err }, 'could not keep rejected spool lines');
      }
    }
    return report;
  }

  async function drainOnce(): Promise<DrainReport> {
    const report: DrainReport = { replayed: 0, duplicates: 0, invalid: [], batches: 0, busy: false };
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    let size = 0;
    try {
      size = statSync(paths.active).size;
    } catch {
      size = 0;
    }
    if (size > 0) {
      if (lock()) {
        try {
          const stamp = String(Math.floor(wallNow() / 1000)).padStart(10, '0');
          renameSync(paths.active, join(paths.dir, `batch-${stamp}-s${process.pid}.ndjson`));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        } finally {
          rmdirSync(paths.lock);
        }
      } else report.busy = true;
    }
    // Batches left by an interrupted replay (or an upload that failed) come first: names sort by time.
    const batches = readdirSync(paths.dir).filter((n) => BATCH_FILE.test(n)).sort();
    for (const name of batches) {
      const file = join(paths.dir, name);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // another drainer took it
        throw err;
      }
      const r = await replayText(text, true, name);
      report.replayed += r.replayed;
      report.duplicates += r.duplicates;
      report.invalid.push(...r.invalid);
      report.batches += 1;
      try {
        unlinkSync(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    if (report.batches > 0) deps.logger.info({ ...report, invalid: report.invalid.length }, 'hook spool replayed');
    return report;
  }

  return {
    paths,
    replayText,

    /** Replays this machine's spool (at start-up); one drain at a time. */
    drain(): Promise<DrainReport> {
      draining ??= drainOnce().finally(() => {
        draining = null;
      });
      return draining;
    },

    /** Start-up: forget very old event ids, then replay what was spooled while the server was down. */
    async start(): Promise<DrainReport> {
      try {
        await deps.hub.record({ ops: [deps.instances.eventIds.pruneOp(deps.clock.now() - EVENT_ID_RETENTION_MS)] });
        return await this.drain();
      } catch (err) {
        // The spool stays where it is: the next hook event uploads it, or the next start replays it.
        deps.logger.error({ err, dir: paths.dir }, 'hook spool replay failed at start-up');
        return { replayed: 0, duplicates: 0, invalid: [], batches: 0, busy: false };
      }
    },
  };
}

export type HookSpool = ReturnType<typeof createHookSpool>;
