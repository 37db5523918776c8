// Group commit: exactly one transaction in flight, the next batch filling behind it.
// Callers submit row writes and get a promise that settles when their rows are committed
// (or the transaction failed). Rows of the same table and shape share one multi-row
// statement, so a batch of N events costs a handful of calls into sqlite3, not N.
import type { Database, SqlValue } from './database.js';

export type RowValues = Record<string, SqlValue>;

export type WriteOp =
  /** Insert or replace by key; within one batch the last write of a key wins. */
  | { kind: 'upsert'; table: string; key: readonly string[]; row: RowValues }
  /** Plain insert (optionally OR IGNORE); every row is kept. */
  | { kind: 'insert'; table: string; row: RowValues; orIgnore?: boolean }
  /** Any other statement; runs after the row writes of its batch, in submission order. */
  | { kind: 'sql'; sql: string; params?: readonly SqlValue[] };

export interface Writer {
  /** Resolves once every op is committed; rejects if their transaction failed. */
  submit(ops: readonly WriteOp[]): Promise<void>;
  /** Resolves when everything submitted so far has settled. */
  flush(): Promise<void>;
  /** Flushes, then refuses new work. */
  close(): Promise<void>;
  stats(): WriterStats;
}

export interface WriterStats {
  transactions: number;
  rows: number;
  failures: number;
  largestBatch: number;
  lastError: string | null;
  /** False from a failed transaction until the next one commits. */
  healthy: boolean;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Batch {
  ops: WriteOp[];
  waiters: Waiter[];
}

export class WriterClosedError extends Error {
  constructor() {
    super('the database writer is closed');
    this.name = 'WriterClosedError';
  }
}

/** Highest number of bound parameters per statement (SQLite's limit is 32766). */
const MAX_PARAMS = 30_000;

function quoteIdent(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`bad SQL identifier: ${name}`);
  return name;
}

interface Group {
  head: string;
  tail: string;
  columns: string[];
  rows: RowValues[];
  keyed: Map<string, number> | null;
  keyColumns: readonly string[];
}

/** Turns a batch's ops into as few statements as possible, preserving first-seen group order. */
export function planStatements(ops: readonly WriteOp[]): { sql: string; params: SqlValue[] }[] {
  const groups = new Map<string, Group>();
  const raw: { sql: string; params: SqlValue[] }[] = [];
  for (const op of ops) {
    if (op.kind === 'sql') {
      raw.push({ sql: op.sql, params: [...(op.params ?? [])] });
      continue;
    }
    const columns = Object.keys(op.row);
    const sig = `${op.kind}|${op.table}|${op.kind === 'insert' && op.orIgnore ? 'ignore' : ''}|${columns.join(',')}`;
    let g = groups.get(sig);
    if (!g) {
      const cols = columns.map(quoteIdent).join(', ');
      const table = quoteIdent(op.table);
      if (op.kind === 'upsert') {
        const keys = op.key.map(quoteIdent);
        const updates = columns.filter((c) => !op.key.includes(c)).map((c) => `${quoteIdent(c)} = excluded.${quoteIdent(c)}`);
        g = {
          head: `INSERT INTO ${table} (${cols}) VALUES `,
          tail: updates.length > 0 ? ` ON CONFLICT(${keys.join(', ')}) DO UPDATE SET ${updates.join(', ')}` : ` ON CONFLICT(${keys.join(', ')}) DO NOTHING`,
          columns,
          rows: [],
          keyed: new Map(),
          keyColumns: op.key,
        };
      } else {
        g = { head: `INSERT${op.orIgnore ? ' OR IGNORE' : ''} INTO ${table} (${cols}) VALUES `, tail: '', columns, rows: [], keyed: null, keyColumns: [] };
      }
      groups.set(sig, g);
    }
    if (g.keyed) {
      const k = JSON.stringify(g.keyColumns.map((c) => op.row[c] ?? null));
      const at = g.keyed.get(k);
      if (at === undefined) {
        g.keyed.set(k, g.rows.length);
        g.rows.push(op.row);
      } else g.rows[at] = op.row;
    } else g.rows.push(op.row);
  }

  const out: { sql: string; params: SqlValue[] }[] = [];
  for (const g of groups.values()) {
    const per = Math.max(1, Math.floor(MAX_PARAMS / g.columns.length));
    const tuple = `(${g.columns.map(() => '?').join(', ')})`;
    for (let i = 0; i < g.rows.length; i += per) {
      const chunk = g.rows.slice(i, i + per);
      const params: SqlValue[] = [];
      for (const row of chunk) for (const c of g.columns) params.push(row[c] ?? null);
      out.push({ sql: g.head + new Array(chunk.length).fill(tuple).join(', ') + g.tail, params });
    }
  }
  return out.concat(raw);
}

export function createWriter(db: Database): Writer {
  let pending: Batch | null = null;
  let inFlight: Promise<void> | null = null;
  let closed = false;
  const stats: WriterStats = { transactions: 0, rows: 0, failures: 0, largestBatch: 0, lastError: null, healthy: true };

  async function commit(batch: Batch): Promise<void> {
    const statements = planStatements(batch.ops);
    await db.exec('BEGIN IMMEDIATE');
    try {
      for (const s of statements) await db.run(s.sql, s.params);
      await db.exec('COMMIT');
    } catch (err) {
      await db.exec('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  function startNext(): void {
    if (inFlight || !pending) return;
    const batch = pending;
    pending = null;
    inFlight = commit(batch).then(
      () => {
        stats.transactions += 1;
        stats.rows += batch.ops.length;
        stats.largestBatch = Math.max(stats.largestBatch, batch.ops.length);
        stats.healthy = true;
        for (const w of batch.waiters) w.resolve();
      },
      (err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        stats.failures += 1;
        stats.lastError = error.message;
        stats.healthy = false;
        // What filled up behind a failed batch may build on its state: fail it too.
        const dependents = pending;
        pending = null;
        for (const w of batch.waiters) w.reject(error);
        if (dependents) for (const w of dependents.waiters) w.reject(error);
      },
    );
    void inFlight.finally(() => {
      inFlight = null;
      startNext();
    });
  }

  function submit(ops: readonly WriteOp[]): Promise<void> {
    if (closed) return Promise.reject(new WriterClosedError());
    if (ops.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      if (!pending) {
        pending = { ops: [], waiters: [] };
        // Let everything submitted in this tick join the batch before it starts.
        queueMicrotask(startNext);
      }
      for (const op of ops) pending.ops.push(op);
      pending.waiters.push({ resolve, reject });
    });
  }

  async function flush(): Promise<void> {
    while (inFlight || pending) {
      if (!inFlight) startNext();
      await inFlight?.catch(() => undefined);
      await Promise.resolve();
    }
  }

  return {
    submit,
    flush,
    async close() {
      await flush();
      closed = true;
    },
    stats: () => ({ ...stats }),
  };
}
