// Logs go to a file in the data directory, rotated by size (token-api.log, token-api.log.1,
// ... up to maxFiles rotated files), and to stderr when running in the foreground.
// closeLogger() ends the file stream so that the last lines are written before exit.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';

export interface LoggerOptions {
  level: string;
  file: string | null;
  stderr: boolean;
  /** Rotate the file when it grows past this size (default 10 MiB). */
  maxBytes?: number;
  /** Rotated files kept beside the current one (default 5). */
  maxFiles?: number;
}

export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_LOG_MAX_FILES = 5;

const fileStreams = new WeakMap<Logger, RotatingFileStream>();

/** The log file stream: checked writable now, so that a read-only or full data directory fails at start. */
function rotatingFile(file: string, maxBytes: number, maxFiles: number): RotatingFileStream {
  mkdirSync(dirname(file), { recursive: true });
  closeSync(openSync(file, 'a'));
  const name = basename(file);
  const stream = createStream((index?: number | Date) => (typeof index === 'number' && index > 0 ? `${name}.${index}` : name), {
    path: dirname(file),
    size: `${Math.max(1, Math.floor(maxBytes))}B`,
    rotate: Math.max(1, Math.floor(maxFiles)),
  });
  let told = false;
  const tell = (what: string, err: Error) => {
    if (told) return;
    told = true;
    process.stderr.write(`token-api: ${what} ${file}: ${err.message}\n`);
  };
  // After an error the stream is closed and the file gets nothing more; say so once, never crash.
  stream.on('error', (err) => tell('stopped writing the log file', err));
  stream.on('warning', (err) => tell('log rotation trouble with', err));
  return stream;
}

export function createLogger(o: LoggerOptions): Logger {
  if (o.level === 'silent') return pino({ level: 'silent' });
  const streams: pino.StreamEntry[] = [];
  let file: RotatingFileStream | null = null;
  if (o.file) {
    file = rotatingFile(o.file, o.maxBytes ?? DEFAULT_LOG_MAX_BYTES, o.maxFiles ?? DEFAULT_LOG_MAX_FILES);
    streams.push({ level: o.level as pino.Level, stream: file });
  }
  if (o.stderr) streams.push({ level: o.level as pino.Level, stream: pino.destination({ fd: 2, sync: false }) });
  if (streams.length === 0) return pino({ level: 'silent' });
  const logger = pino({ level: o.level, base: { pid: process.pid } }, pino.multistream(streams));
  if (file) fileStreams.set(logger, file);
  return logger;
}

/** Flushes the logger and ends its file stream (resolves once the file has every line). */
export async function closeLogger(logger: Logger): Promise<void> {
  logger.flush?.();
  const file = fileStreams.get(logger);
  if (!file) return;
  fileStreams.delete(logger);
  if (file.destroyed || file.writableFinished) return;
  await new Promise<void>((resolve) => {
    file.once('error', () => resolve());
    file.end(() => resolve());
  });
}
