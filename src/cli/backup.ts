// `token-api backup PATH`: a consistent copy of the database, safe while the server runs
// (src/db/backup.ts), and what to do with it. Restoring is described in the README.
import { BackupError, backupDatabase } from '../db/backup.js';
import { readLock } from '../service/lock.js';
import { configFrom } from './common.js';

type Values = Record<string, string | boolean | undefined>;

export const BACKUP_USAGE = `token-api backup PATH [--force] [--home DIR] [--config FILE]

Writes a consistent copy of token-api's database to PATH (a file; or, when PATH is a
directory, token-api-YYYYMMDD-HHMMSS.db inside it). Safe while the server runs: SQLite's
online backup reads one committed state, from a read-only connection; the server goes on
answering. The copy is checked (PRAGMA integrity_check) and is a single file (mode 0600).

  --force        replace PATH if it exists
  --home DIR     data directory (default ~/.token-api; env TOKEN_API_HOME)
  --config FILE  config file (its "database" key says where the database is)
  -h, --help     this help

To restore: stop the server, replace the database file (default
$TOKEN_API_HOME/token-api.db) with the copy, delete token-api.db-wal and token-api.db-shm
beside it, and start the server again.`;

export const backupCommand = {
  summary: 'write a consistent copy of the database (safe while the server runs)',
  usage: BACKUP_USAGE,
  options: {
    home: { type: 'string' },
    config: { type: 'string' },
    force: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  } as const,
  async run(values: Values, positionals: string[]): Promise<number> {
    if (positionals.length !== 1) {
      process.stderr.write(`token-api backup: ${positionals.length === 0 ? 'where to? give a PATH' : `one PATH only, got ${positionals.length}`}\n\n${BACKUP_USAGE}\n`);
      return 2;
    }
    const config = configFrom(values);
    const running = readLock(config.home);
    try {
      const r = await backupDatabase(config.databaseFile, positionals[0]!, { force: values.force === true });
      const size = r.bytes >= 1024 * 1024 ? `${(r.bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.max(1, Math.round(r.bytes / 1024))} KiB`;
      const live = running?.alive ? `, while the server ran (pid ${running.info.pid})` : '';
      process.stdout.write(`${r.target}\n`);
      process.stderr.write(`backed up ${r.source} to ${r.target} (${size}, schema version ${r.schemaVersion ?? 'none'}, integrity ok) in ${r.ms} ms${live}\n`);
      return 0;
    } catch (err) {
      if (err instanceof BackupError) {
        process.stderr.write(`token-api backup: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  },
};
