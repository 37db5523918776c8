// Claude Code transcript lines -> usage records. Usage sits on assistant lines in
// `message.usage`; one response spans several lines that repeat it, so a record's key is
// `message.id:requestId` and the store keeps the first line of each key, across files too
// (resumed and forked sessions copy earlier lines). Lines are accepted on the same terms as
// ccusage (ISO timestamp, numeric input and output tokens); `<synthetic>` and API error lines
// carry no real usage and are skipped, and so is a line with a count above MAX_RECORD_TOKENS
// (src/protocol/usage.ts). Only the fields needed are decoded (json-fields.ts): message content, most of
// each line, is skipped as bytes.
import { createHash } from 'node:crypto';
import { isObjectAt, lineOf, objectFields, valueOf } from './json-fields.js';
import { withinTokenBound, type UsageRecord } from './types.js';

/** Only lines containing this are parsed at all. */
export const CLAUDE_MARKERS: readonly Buffer[] = [Buffer.from('"usage"')];

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z$/;
const TOP = ['message', 'timestamp', 'requestId', 'sessionId', 'isApiErrorMessage', 'uuid'] as const;
const MESSAGE = ['usage', 'model', 'id'] as const;
const top = new Int32Array(TOP.length * 2);
const msg = new Int32Array(MESSAGE.length * 2);
/** Start and end of field k of a span array. */
const at = (spans: Int32Array, k: number): [number, number] => [spans[2 * k]!, spans[2 * k + 1]!];

/**
 * Session ids and model names repeat on every line: one copy each is kept. (A value sliced
 * from a line would otherwise keep the whole line alive for as long as its record lives.)
 */
const interned = new Map<string, string>();
function intern(v: string): string {
  let s = interned.get(v);
  if (s === undefined) {
    if (interned.size >= 10_000) interned.clear();
    s = Buffer.from(v, 'utf8').toString('utf8');
    interned.set(s, s);
  }
  return s;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const optCount = (v: unknown): number | null => (v === undefined || v === null ? 0 : isCount(v) ? v : null);
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** The project folder of a transcript: the directory right under `projects/`. */
export function claudeProjectOf(path: string): string | null {
  const parts = path.split(/[\\/]/);
  const i = parts.lastIndexOf('projects');
  return i >= 0 && i + 2 < parts.length ? (parts[i + 1] ?? null) : null;
}

/** A record for the line at [start, end) of `buf`, or null when it holds no countable usage. */
export function parseClaudeBytes(buf: Buffer, start: number, end: number, project: string | null): UsageRecord | null {
  const line = lineOf(buf, start, end);
  if (!objectFields(line, 0, end - start, TOP, top)) return null;
  const [ms, me] = at(top, 0);
  if (!isObjectAt(line, ms) || !objectFields(line, ms, me, MESSAGE, msg)) return null;
  const [us, ue] = at(msg, 0);
  if (!isObjectAt(line, us)) return null;
  const u = valueOf(line, us, ue);
  if (!isObj(u) || !isCount(u.input_tokens) || !isCount(u.output_tokens)) return null;
  const cacheCreation = optCount(u.cache_creation_input_tokens);
  const cacheRead = optCount(u.cache_read_input_tokens);
  if (cacheCreation === null || cacheRead === null) return null;
  const counts = { input: Math.round(u.input_tokens), output: Math.round(u.output_tokens), cacheCreation: Math.round(cacheCreation), cacheRead: Math.round(cacheRead) };
  if (!withinTokenBound(counts)) return null;
  const timestamp = valueOf(line, ...at(top, 1));
  if (typeof timestamp !== 'string' || !ISO.test(timestamp)) return null;
  if (valueOf(line, ...at(top, 4)) === true) return null;
  const m = valueOf(line, ...at(msg, 1));
  let model = nonEmpty(m) ? intern(m) : 'unknown';
  if (model === '<synthetic>') return null;
  if (u.speed === 'fast') model = `${model}-fast`;
  const s = valueOf(line, ...at(top, 3));
  const id = valueOf(line, ...at(msg, 2));
  const requestId = valueOf(line, ...at(top, 2));

  let key: string;
  if (nonEmpty(id) && nonEmpty(requestId)) key = `${id}:${requestId}`;
  else {
    const uuid = valueOf(line, ...at(top, 5));
    if (nonEmpty(uuid)) key = `uuid:${uuid}`;
    else key = `line:${createHash('sha256').update(buf.subarray(start, end)).digest('hex').slice(0, 40)}`;
  }

  return {
    key,
    source: 'claude',
    sessionId: nonEmpty(s) ? intern(s) : null,
    project,
    model,
    at: Date.parse(timestamp),
    ...counts,
  };
}

/** The same for a line as text. */
export function parseClaudeLine(line: string, project: string | null): UsageRecord | null {
  const buf = Buffer.from(line, 'utf8');
  return parseClaudeBytes(buf, 0, buf.length, project);
}
