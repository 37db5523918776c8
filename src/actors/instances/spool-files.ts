// The hook spool's files, as hooks/token-api-hook.sh writes them and token-api reads them: the
// spool (`hooks.ndjson`), the sequence counter (`seq`), batches named by the last sequence
// number they hold (`batch-s<20 digits>.ndjson`, so names sort in the order the hooks ran),
// and the two locks (directories holding their owner's pid): `hooks.lock` for appending and
// renaming, `upload.lock` for replaying batches, one replayer at a time.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A lock older than this was left by a process that died holding it (when its pid cannot tell). */
const STALE_LOCK_MS = 60_000;

export function spoolPaths(dir: string) {
  return {
    dir,
    active: join(dir, 'hooks.ndjson'),
    lock: join(dir, 'hooks.lock'),
    uploadLock: join(dir, 'upload.lock'),
    seq: join(dir, 'seq'),
    rejected: join(dir, 'rejected.ndjson'),
  };
}
export type SpoolPaths = ReturnType<typeof spoolPaths>;

/**
 * Batches waiting for a replay. Names sort in replay order: those of earlier versions
 * (`batch-<seconds>-<pid>`) first, then by sequence, a batch's pieces (`…-p00001`) before it.
 */
export const BATCH_FILE = /^batch-[A-Za-z0-9_-]+\.ndjson$/;

function ownerOf(lock: string): string {
  try {
    return readFileSync(join(lock, 'pid'), 'utf8').trim();
  } catch {
    return ''; // not written yet (its owner is between mkdir and the write), or released
  }
}

/** Whether the process holding a lock is gone: its pid is not running, or the lock is stale. */
function holderGone(lock: string, owner: string, wallNow: number): boolean {
  let age: number;
  try {
    age = wallNow - statSync(lock).mtimeMs;
  } catch {
    return true; // released meanwhile
  }
  const pid = Number(owner);
  if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
    try {
      process.kill(pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
    }
  }
  return age >= STALE_LOCK_MS;
}

/** Takes a lock directory without waiting: true when taken (release it with releaseLock). */
export function takeLock(lock: string, wallNow: number): boolean {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), `${process.pid}\n`);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = ownerOf(lock);
    if (!holderGone(lock, owner, wallNow)) return false;
    // Broken only if it is still the dead owner's (another may have taken it meanwhile).
    if (ownerOf(lock) === owner) rmSync(lock, { recursive: true, force: true });
  }
  return false;
}

export function releaseLock(lock: string): void {
  rmSync(lock, { recursive: true, force: true });
}

/** The last sequence number the spool handed out (the counter file), or null when it cannot be read. */
function lastSeq(paths: SpoolPaths): number | null {
  try {
    const text = readFileSync(paths.seq, 'utf8').trim();
    return /^[1-9][0-9]{0,18}$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

/** `batch-s<seq, 20 digits>.ndjson`. */
function batchName(seq: number): string {
  return `batch-s${String(seq).padStart(20, '0')}.ndjson`;
}

/**
 * Renames the spool to a batch (the caller holds `hooks.lock`), named by the last sequence
 * number in it, so that it sorts after every batch made before it. Null when there is no spool.
 */
export function rotateSpool(paths: SpoolPaths, wallNow: number): string | null {
  let name = batchName(lastSeq(paths) ?? wallNow * 1000);
  // A counter that did not move (it could not be written): after the batch of the same number.
  if (existsSync(join(paths.dir, name))) name = name.replace(/\.ndjson$/, `_${process.pid}.ndjson`);
  try {
    renameSync(paths.active, join(paths.dir, name));
    return name;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
