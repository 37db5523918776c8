// The hook spool: what the hook script could not deliver, replayed in the order the hooks ran,
// each event once. The script appends lines (each with a sequence number) to
// `spool/hooks.ndjson` under a lock; whoever replays renames the file to a batch under that
// lock, so appends never race the replay, and replays batches in sequence order under a second
// lock, one replayer at a time (spool-files.ts). Replays, whether of this machine's spool (at
// start-up and every few seconds) or of uploads from the hook script, run one after another.
// Lines carry the script's event id, and an id already accepted changes nothing a second time.
import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { fieldsInWords, parseInWords, sentenceOfFields } from '../../lib/validation-words.js';
import { hookBodySchema, hookQuerySchema } from '../../protocol/api.js';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import { EVENT_ID_PATTERN } from './hook-event-ids.js';
import { toHookInput, type HookInput } from './hook-events.js';
import type { Hub } from '../runtime/root-machines.js';
import type { Instances } from './instances.js';
import { BATCH_FILE, releaseLock, rotateSpool, spoolPaths, takeLock } from './spool-files.js';

/** How long accepted event ids are kept (a spooled event older than this is not expected). */
export const EVENT_ID_RETENTION_MS = 30 * 24 * 3600_000;
/** A drain reads batches (in name order) up to about this much text at a time. */
const DRAIN_CHUNK_BYTES = 16 * 1024 * 1024;

const spoolLineSchema = z.object({
  event_id: z.string().regex(EVENT_ID_PATTERN, 'an event id'),
  /** The spool's sequence number: the order in which the hooks ran (lines of earlier versions have none). */
  seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).describe("the spool's sequence number, a whole number above 0").optional(),
  spooled_at: z.union([z.number(), z.string().max(40)]),
  query: z.string().max(8192),
  body: z.record(z.string(), z.unknown()),
});

export interface SpooledEvent {
  eventId: string;
  seq: number | null;
  at: number;
  input: HookInput;
}

export type ParsedLine = { ok: true; event: SpooledEvent } | { ok: false; reason: string };

function issues(error: z.ZodError, where: string): string {
  return `${where}: ${sentenceOfFields(fieldsInWords(error), 'field')}`;
}

/** One spool line -> a hook input with its id, sequence and time, or why it cannot be replayed. */
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
  // An unreadable or future time (a clock that was wrong) becomes "now": order is kept by sequence.
  const at = Number.isFinite(ms) && ms > 0 ? Math.min(ms, now) : now;
  return { ok: true, event: { eventId: line.data.event_id, seq: line.data.seq ?? null, at, input: toHookInput(body.data, query.data) } };
}

export interface ReplayReport {
  replayed: number;
  duplicates: number;
  /** Lines that cannot be replayed, numbered from 1 as in the text (blank lines count). */
  invalid: { line: number; reason: string }[];
}

export interface DrainReport extends ReplayReport {
  batches: number;
  /** True when a lock was held by someone else; what it guards is left for next time. */
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
  /** How often this machine's spool is looked at while the server runs (0: only at start-up). */
  drainIntervalMs?: number;
}

/**
 * Replay order: by sequence number, which is the order the hooks ran. A line without one (an
 * earlier version's) keeps its place after the line before it.
 */
function inHookOrder(events: SpooledEvent[]): SpooledEvent[] {
  let key = 0;
  const keyed = events.map((e, i) => {
    if (e.seq !== null) key = e.seq;
    return { e, key, i };
  });
  keyed.sort((a, b) => a.key - b.key || a.i - b.i);
  return keyed.map((k) => k.e);
}

