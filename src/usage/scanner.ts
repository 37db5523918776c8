// Reads transcripts into the store: a full scan walks every root and reads each file that
// changed since its cursor; readFile reads one file (the live path, after a Stop). Records
// and the cursors that cover them are committed together, in batches, so memory stays flat
// whatever the corpus size and a crash never loses or repeats a record. Reads of one file
// never overlap: a second read waits for the first and then takes what is left.
import type { WriteOp } from '../db/writer.js';
import type { Attribution, Attributor } from './attribution.js';
import { CLAUDE_MARKERS, claudeProjectOf, parseClaudeBytes } from './claude-parser.js';
import { CODEX_MARKERS, codexSessionFromPath, newCodexState, parseCodexLine, type CodexState } from './codex-parser.js';
import { discoverTranscripts, sourceOfPath, type TranscriptRoots } from './discover.js';
import { readNewLines, type FileCursor } from './line-reader.js';
import { cursorOp, type StoredCursor, type UsageStore } from './store.js';
import type { AttributedRecord, StoredRecord, UsageSource } from './types.js';

export interface ScanProgress {
  /** No file had been read before this scan. */
  first: boolean;
  filesTotal: number;
  filesDone: number;
  bytesTotal: number;
  bytesDone: number;
}

export interface ScanReport {
  /** Transcript files found under the roots. */
  files: number;
  /** Files that had something new and were read. */
  filesRead: number;
  bytes: number;
  /** Records stored now (not seen before). */
  records: number;
  /** Files read again from the start (truncated or replaced). */
  restarted: number;
  /** No file had been read before this scan. */
  first: boolean;
  aborted: boolean;
}

export interface ScannerDeps {
  store: UsageStore;
  roots: TranscriptRoots;
  now: () => number;
  /** Records per transaction. */
  batchRecords?: number;
  /** Bytes read at a time. */
  chunkBytes?: number;
  /** Hears every batch of newly stored records, after commit. */
  onRecords?: (records: StoredRecord[]) => void;
}

interface Pending {
  records: AttributedRecord[];
  cursors: Map<string, StoredCursor>;
  releases: (() => void)[];
  stored: number;
  /** When set, every newly stored record is kept here too. */
  collected?: StoredRecord[];
  /** The batch being committed. */
  inflight?: Promise<void>;
}

const MARKERS: Record<UsageSource, readonly Buffer[]> = { claude: CLAUDE_MARKERS, codex: CODEX_MARKERS };

/** Unchanged since last read: same size and time, and read to its end. */
function unchanged(prev: StoredCursor | undefined, size: number, mtimeMs: number): boolean {
  return prev !== undefined && prev.cursor.size === size && prev.cursor.mtimeMs === mtimeMs && prev.cursor.offset === size;
}

