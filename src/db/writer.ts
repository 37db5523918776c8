// Group commit: exactly one transaction in flight, the next batch filling behind it.
// Callers submit row writes and get a promise that settles when their rows are committed
// (or the transaction failed). Rows of the same table and shape share one multi-row
// statement, and the whole transaction goes to SQLite as one script (values as escaped
// literals), so a batch of N events costs one trip through sqlite3's thread pool, not N.
import type { Database, SqlValue } from './database.js';

export type RowValues = Record<string, SqlValue>;

export type WriteOp =
  /** Insert or replace by key; within one batch the last write of a key wins. */
  | { kind: 'upsert'; table: string; key: readonly string[]; row: RowValues }
  /** Plain insert (optionally OR IGNORE); every row is kept. */
  | { kind: 'insert'; table: string; row: RowValues; orIgnore?: boolean }
  /** Any other statement; runs after the row writes of its batch, in submission order. */
  | { kind: 'sql'; sql: string; params?: readonly SqlValue[] }
  /** Rows computed when the batch starts, not when submitted (an actor's latest snapshot). */
  | { kind: 'lazy'; build: () => readonly WriteOp[] };

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

/** Rows per multi-row statement (keeps each statement's text a reasonable size). */
const MAX_ROWS = 500;

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

/**
 * A value as an SQLite literal. Strings are quoted with '' escaping; a string holding a NUL
 * character (which would cut the script short) is written as hex and cast back to text.
 */
export function sqlLiteral(v: SqlValue | undefined): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'NULL';
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return `X'${v.toString('hex')}'`;
  if (v.includes('\0')) return `CAST(X'${Buffer.from(v, 'utf8').toString('hex')}' AS TEXT)`;
  return `'${v.includes("'") ? v.replaceAll("'", "''") : v}'`;
}

/** Replaces each `?` of a statement with its parameter (our own statements have no `?` in literals). */
export function inlineParams(sql: string, params: readonly SqlValue[]): string {
  let i = 0;
  const out = sql.replace(/\?/g, () => {
    if (i >= params.length) throw new Error(`too few parameters for: ${sql}`);
    return sqlLiteral(params[i++]);
  });
  if (i !== params.length) throw new Error(`too many parameters for: ${sql}`);
  return out;
}

function expand(ops: readonly WriteOp[], out: WriteOp[]): WriteOp[] {
  for (const op of ops) {
    if (op.kind === 'lazy') expand(op.build(), out);
    else out.push(op);
  }
  return out;
}

/**
 * Turns a batch's ops into as few statements as possible, preserving first-seen group order.
 * Each statement is handed to `emit` as a list of parts (joined once by the caller: the text of
 * a batch, snapshots included, is copied once rather than at every level of joining).
 */
function eachStatement(input: readonly WriteOp[], emit: (parts: string[]) => void): void {
  const ops = expand(input, []);
  const groups = new Map<string, Group>();
  const raw: string[] = [];
  for (const op of ops) {
    if (op.kind === 'lazy') continue;
    if (op.kind === 'sql') {
      raw.push(inlineParams(op.sql, op.params ?? []));
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

  for (const g of groups.values()) {
    for (let i = 0; i < g.rows.length; i += MAX_ROWS) {
      const parts: string[] = [g.head];
      const end = Math.min(g.rows.length, i + MAX_ROWS);
      for (let r = i; r < end; r++) {
        const row = g.rows[r]!;
        parts.push(r === i ? '(' : ', (');
        g.columns.forEach((c, n) => parts.push(n === 0 ? sqlLiteral(row[c]) : `, ${sqlLiteral(row[c])}`));
        parts.push(')');
      }
      parts.push(g.tail);
      emit(parts);
    }
  }
  for (const sql of raw) emit([sql]);
}

/** The statements of a batch, each as one string. */
export function planStatements(input: readonly WriteOp[]): string[] {
  const out: string[] = [];
  eachStatement(input, (parts) => out.push(parts.join('')));
  return out;
}

/** A batch as one transaction script, or null when it writes nothing. */
export function planScript(input: readonly WriteOp[]): string | null {
  const all: string[] = ['BEGIN IMMEDIATE;\n'];
  eachStatement(input, (parts) => {
    for (const p of parts) all.push(p);
    all.push(';\n');
  });
  if (all.length === 1) return null;
  all.push('COMMIT;');
  return all.join('');
}

export function createWriter(db: Database): Writer {
  let pending: Batch | null = null;
  let inFlight: Promise<void> | null = null;
  let closed = false;
  const stats: WriterStats = { transactions: 0, rows: 0, failures: 0, largestBatch: 0, lastError: null, healthy: true };

  async function commit(batch: Batch): Promise<void> {
    const script = planScript(batch.ops);
    if (script === null) return;
    try {
      // One trip: the script stops at the first failing statement, leaving the transaction open.
      await db.exec(script);
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
