// One server per data directory: `$TOKEN_API_HOME/token-api.lock` names the server that holds
// it (pid, port, url, start time). The file appears whole or not at all (written aside, then
// hard-linked into place); a lock whose process is gone (crash, SIGKILL) is taken over.
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { z } from 'zod';

export const LOCK_FILE_NAME = 'token-api.lock';

const lockInfoSchema = z.object({
  pid: z.number().int().positive(),
  started_at: z.string(),
  version: z.string(),
  home: z.string(),
  url: z.string().nullable(),
  port: z.number().int().nullable(),
  /** The process's start time as the kernel counts it (Linux), so a reused pid is not taken for the server. */
  proc_start: z.string().nullable().optional(),
});

export type LockInfo = z.infer<typeof lockInfoSchema>;

export class LockError extends Error {
  constructor(
    message: string,
    readonly holder: LockInfo | null,
  ) {
    super(message);
    this.name = 'LockError';
  }
}

export interface ServerLock {
  readonly file: string;
  info(): LockInfo;
  /** Records where the server listens, once it does. */
  listening(url: string, port: number): void;
  /** Removes the lock if it is still this server's. */
  release(): void;
}

export function lockFile(home: string): string {
  return join(home, LOCK_FILE_NAME);
}

/** The kernel's start time of a process (field 22 of /proc/PID/stat), or null where there is no /proc. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** Is the process that wrote this lock still running (and still the same process)? */
export function holderAlive(info: LockInfo): boolean {
  if (info.pid === process.pid) return true;
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (info.proc_start) {
    const now = processStartTime(info.pid);
    if (now !== null && now !== info.proc_start) return false;
  }
  return true;
}

function parseLock(text: string): LockInfo | null {
  try {
    const parsed = lockInfoSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The lock of a data directory as it is now: who holds it and whether that process is alive. */
export function readLock(home: string): { info: LockInfo; alive: boolean } | null {
  let text: string;
  try {
    text = readFileSync(lockFile(home), 'utf8');
  } catch {
    return null;
  }
  const info = parseLock(text);
  return info ? { info, alive: holderAlive(info) } : null;
}

export function describeHolder(info: LockInfo): string {
  const where = info.url ? `port ${info.port}, ${info.url}` : 'still starting';
  return `pid ${info.pid}, ${where}, started ${info.started_at}`;
}

function tempName(file: string): string {
  return `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/** Creates `file` with `text` only if it does not exist; false if it does. */
function createExclusive(file: string, text: string): boolean {
  const tmp = tempName(file);
  try {
    writeFileSync(tmp, text, { mode: 0o644 });
  } catch (err) {
    (err as NodeJS.ErrnoException).path = file; // name the lock, not its temporary file
    throw err;
  }
  try {
    linkSync(tmp, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw err;
    // A file system without hard links: exclusive create, then write.
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    return true;
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
}

export interface AcquireOptions {
  version: string;
  /** Tells of a stale lock being taken over. */
  onStale?: (stale: LockInfo | null) => void;
}

/**
 * Takes the data directory's lock, or throws LockError naming the server that holds it.
 * A lock left by a process that is gone, or that cannot be read, is taken over.
 */
export function acquireLock(home: string, options: AcquireOptions): ServerLock {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const file = lockFile(home);
  let info: LockInfo = {
    pid: process.pid,
    started_at: new Date().toISOString(),
    version: options.version,
    home,
    url: null,
    port: null,
    proc_start: processStartTime(process.pid),
  };
  for (let attempt = 0; attempt < 10; attempt++) {
    if (createExclusive(file, `${JSON.stringify(info)}\n`)) return handle(file, () => info, (next) => (info = next));
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
      throw err;
    }
    const holder = parseLock(text);
    if (holder && holderAlive(holder)) {
      throw new LockError(`another token-api server is using the data directory ${home} (${describeHolder(holder)}); stop it first, or use another --home`, holder);
    }
    // Stale: move it aside under a name of our own, and check that what we moved is what we judged.
    const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      renameSync(file, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // someone else took it over
      throw err;
    }
    const moved = readFileSync(aside, 'utf8');
    if (moved !== text) {
      // A live server's lock slipped in between: put it back and look again.
      try {
        linkSync(aside, file);
      } catch {
        // another lock is already back in place
      }
    } else {
      options.onStale?.(holder);
    }
    unlinkSync(aside);
  }
  throw new LockError(`could not take the lock ${file}: it keeps changing (several servers starting at once?)`, null);
}

function handle(file: string, get: () => LockInfo, set: (info: LockInfo) => void): ServerLock {
  let released = false;
  const ours = (): boolean => {
    const now = readLock(dirname(file));
    return now !== null && now.info.pid === get().pid && now.info.started_at === get().started_at;
  };
  return {
    file,
    info: get,
    listening(url, port) {
      if (released) return;
      const next = { ...get(), url, port };
      const tmp = tempName(file);
      writeFileSync(tmp, `${JSON.stringify(next)}\n`, { mode: 0o644 });
      renameSync(tmp, file);
      set(next);
    },
    release() {
      if (released) return;
      released = true;
      try {
        if (ours()) unlinkSync(file);
      } catch {
        // gone already: nothing to release
      }
    },
  };
}