export function createScanner(deps: ScannerDeps) {
  const batchRecords = deps.batchRecords ?? 1000;
  let cursors: Map<string, StoredCursor> | null = null;
  const locks = new Map<string, Promise<void>>();
  const queued = new Map<string, Promise<StoredRecord[]>>();

  async function loaded(): Promise<Map<string, StoredCursor>> {
    cursors ??= await deps.store.loadCursors();
    return cursors;
  }

  async function lock(path: string): Promise<() => void> {
    const prev = locks.get(path) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    locks.set(path, tail);
    await prev;
    return () => {
      release();
      if (locks.get(path) === tail) locks.delete(path);
    };
  }

  /**
   * Hands what `p` collected to the store and returns at once with the previous batch's
   * promise: reading goes on while one batch commits, and waits when a second is ready.
   * Once a batch fails, every later batch of `p` fails with it unwritten: its cursors would
   * point past the failed batch's records, so committing them would lose those records for
   * good. The next read starts again from the last cursor that was committed.
   */
  function flush(p: Pending): Promise<void> {
    const prev = p.inflight ?? Promise.resolve();
    const releases = p.releases;
    const records = p.records;
    const done = p.cursors;
    p.records = [];
    p.cursors = new Map();
    p.releases = [];
    const job = prev.then(
      async () => {
        try {
          const ops: WriteOp[] = [];
          for (const [path, c] of done) ops.push(cursorOp(path, c, deps.now()));
          const fresh = await deps.store.ingest(records, ops);
          const map = await loaded();
          for (const [path, c] of done) map.set(path, c);
          p.stored += fresh.length;
          p.collected?.push(...fresh);
          if (fresh.length > 0) deps.onRecords?.(fresh);
        } finally {
          for (const r of releases) r();
        }
      },
      (err: unknown) => {
        for (const r of releases) r();
        throw err;
      },
    );
    job.catch(() => undefined);
    p.inflight = job;
    return prev;
  }

  /** Commits everything `p` still holds; rejects if any of its batches failed. */
  async function drain(p: Pending): Promise<void> {
    await flush(p);
    await p.inflight;
  }

  /** Reads one file into `p` (flushing it when it fills); holds the file's lock until its cursor is committed. */
  async function readInto(
    path: string,
    source: UsageSource,
    attribute: (sessionId: string | null) => Attribution,
    p: Pending,
    opts: { signal?: AbortSignal; onBytes?: (n: number) => void },
  ): Promise<{ bytes: number; restarted: boolean } | null> {
    const release = await lock(path);
    try {
      const prev = (await loaded()).get(path);
      let state: CodexState | null = source === 'codex' ? structuredClone(prev?.state ?? newCodexState()) : null;
      const project = source === 'claude' ? claudeProjectOf(path) : null;
      const fallbackSession = codexSessionFromPath(path);
      let start: Omit<FileCursor, 'offset'> = { size: 0, mtimeMs: 0, head: '' };
      let lastBytes = 0;
      const outcome = await readNewLines(path, prev?.cursor ?? null, {
        markers: MARKERS[source],
        signal: opts.signal,
        chunkBytes: deps.chunkBytes,
        onStart(info) {
          start = { size: info.size, mtimeMs: info.mtimeMs, head: info.head };
          if (info.restarted && source === 'codex') state = newCodexState();
        },
        onLine(buf, start, end) {
          const r = source === 'claude' ? parseClaudeBytes(buf, start, end, project) : parseCodexLine(buf.toString('utf8', start, end), state!, fallbackSession);
          if (r) {
            const a = attribute(r.sessionId);
            const rec = r as AttributedRecord;
            rec.deviceId = a.deviceId;
            rec.instanceId = a.instanceId;
            p.records.push(rec);
          }
        },
        async onChunk(consumed, bytesRead) {
          opts.onBytes?.(bytesRead - lastBytes);
          lastBytes = bytesRead;
          if (p.records.length >= batchRecords) {
            // Commit what this file gave so far, with a cursor at the last complete line.
            p.cursors.set(path, { source, cursor: { offset: consumed, ...start }, state: state ? structuredClone(state) : null });
            await flush(p);
          }
        },
      });
      if (!outcome) {
        p.cursors.delete(path);
        release();
        return null;
      }
      opts.onBytes?.(outcome.bytesRead - lastBytes);
      p.cursors.set(path, { source, cursor: outcome.cursor, state });
      p.releases.push(release);
      return { bytes: outcome.bytesRead, restarted: outcome.restarted };
    } catch (err) {
      p.cursors.delete(path);
      release();
      throw err;
    }
  }

  return {
    /** Reads everything new under the roots. */
    async scan(opts: { attributor: Attributor; onProgress?: (p: ScanProgress) => void; signal?: AbortSignal } = { attributor: () => ({ deviceId: 'local', instanceId: null }) }): Promise<ScanReport> {
      // Cursors as the database has them now: another process (`token-api usage` run while the
      // server runs) may have read further, and its lines are not read again.
      cursors = await deps.store.loadCursors();
      const map = cursors;
      const first = map.size === 0;
      const files = await discoverTranscripts(deps.roots);
      const todo = files.filter((f) => !unchanged(map.get(f.path), f.size, f.mtimeMs));
      const progress: ScanProgress = {
        first,
        filesTotal: todo.length,
        filesDone: 0,
        bytesTotal: todo.reduce((n, f) => n + Math.max(0, f.size - Math.min(map.get(f.path)?.cursor.offset ?? 0, f.size)), 0),
        bytesDone: 0,
      };
      const report: ScanReport = { files: files.length, filesRead: 0, bytes: 0, records: 0, restarted: 0, first, aborted: false };
      const p: Pending = { records: [], cursors: new Map(), releases: [], stored: 0 };
      opts.onProgress?.(progress);
      try {
        for (const f of todo) {
          if (opts.signal?.aborted) {
            report.aborted = true;
            break;
          }
          const r = await readInto(f.path, f.source, (sessionId) => opts.attributor(f.path, sessionId), p, {
            signal: opts.signal,
            onBytes: (n) => {
              progress.bytesDone += n;
              opts.onProgress?.(progress);
            },
          });
          progress.filesDone += 1;
          if (r) {
            report.filesRead += 1;
            report.bytes += r.bytes;
            if (r.restarted) report.restarted += 1;
          }
          if (p.records.length >= batchRecords || p.cursors.size >= 500) await flush(p);
        }
      } finally {
        await drain(p);
      }
      if (opts.signal?.aborted) report.aborted = true;
      opts.onProgress?.(progress);
      report.records = p.stored;
      return report;
    },

    /**
     * Reads what one transcript gained, attributing it as given. A transcript outside the
     * roots is not read (resolves with no records). Calls for a file whose read is already
     * waiting share that read.
     */
    readFile(path: string, attribution: Attribution): Promise<StoredRecord[]> {
      const source = sourceOfPath(deps.roots, path);
      if (!source) return Promise.resolve([]);
      const waiting = queued.get(path);
      if (waiting) return waiting;
      const run = (async () => {
        // Wait for a read in progress; from then on, a new call starts a read of its own.
        await (locks.get(path) ?? Promise.resolve());
        queued.delete(path);
        const p: Pending = { records: [], cursors: new Map(), releases: [], stored: 0, collected: [] };
        try {
          await readInto(path, source, () => attribution, p, {});
        } finally {
          await drain(p);
        }
        return p.collected ?? [];
      })();
      queued.set(path, run);
      run.catch(() => {
        if (queued.get(path) === run) queued.delete(path);
      });
      return run;
    },

    isTranscript: (path: string) => sourceOfPath(deps.roots, path) !== null,
  };
}

export type Scanner = ReturnType<typeof createScanner>;
