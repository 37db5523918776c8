// Logs go to a file in the data directory, and to stderr when running in the foreground.
import { mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';

export interface LoggerOptions {
  level: string;
  file: string | null;
  stderr: boolean;
}

export function createLogger(o: LoggerOptions): Logger {
  const streams: pino.StreamEntry[] = [];
  if (o.file) {
    mkdirSync(dirname(o.file), { recursive: true });
    // Opened here, synchronously: a process that stops right after start (a refused database,
    // say) then flushes an open file instead of failing with "sonic boom is not ready yet".
    const dest = pino.destination({ dest: openSync(o.file, 'a'), sync: false });
    // A log file that cannot be written (disk full, read-only) must not stop the server: say so once.
    let told = false;
    dest.on('error', (err: Error) => {
      if (told) return;
      told = true;
      process.stderr.write(`token-api: cannot write the log file ${o.file}: ${err.message}; log lines are being lost\n`);
    });
    streams.push({ level: o.level as pino.Level, stream: dest });
  }
  if (o.stderr) streams.push({ level: o.level as pino.Level, stream: pino.destination({ fd: 2, sync: false }) });
  if (streams.length === 0 || o.level === 'silent') return pino({ level: 'silent' });
  return pino({ level: o.level, base: { pid: process.pid } }, pino.multistream(streams));
}