export function createHookSpool(deps: HookSpoolDeps) {
  const paths = spoolPaths(deps.dir);
  const wallNow = deps.wallNow ?? Date.now;
  let draining: Promise<DrainReport> | null = null;
  let drainTimer: TimerHandle | undefined;
  let stopped = false;
  // Replays run one at a time, in the order they were asked for: an upload that arrives while
  // another is being replayed (a retry after a timeout, the next piece) waits for it.
  let tail: Promise<unknown> = Promise.resolve();
  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  }

  function keepRejected(lines: { text: string; reason: string; source: string }[]): void {
    const at = new Date(wallNow()).toISOString();
    appendFileSync(paths.rejected, lines.map((l) => `${JSON.stringify({ rejected_at: at, source: l.source, reason: l.reason, line: l.text })}\n`).join(''));
  }

  /**
   * Replays NDJSON spool texts (an upload, or every batch of this machine's spool) together, in
   * the order the hooks ran; each event once. An event is recorded no earlier than the last
   * activity of its instance, so a spooled event whose clock lagged (seconds only, another
   * machine's) never lands before one that preceded it.
   */
  async function replayNow(texts: { source: string; text: string }[], pidLocal: boolean, opts: { refuseIfAllInvalid?: boolean; keepRejected?: boolean }): Promise<ReplayReport> {
    const now = deps.clock.now();
    const report: ReplayReport = { replayed: 0, duplicates: 0, invalid: [] };
    const parsed: SpooledEvent[] = [];
    const bad: { text: string; reason: string; source: string }[] = [];
    for (const { source, text } of texts) {
      text.split('\n').forEach((line, i) => {
        const trimmed = line.trim();
        if (!trimmed) return;
        const p = parseSpoolLine(trimmed, now);
        if (p.ok) parsed.push(p.event);
        else {
          report.invalid.push({ line: i + 1, reason: p.reason });
          bad.push({ text: trimmed.slice(0, 64 * 1024), reason: p.reason, source });
        }
      });
    }
    // Nothing usable: the caller refuses the whole upload, and nothing is written.
    if (parsed.length === 0 && opts.refuseIfAllInvalid) return report;
    const events = inHookOrder(parsed);
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
      const last = deps.instances.contextOfSession(e.input.sessionId)?.lastActivityAt ?? 0;
      pending.push(deps.instances.handleHook(e.input, pidLocal, { at: Math.max(e.at, last), eventId: e.eventId }));
    }
    const results = await Promise.allSettled(pending);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const r of results) {
      if (r.status === 'fulfilled' && r.value.outcome === 'duplicate') report.duplicates += 1;
      else report.replayed += 1;
    }
    if (bad.length > 0) {
      const sources = [...new Set(bad.map((b) => b.source))];
      if (!opts.keepRejected) {
        // An upload: the uploader keeps the lines it sent aside, with the reasons in the answer.
        deps.logger.warn({ sources, invalid: report.invalid.slice(0, 10) }, 'hook spool lines could not be replayed; the uploader keeps them aside');
      } else {
        deps.logger.warn({ sources, invalid: report.invalid.slice(0, 10) }, 'hook spool lines could not be replayed; kept in spool/rejected.ndjson');
        try {
          keepRejected(bad);
        } catch (err) {
          deps.logger.error({ err }, 'could not keep rejected spool lines');
        }
      }
    }
    return report;
  }

  /** This machine's spool: the spool file becomes a batch, then every batch is replayed in order and deleted. */
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
      if (takeLock(paths.lock, wallNow())) {
        try {
          rotateSpool(paths, wallNow());
        } finally {
          releaseLock(paths.lock);
        }
      } else report.busy = true;
    }
    const batches = readdirSync(paths.dir).filter((n) => BATCH_FILE.test(n)).sort();
    if (batches.length === 0) return report;
    // A hook script uploading this spool holds the replay lock: it goes on, this waits for next time.
    if (!takeLock(paths.uploadLock, wallNow())) return { ...report, busy: true };
    try {
      // Replayed together, a few megabytes at a time, in the order the hooks ran (sequence
      // numbers) whatever the names say; each part deleted once committed.
      for (let i = 0; i < batches.length; ) {
        const read: { source: string; text: string; file: string }[] = [];
        for (let bytes = 0; i < batches.length && (read.length === 0 || bytes < DRAIN_CHUNK_BYTES); i++) {
          const file = join(paths.dir, batches[i]!);
          try {
            const text = readFileSync(file, 'utf8');
            read.push({ source: batches[i]!, text, file });
            bytes += text.length;
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // ENOENT: uploaded meanwhile
          }
        }
        const r = await replayNow(read, true, { keepRejected: true });
        report.replayed += r.replayed;
        report.duplicates += r.duplicates;
        report.invalid.push(...r.invalid);
        report.batches += read.length;
        for (const { file } of read) {
          try {
            unlinkSync(file);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          }
        }
      }
    } finally {
      releaseLock(paths.uploadLock);
    }
    if (report.batches > 0) deps.logger.info({ ...report, invalid: report.invalid.length }, 'hook spool replayed');
    return report;
  }

  function drain(): Promise<DrainReport> {
    draining ??= serial(drainOnce).finally(() => {
      draining = null;
    });
    return draining;
  }

  /** The periodic look; a failure is logged when it first happens (or changes), not every few seconds. */
  let lastFailure: string | null = null;
  function scheduleDrain(): void {
    if (stopped || !deps.drainIntervalMs) return;
    drainTimer = deps.clock.setTimeout(() => {
      drain()
        .then(
          () => {
            lastFailure = null;
          },
          (err: unknown) => {
            const message = String((err as Error)?.message ?? err);
            if (message !== lastFailure) deps.logger.error({ err, dir: paths.dir }, 'hook spool replay failed; tried again every few seconds');
            lastFailure = message;
          },
        )
        .finally(scheduleDrain);
    }, deps.drainIntervalMs);
  }

  return {
    /** Replays an upload of the hook script (one piece of a spool); nothing is written when no line is usable. */
    upload(text: string, pidLocal: boolean): Promise<ReplayReport> {
      return serial(() => replayNow([{ source: 'upload', text }], pidLocal, { refuseIfAllInvalid: true }));
    },

    /** Replays this machine's spool now; one drain at a time. */
    drain,

    /** Start-up: forget very old event ids, replay what was spooled while the server was down, then look again every few seconds. */
    async start(): Promise<DrainReport> {
      let report: DrainReport = { replayed: 0, duplicates: 0, invalid: [], batches: 0, busy: false };
      try {
        await deps.hub.record({ ops: [deps.instances.eventIds.pruneOp(deps.clock.now() - EVENT_ID_RETENTION_MS)] });
        report = await drain();
      } catch (err) {
        // The spool stays where it is: the next look, the next hook event, or the next start replays it.
        deps.logger.error({ err, dir: paths.dir }, 'hook spool replay failed at start-up');
      }
      scheduleDrain();
      return report;
    },

    /** No more looks at the spool; resolves once a replay under way has finished. */
    async stop(): Promise<void> {
      stopped = true;
      deps.clock.clearTimeout(drainTimer);
      await draining?.catch(() => undefined);
    },
  };
}

export type HookSpool = ReturnType<typeof createHookSpool>;
