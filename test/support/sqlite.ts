// Reads rows straight from a token-api database file (while no server holds it), to check
// what was committed independently of the HTTP API.
import { join } from 'node:path';
import { openDatabase } from '../../src/db/database.js';

export async function readRows(home: string, sql: string, params: (string | number)[] = []): Promise<Record<string, unknown>[]> {
  const db = await openDatabase(join(home, 'token-api.db'), { readOnly: true });
  try {
    return await db.all(sql, params);
  } finally {
    await db.close();
  }
}
