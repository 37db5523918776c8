// The data directory (and the directories of the log and the database, when configured
// elsewhere) must exist and be writable before anything starts: a read-only or unusable
// directory is refused with one clear sentence rather than a stack trace from deep inside.
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, type Config } from '../config/config.js';

export class DataDirError extends ConfigError {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirError';
  }
}

function why(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'EROFS':
      return 'it is on a read-only file system';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
    case 'EEXIST':
      return 'a file is in the way';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return e.message;
  }
}

/** Recursive mkdir reports ENOENT for a parent it cannot write to: ask the nearest existing one why. */
function realCause(dir: string, err: unknown): unknown {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return err;
  let up = dirname(dir);
  while (!existsSync(up) && dirname(up) !== up) up = dirname(up);
  try {
    accessSync(up, constants.W_OK);
    return err;
  } catch (cause) {
    return cause;
  }
}

/** Creates the directories token-api writes to and checks that it may write there. */
export function prepareDataDir(config: Pick<Config, 'home' | 'logFile' | 'databaseFile'>): void {
  const dirs = [...new Set([config.home, dirname(config.logFile), dirname(config.databaseFile)])];
  const refuse = (what: string, err: unknown) =>
    new DataDirError(
      `cannot write to ${what}: ${why(err)}. token-api keeps its database, logs and spool there: make it writable, or choose another data directory with --home (or TOKEN_API_HOME).`,
    );
  for (const dir of dirs) {
    try {
      if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
      else if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      accessSync(dir, constants.W_OK);
    } catch (err) {
      throw refuse(`${dir === config.home ? 'the data directory' : dir === dirname(config.logFile) ? 'the log directory' : 'the database directory'} ${dir}`, realCause(dir, err));
    }
  }
  try {
    if (existsSync(config.databaseFile)) accessSync(config.databaseFile, constants.W_OK);
  } catch (err) {
    throw refuse(`the database ${config.databaseFile}`, err);
  }
}
