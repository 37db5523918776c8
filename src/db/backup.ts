// A consistent copy of the database while the server runs: SQLite's online backup API from a
// read-only connection of this process (one step, under one read transaction, so the copy is
// one committed state), into a temporary file that is checked (integrity_check), made a
// self-contained file (journal_mode DELETE), and renamed into place.
import { chmodSync, existsSync, mkdirSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import sqlite3 from 'sqlite3';

export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

export interface BackupResult {
  source: string;
  target: string;
  bytes: number;
  pages: number;
  ms: number;
  /** The copy's schema version (schema_migrations). */
  schemaVersion: number | null;
}

export interface BackupOptions {
  /** Replace an existing file at the target. */
  force?: boolean;
  /** How long to keep retrying while the database is busy (default 30 s). */
  busyTimeoutMs?: number;
  now?: () => Date;
}

/** The sqlite3 Backup handle (the package's type declarations leave it out). */
interface SqliteBackup {
  step(pages: number, callback: (err: Error | null) => void): void;
  finish(callback?: (err: Error | null) => void): void;
  readonly completed: boolean;
  readonly failed: boolean;
  readonly pageCount: number;
}

function open(file: string, mode: number): Promise<sqlite3.Database> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, mode, (err) => (err ? reject(err) : resolve(db)));
  });
}

function close(db: sqlite3.Database): Promise<void> {
  return new Promise((resolve) => db.close(() => resolve()));
}

function all<T>(db: sqlite3.Database, sql: string): Promise<T[]> {
  return new Promise((resolve, reject) => db.all(sql, (err: Error | null, rows: T[]) => (err ? reject(err) : resolve(rows))));
}

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Where the copy goes: PATH itself, or a dated file inside PATH when it is a directory. */
export function backupTarget(path: string, now: Date): string {
  const target = resolve(path);
  if (existsSync(target) && statSync(target).isDirectory()) return join(target, `token-api-${stamp(now)}.db`);
  return target;
}

/** Why a directory for the copy cannot be made, in a sentence (a file in the way reads as EEXIST/ENOTDIR). */
function mkdirProblem(dir: string, err: NodeJS.ErrnoException): string {
  if (err.code === 'EEXIST' || err.code === 'ENOTDIR') return `cannot put the copy in ${dir}: a part of that path is a file, not a directory`;
  return `cannot create the directory ${dir} for the copy: ${err.message}`;
}

async function copyPages(source: sqlite3.Database, tmp: string, target: string, busyTimeoutMs: number): Promise<number> {
  // Wait for the backup to open its destination before stepping: a failed open reaches the
  // callback here (without one it is an 'error' event nobody listens to), and steps queued
  // before a failed open are dropped without their callbacks ever being called.
  let backup!: SqliteBackup;
  const opened = await new Promise<Error | null>((resolve) => {
    backup = (source as unknown as { backup(file: string, callback: (err: Error | null) => void): SqliteBackup }).backup(tmp, (err) => resolve(err ?? null));
  });
  if (opened) throw new BackupError(`cannot write the copy ${target}: ${opened.message} (is ${dirname(target)} writable?)`);
  const deadline = Date.now() + busyTimeoutMs;
  try {
    for (;;) {
      // All pages in one step: one read transaction, so the copy is a single committed state.
      const err = await new Promise<Error | null>((resolve) => backup.step(-1, resolve));
      if (backup.completed) return backup.pageCount;
      if (backup.failed || Date.now() > deadline) throw new BackupError(`the online backup failed: ${err?.message ?? 'the database stayed busy'}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await new Promise<void>((resolve) => backup.finish(() => resolve()));
  }
}

/** Copies the database at `sourceFile` to `path`; throws BackupError with a readable message. */
export async function backupDatabase(sourceFile: string, path: string, options: BackupOptions = {}): Promise<BackupResult> {
  const started = Date.now();
  if (!existsSync(sourceFile)) throw new BackupError(`there is no database at ${sourceFile} (has token-api run with this data directory?)`);
  const target = backupTarget(path, options.now?.() ?? new Date());
  if (existsSync(target)) {
    if (statSync(target).isDirectory()) throw new BackupError(`${target} is a directory`);
    if (realpathSync(target) === realpathSync(sourceFile)) throw new BackupError(`${target} is the database itself; choose another path`);
    if (!options.force) throw new BackupError(`${target} already exists; choose another path, or --force to replace it`);
  }
  try {
    mkdirSync(dirname(target), { recursive: true });
  } catch (err) {
    throw new BackupError(mkdirProblem(dirname(target), err as NodeJS.ErrnoException));
  }
  const tmp = `${target}.partial-${process.pid}`;
  const cleanup = () => {
    for (const f of [tmp, `${tmp}-journal`, `${tmp}-wal`, `${tmp}-shm`]) {
      try {
        rmSync(f, { force: true });
      } catch {
        // left for the error that follows (or the next run) to report
      }
    }
  };
  cleanup();
  let source: sqlite3.Database;
  try {
    source = await open(sourceFile, sqlite3.OPEN_READONLY);
  } catch (err) {
    throw new BackupError(`cannot open ${sourceFile} to read it: ${(err as Error).message}`);
  }
  let pages: number;
  try {
    source.configure('busyTimeout', 5000);
    pages = await copyPages(source, tmp, target, options.busyTimeoutMs ?? 30_000);
  } catch (err) {
    cleanup();
    throw err instanceof BackupError ? err : new BackupError(`the online backup failed: ${(err as Error).message}`);
  } finally {
    await close(source);
  }

  let schemaVersion: number | null = null;
  try {
    const copy = await open(tmp, sqlite3.OPEN_READWRITE);
    try {
      // A single self-contained file: no -wal beside it.
      await all(copy, 'PRAGMA journal_mode = DELETE');
      const check = await all<{ integrity_check: string }>(copy, 'PRAGMA integrity_check');
      const verdict = check.map((r) => r.integrity_check);
      if (verdict.length !== 1 || verdict[0] !== 'ok') throw new BackupError(`the copy failed its integrity check: ${verdict.slice(0, 5).join('; ')}`);
      const version = await all<{ v: number | null }>(copy, 'SELECT MAX(version) AS v FROM schema_migrations').catch(() => []);
      schemaVersion = version[0]?.v ?? null;
    } finally {
      await close(copy);
    }
    chmodSync(tmp, 0o600);
    renameSync(tmp, target);
  } catch (err) {
    cleanup();
    throw err instanceof BackupError ? err : new BackupError(`cannot write the copy ${target}: ${(err as Error).message}`);
  }
  return { source: sourceFile, target, bytes: statSync(target).size, pages, ms: Date.now() - started, schemaVersion };
}
