// Logs go to a file in the data directory, and to stderr when running in the foreground.
import { mkdirSync } from 'node:fs';
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
    streams.push({ level: o.level as pino.Level, stream: pino.destination({ dest: o.file, mkdir: true, sync: false }) });
  }
  if (o.stderr) streams.push({ level: o.level as pino.Level, stream: pino.destination({ fd: 2, sync: false }) });
  if (streams.length === 0 || o.level === 'silent') return pino({ level: 'silent' });
  return pino({ level: o.level, base: { pid: process.pid } }, pino.multistream(streams));
}
