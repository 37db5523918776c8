// The Codex watcher: tails `$CODEX_HOME/sessions/**/rollout-*.jsonl` and feeds what the
// lines say to instances of agent type `codex`, through `instances.handleHook` like a hook.
// How far each file was read is committed in the same transaction as the events its lines
// made, so a restart resumes exactly where the last commit left off: nothing twice, nothing
// skipped. A working session whose file is untouched for `idleMs` goes idle.
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import { codexCursorOp, codexCursors } from '../db/queries/codex.js';
import type { WriteOp } from '../db/writer.js';
import type { InstanceContext } from '../machines/instance-context.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { lineTime, mapRolloutLine, sessionIdFromFileName, type RolloutLine } from './rollout.js';
import type { HookInput } from '../actors/instances/hook-events.js';
import type { Hub } from '../actors/runtime/root-machines.js';
import type { HookOutcome, Instances } from '../actors/instances/instances.js';

/** The most read from one file in one scan; a line longer than this is skipped (and logged). */
const MAX_CHUNK = 8 * 1024 * 1024;
const ROLLOUT = /^rollout-.*\.jsonl$/;

export interface CodexWatcherDeps {
  /** CODEX_HOME (rollouts are in its `sessions` folder). */
  home: string;
  instances: Instances;
  hub: Hub;
  db: Database;
  clock: Clock;
  logger: Logger;
  /** A working session whose rollout is untouched this long goes idle. */
  idleMs: number;
  /** A session whose rollout is untouched this long is stopped (reason idle, nobody told); it comes back when the rollout grows. */
  stopAfterMs?: number;
  pollMs: number;
  /** Files first seen untouched for longer than this are not replayed from their start. */
  historyMs: number;
  /** Rescan the whole sessions tree every this many polls (finds resumed old sessions). */
  fullScanEvery?: number;
  /** Wall-clock time, to compare with file modification times. */
  wallNow?: () => number;
}

interface Tracked {
  path: string;
  sessionId: string | null;
  cwd: string | null;
  /** Offset committed to `codex_files`. */
  committed: number;
  /** Offset up to which lines were handed over (ahead of `committed` while a commit is pending). */
  readTo: number;
  mtimeMs: number;
  calls: Map<string, string>;
  /** Inside a line longer than MAX_CHUNK, which is being skipped. */
  discarding: boolean;
  /** The file's first line (session_meta) was read for the session's id and cwd. */
  probed: boolean;
}

export interface ScanReport {
  files: number;
  lines: number;
  events: number;
  idled: number;
  /** Instances stopped because their rollout was quiet for stopAfterMs. */
  stopped: number;
  invalid: number;
}

interface Chunk {
  t: Tracked;
  lines: string[];
  readTo: number;
  discarded: boolean;
}

