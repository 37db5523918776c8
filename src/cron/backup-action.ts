// The `backup` action: a consistent copy of the database into a folder (token-api backup's
// code), named token-api-YYYYMMDD-HHMMSS.db after the injected clock, then only the newest
// `keep` copies of that name pattern are left there. Other files in the folder are never touched.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { backupDatabase, backupTarget, BackupError } from '../db/backup.js';

const COPY = /^token-api-\d{8}-\d{6}(?:-\d+)?\.db$/;

export interface BackupSummary {
  target: string;
  bytes: number;
  /** Older copies deleted to keep `keep`. */
  deleted: string[];
}

export async function backupInto(databaseFile: string, dir: string, keep: number, now: Date): Promise<BackupSummary> {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new BackupError(`cannot create the backup folder ${dir}: ${(err as Error).message}`);
  }
  const dated = backupTarget(dir, now);
  let target = dated;
  for (let n = 2; existsSync(target); n++) target = dated.replace(/\.db$/, `-${n}.db`);
  const r = await backupDatabase(databaseFile, target, { now: () => now });
  // Copies sort by their names' times; the suffixed ones after the plain one of the same second.
  const copies = readdirSync(dir).filter((f) => COPY.test(f)).sort((a, b) => (a.replace(/\.db$/, '') < b.replace(/\.db$/, '') ? 1 : -1));
  const deleted: string[] = [];
  for (const f of copies.slice(keep)) {
    rmSync(join(dir, f), { force: true });
    deleted.push(join(dir, f));
  }
  return { target: r.target, bytes: r.bytes, deleted };
}
