// A token-api database file read (or broken) through a connection of the test's own, to check
// what was committed independently of the HTTP API: WAL lets it sit beside the server's.
import { join } from 'node:path';
import { openDatabase, type Database, type SqlValue } from '../../src/db/database.js';

/** Rows from the database of a data directory, read-only. */
export async function readRows(home: string, sql: string, params: (string | number)[] = []): Promise<Record<string, unknown>[]> {
  const db = await openDatabase(join(home, 'token-api.db'), { readOnly: true });
  try {
    return await db.all(sql, params);
  } finally {
    await db.close();
  }
}

/** Runs fn on a read-write connection of its own to a database file, closed afterwards. */
export async function withDatabase<T>(file: string, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(file);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** The database file of a running system, through a connection of the test's own per call. */
export function databaseOf(system: { config: { databaseFile: string } }) {
  const file = system.config.databaseFile;
  return {
    get: <T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]) => withDatabase(file, (db) => db.get<T>(sql, params)),
    all: <T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]) => withDatabase(file, (db) => db.all<T>(sql, params)),
    run: (sql: string, params?: readonly SqlValue[]) => withDatabase(file, (db) => db.run(sql, params)),
    exec: (sql: string) => withDatabase(file, (db) => db.exec(sql)),
  };
}
