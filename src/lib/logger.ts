// Logs go to a file in the data directory as JSON lines, rotated by size (token-api.log,
// token-api.log.1, ... up to maxFiles rotated files). In the foreground stderr gets either
// its warnings and errors as one readable line each ("text", for a person) or the same JSON
// lines ("json", for a program). closeLogger() ends the file stream so that the last lines are
// written before exit.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';

/** What stderr gets: nothing, warnings and errors in words, or the JSON log. */
export type StderrLog = 'none' | 'text' | 'json';

export interface LoggerOptions {
  level: string;
  file: string | null;
  stderr: StderrLog;
  /** Colours in the text lines (a terminal that has them). */
  color?: boolean;
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

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'err']);

/** A pino JSON line as one line for a person: "12:00:01 warn  took over the lock … (previous: pid 41)". */
export function textLine(json: string, color = false): string {
  let l: Record<string, unknown>;
  try {
    l = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const level = LEVEL_NAMES[l.level as number] ?? String(l.level);
  const time = typeof l.time === 'number' ? new Date(l.time).toTimeString().slice(0, 8) : '';
  const facts: string[] = [];
  const err = l.err as { message?: string } | undefined;
  if (err?.message) facts.push(err.message);
  for (const [k, v] of Object.entries(l)) {
    if (HIDDEN.has(k) || v === null || v === undefined) continue;
    const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
    facts.push(`${k}: ${text.length > 120 ? `${text.slice(0, 119)}…` : text}`);
    if (facts.length >= 6) break;
  }
  const paint = (code: string, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const tag = level === 'warn' ? paint('33', 'warn ') : level === 'error' || level === 'fatal' ? paint('31', level.padEnd(5)) : level.padEnd(5);
  return `${time} ${tag} ${String(l.msg ?? '')}${facts.length > 0 ? ` (${facts.join('; ')})` : ''}`;
}

function textStream(color: boolean): pino.DestinationStream {
  return { write: (chunk: string) => void process.stderr.write(`${textLine(chunk, color)}\n`) };
}

export function createLogger(o: LoggerOptions): Logger {
  if (o.level === 'silent') return pino({ level: 'silent' });
  const streams: pino.StreamEntry[] = [];
  let file: RotatingFileStream | null = null;
  if (o.file) {
    file = rotatingFile(o.file, o.maxBytes ?? DEFAULT_LOG_MAX_BYTES, o.maxFiles ?? DEFAULT_LOG_MAX_FILES);
    streams.push({ level: o.level as pino.Level, stream: file });
  }
  if (o.stderr === 'json') streams.push({ level: o.level as pino.Level, stream: pino.destination({ fd: 2, sync: false }) });
  // In words: warnings and errors (the start-up lines say the rest), or everything at debug and trace.
  if (o.stderr === 'text') streams.push({ level: (pino.levels.values[o.level]! < 30 ? o.level : pino.levels.values[o.level]! > 40 ? o.level : 'warn') as pino.Level, stream: textStream(o.color ?? false) });
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