export function createCodexWatcher(deps: CodexWatcherDeps) {
  const sessionsDir = join(deps.home, 'sessions');
  const wallNow = deps.wallNow ?? Date.now;
  const fullScanEvery = deps.fullScanEvery ?? 30;
  const tracked = new Map<string, Tracked>();
  let polls = 0;
  let timer: TimerHandle | undefined;
  let stopped = false;
  let queue: Promise<unknown> = Promise.resolve();

  function offsetOp(t: Tracked, offset: number): WriteOp {
    return codexCursorOp({ path: t.path, session_id: t.sessionId, offset, updated_at: new Date(deps.clock.now()).toISOString() });
  }

  async function listAll(): Promise<string[]> {
    try {
      const names = await readdir(sessionsDir, { recursive: true });
      return names.filter((n) => ROLLOUT.test(basename(n))).map((n) => join(sessionsDir, n));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** Today's and yesterday's folders (local and UTC dates), and the files of live Codex instances. */
  async function listRecent(): Promise<string[]> {
    const dirs = new Set<string>();
    for (const back of [0, 1]) {
      const d = new Date(wallNow() - back * 86_400_000);
      const p2 = (n: number) => String(n).padStart(2, '0');
      dirs.add(join(sessionsDir, String(d.getFullYear()), p2(d.getMonth() + 1), p2(d.getDate())));
      dirs.add(join(sessionsDir, String(d.getUTCFullYear()), p2(d.getUTCMonth() + 1), p2(d.getUTCDate())));
    }
    const out = new Set<string>();
    for (const dir of dirs) {
      try {
        for (const n of await readdir(dir)) if (ROLLOUT.test(n)) out.add(join(dir, n));
      } catch {
        // No session that day.
      }
    }
    for (const file of liveFiles().keys()) out.add(file);
    return [...out];
  }

  /** Rollout path -> instance id, for live Codex instances read from a tracked file. */
  function liveFiles(): Map<string, { id: string; ctx: InstanceContext; state: string }> {
    const out = new Map<string, { id: string; ctx: InstanceContext; state: string }>();
    for (const i of deps.instances.live()) {
      if (i.ctx.agentType === 'codex' && i.ctx.transcriptPath && tracked.has(i.ctx.transcriptPath)) out.set(i.ctx.transcriptPath, i);
    }
    return out;
  }

  async function readFirstLine(path: string): Promise<RolloutLine | null> {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(64 * 1024);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      const nl = buf.subarray(0, bytesRead).indexOf(0x0a);
      return JSON.parse(buf.subarray(0, nl < 0 ? bytesRead : nl).toString('utf8')) as RolloutLine;
    } catch {
      return null;
    } finally {
      await fh.close();
    }
  }

  async function readChunk(t: Tracked, size: number): Promise<Chunk | null> {
    const len = Math.min(size - t.readTo, MAX_CHUNK);
    if (len <= 0) return null;
    const fh = await open(t.path, 'r');
    let buf: Buffer;
    try {
      buf = Buffer.alloc(len);
      const { bytesRead } = await fh.read(buf, 0, len, t.readTo);
      buf = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
    const nl = buf.lastIndexOf(0x0a);
    if (nl < 0) {
      // A line still being written, or one longer than we read at once.
      if (buf.length < MAX_CHUNK) return null;
      deps.logger.warn({ file: t.path, offset: t.readTo }, 'Codex rollout line longer than the read limit; skipped');
      return { t, lines: [], readTo: t.readTo + buf.length, discarded: true };
    }
    const lines = buf.subarray(0, nl).toString('utf8').split('\n');
    if (t.discarding) lines.shift();
    return { t, lines, readTo: t.readTo + nl + 1, discarded: false };
  }

  function input(t: Tracked, sessionId: string, hookEventName: string, raw: Record<string, unknown>, rawJson?: string): HookInput {
    return { hookEventName, sessionId, agentType: 'codex', cwd: t.cwd ?? undefined, transcriptPath: t.path, raw, rawJson };
  }

  async function scanOnce(mode: 'full' | 'recent' | string[]): Promise<ScanReport> {
    const report: ScanReport = { files: 0, lines: 0, events: 0, idled: 0, stopped: 0, invalid: 0 };
    const paths = mode === 'full' ? await listAll() : mode === 'recent' ? await listRecent() : mode;
    const ops: WriteOp[] = [];
    const chunks: Chunk[] = [];
    const statted = new Set<Tracked>();
    const now = wallNow();

    for (const path of paths) {
      let st;
      try {
        st = await stat(path);
      } catch {
        continue;
      }
      report.files += 1;
      let t = tracked.get(path);
      if (!t) {
        const old = now - st.mtimeMs > deps.historyMs;
        t = { path, sessionId: sessionIdFromFileName(basename(path)), cwd: null, committed: 0, readTo: 0, mtimeMs: st.mtimeMs, calls: new Map(), discarding: false, probed: false };
        tracked.set(path, t);
        if (old) {
          // History from before token-api watched: remembered as read, not replayed.
          t.committed = t.readTo = st.size;
          ops.push(offsetOp(t, st.size));
        }
      }
      t.mtimeMs = st.mtimeMs;
      statted.add(t);
      if (st.size < t.readTo) {
        deps.logger.warn({ file: path }, 'Codex rollout shrank (replaced?); reading it again from the start');
        t.readTo = t.committed = 0;
        t.calls.clear();
      }
      if (t.readTo > 0 && !t.probed && st.size > t.readTo) {
        // Reading from the middle (after a restart, or a resumed old session): the first line says whose it is.
        t.probed = true;
        const first = await readFirstLine(path);
        const step = first ? mapRolloutLine(first, new Map()) : null;
        if (step?.session) {
          t.sessionId = step.session.id;
          t.cwd = step.session.cwd;
        }
      }
      const chunk = await readChunk(t, st.size);
      if (chunk) chunks.push(chunk);
    }

    // Idle: working sessions whose rollout has not been touched for idleMs; stopped: any whose
    // rollout has been quiet for stopAfterMs (a Codex session says nothing when it ends).
    const idle: { t: Tracked; sessionId: string }[] = [];
    const quiet: { t: Tracked; id: string }[] = [];
    for (const [file, inst] of liveFiles()) {
      const t = tracked.get(file)!;
      if (!statted.has(t) || chunks.some((c) => c.t === t && c.lines.length > 0)) continue;
      if (deps.stopAfterMs !== undefined && now - t.mtimeMs >= deps.stopAfterMs) quiet.push({ t, id: inst.id });
      else if ((inst.state === 'working' || inst.state === 'awaiting') && now - t.mtimeMs >= deps.idleMs) idle.push({ t, sessionId: inst.ctx.sessionId });
    }

    // One synchronous pass: events keep their order and share one transaction with the offsets.
    const pending: Promise<HookOutcome | unknown>[] = [];
    const clockNow = deps.clock.now();
    for (const c of chunks) {
      const t = c.t;
      for (const text of c.lines) {
        if (!text.trim()) continue;
        report.lines += 1;
        let line: RolloutLine;
        try {
          line = JSON.parse(text) as RolloutLine;
        } catch {
          report.invalid += 1;
          continue;
        }
        if (line === null || typeof line !== 'object') {
          report.invalid += 1;
          continue;
        }
        const step = mapRolloutLine(line, t.calls);
        if (!step) continue;
        if (step.session) {
          t.sessionId = step.session.id;
          t.cwd = step.session.cwd ?? t.cwd;
        }
        if (step.cwd) t.cwd = step.cwd;
        const sessionId = t.sessionId ?? `rollout:${basename(t.path)}`;
        const at = Math.min(lineTime(line) ?? clockNow, clockNow);
        const meta = { sessionId, transcriptPath: t.path, ...(t.cwd ? { cwd: t.cwd } : {}) };
        if (step.startsTurn) {
          const id = deps.instances.instanceOfSession(sessionId);
          if (id && !deps.instances.isLive(id)) {
            // A stopped session taken up again (`codex resume`): it comes back first.
            pending.push(
              deps.instances.handleHook(input(t, sessionId, 'SessionStart', { resumed_from: t.path }), false, {
                at,
                eventType: 'codex.session_resumed',
                event: { type: 'hook.session_start', source: 'resume', at, ...meta },
              }),
            );
          }
        }
        const raw = line as Record<string, unknown>;
        pending.push(
          deps.instances.handleHook(input(t, sessionId, step.hookEventName, raw, text), false, { at, eventType: step.eventType, event: step.event(at, meta) }),
        );
        report.events += 1;
      }
      t.readTo = c.readTo;
      t.discarding = c.discarded;
      ops.push(offsetOp(t, c.readTo));
    }
    for (const { t, sessionId } of idle) {
      const reason = `rollout untouched for ${Math.round(deps.idleMs / 60_000)} min`;
      pending.push(
        deps.instances.handleHook(input(t, sessionId, 'CodexIdle', { reason, path: t.path }), false, {
          eventType: 'codex.idle',
          event: { type: 'instance.idle', reason, at: clockNow },
        }),
      );
      report.idled += 1;
    }
    for (const { t, id } of quiet) {
      deps.logger.info({ instance: id, path: t.path }, 'Codex rollout quiet; instance stopped (idle)');
      pending.push(deps.instances.send(id, { type: 'instance.deregister', reason: 'idle', at: clockNow }));
      report.stopped += 1;
    }
    if (ops.length > 0) pending.push(deps.hub.record({ ops }));

    const results = await Promise.allSettled(pending);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      for (const c of chunks) c.t.readTo = c.t.committed;
      deps.logger.error({ err: failed.reason }, 'Codex rollout events could not be committed; they are read again on the next scan');
      throw failed.reason;
    }
    for (const c of chunks) c.t.committed = c.readTo;
    return report;
  }

  /** Scans run one after another, never overlapping. */
  function enqueue(mode: 'full' | 'recent' | string[]): Promise<ScanReport> {
    const run = queue.then(() => scanOnce(mode));
    queue = run.catch(() => undefined);
    return run;
  }

  function loop(): void {
    if (stopped) return;
    timer = deps.clock.setTimeout(() => {
      polls += 1;
      enqueue(polls % fullScanEvery === 0 ? 'full' : 'recent')
        .catch((err) => deps.logger.error({ err }, 'Codex rollout scan failed'))
        .finally(loop);
    }, deps.pollMs);
  }

  return {
    /** Loads the stored offsets, scans every rollout once, then polls. */
    async start(): Promise<ScanReport> {
      for (const r of await codexCursors(deps.db)) {
        tracked.set(r.path, {
          path: r.path,
          sessionId: r.session_id,
          cwd: null,
          committed: r.offset,
          readTo: r.offset,
          mtimeMs: 0,
          calls: new Map(),
          discarding: false,
          probed: false,
        });
      }
      let report: ScanReport = { files: 0, lines: 0, events: 0, idled: 0, stopped: 0, invalid: 0 };
      try {
        report = await enqueue('full');
      } catch (err) {
        // An unreadable CODEX_HOME must not stop the server; the next polls try again.
        deps.logger.error({ err, home: deps.home }, 'first Codex rollout scan failed');
      }
      loop();
      return report;
    },

    /** One scan now: every rollout (`full`), the recent ones, or the files given. */
    scan: (mode: 'full' | 'recent' | string[] = 'recent') => enqueue(mode),

    /** The rollout file a session is read from, if the watcher knows it. */
    fileOfSession(sessionId: string): string | null {
      for (const t of tracked.values()) if (t.sessionId === sessionId) return t.path;
      return null;
    },

    /** Waits for the scan in progress, if any. */
    idle: () => queue,

    stop(): void {
      stopped = true;
      deps.clock.clearTimeout(timer);
    },
  };
}

export type CodexWatcher = ReturnType<typeof createCodexWatcher>;
