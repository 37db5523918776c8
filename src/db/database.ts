// The one SQLite connection of the process, with a promise API over sqlite3.
// WAL journal, a busy timeout, and the configured `synchronous` level; transactions are
// explicit (`BEGIN IMMEDIATE` / `COMMIT`) because sqlite3's serialize() is not one.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import sqlite3 from 'sqlite3';

export type SqlValue = string | number | bigint | null | Buffer;
export type Row = Record<string, SqlValue>;

export interface Database {
  readonly file: string;
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number; lastID: number }>;
  all<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  synchronous?: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA';
  busyTimeoutMs?: number;
  readOnly?: boolean;
}

export class DatabaseError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'DatabaseError';
  }
}

/** What to do about the errors a person can act on. */
const HINTS: Record<string, string> = {
  SQLITE_BUSY: 'another process holds a lock on it (another token-api on this data directory, or a sqlite3 shell with a transaction open): stop it, or choose another data directory',
  SQLITE_NOTADB: 'it is not a token-api database, or it is damaged: move it away (token-api starts a new one) or restore a backup',
  SQLITE_CORRUPT: 'it is damaged: move it away (token-api starts a new one) or restore a backup',
  SQLITE_READONLY: 'token-api must be able to write to it and to its directory',
  SQLITE_CANTOPEN: 'token-api must be able to create and write files in its directory',
  SQLITE_FULL: 'the disk is full',
};

function withHint(message: string, code: string | undefined): string {
  const hint = code ? HINTS[code] : undefined;
  return hint ? `${message}; ${hint}` : message;
}

function openRaw(file: string, mode: number): Promise<sqlite3.Database> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, mode, (err) => (err ? reject(err) : resolve(db)));
  });
}

export async function openDatabase(file: string, options: OpenOptions = {}): Promise<Database> {
  const readOnly = options.readOnly ?? false;
  if (!readOnly && file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const mode = readOnly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
  let raw: sqlite3.Database;
  try {
    raw = await openRaw(file, mode);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new DatabaseError(withHint(`cannot open database ${file}: ${e.message}`, e.code), e.code);
  }

  const db: Database = {
    file,
    run: (sql, params = []) =>
      new Promise((resolve, reject) => {
        raw.run(sql, params as SqlValue[], function (this: sqlite3.RunResult, err: Error | null) {
          if (err) reject(err);
          else resolve({ changes: this.changes, lastID: this.lastID });
        });
      }),
    all: <T>(sql: string, params: readonly SqlValue[] = []) =>
      new Promise<T[]>((resolve, reject) => {
        raw.all(sql, params as SqlValue[], (err: Error | null, rows: T[]) => (err ? reject(err) : resolve(rows)));
      }),
    get: <T>(sql: string, params: readonly SqlValue[] = []) =>
      new Promise<T | undefined>((resolve, reject) => {
        raw.get(sql, params as SqlValue[], (err: Error | null, row: T | undefined) => (err ? reject(err) : resolve(row)));
      }),
    exec: (sql) => new Promise((resolve, reject) => raw.exec(sql, (err) => (err ? reject(err) : resolve()))),
    close: () => new Promise((resolve, reject) => raw.close((err) => (err ? reject(err) : resolve()))),
  };

  try {
    raw.configure('busyTimeout', options.busyTimeoutMs ?? 5000);
    if (!readOnly) {
      await db.exec('PRAGMA journal_mode = WAL');
      await db.exec(`PRAGMA synchronous = ${options.synchronous ?? 'NORMAL'}`);
      await db.exec('PRAGMA foreign_keys = ON');
    }
  } catch (err) {
    await db.close().catch(() => undefined);
    const e = err as NodeJS.ErrnoException;
    throw new DatabaseError(withHint(`cannot prepare database ${file}: ${e.message}`, e.code), e.code);
  }
  return db;
}

/** Resolves when the database answers a query (GET /health asks it); rejects with why not. */
export async function ping(db: Database): Promise<void> {
  await db.get('SELECT 1 AS ok');
}
