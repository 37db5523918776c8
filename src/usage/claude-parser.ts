// Claude Code transcript lines -> usage records. Usage sits on assistant lines in
// `message.usage`; one response spans several lines that repeat it, so a record's key is
// `message.id:requestId` and the store keeps the first line of each key, across files too
// (resumed and forked sessions copy earlier lines). Lines are accepted on the same terms as
// ccusage (ISO timestamp, numeric input and output tokens); `<synthetic>` and API error lines
// carry no real usage and are skipped.
import { createHash } from 'node:crypto';
import type { UsageRecord } from './types.js';

/** Only lines containing this are parsed at all. */
export const CLAUDE_MARKERS: readonly Buffer[] = [Buffer.from('"usage"')];

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z$/;

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

/** A record for one line, or null when the line holds no countable usage. */
export function parseClaudeLine(line: string, project: string | null): UsageRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (!isObj(v)) return null;
  const message = v.message;
  if (!isObj(message) || !isObj(message.usage)) return null;
  const u = message.usage;
  if (!isCount(u.input_tokens) || !isCount(u.output_tokens)) return null;
  const cacheCreation = optCount(u.cache_creation_input_tokens);
  const cacheRead = optCount(u.cache_read_input_tokens);
  if (cacheCreation === null || cacheRead === null) return null;
  if (typeof v.timestamp !== 'string' || !ISO.test(v.timestamp)) return null;
  if (v.isApiErrorMessage === true) return null;
  let model = nonEmpty(message.model) ? message.model : 'unknown';
  if (model === '<synthetic>') return null;
  if (u.speed === 'fast') model = `${model}-fast`;
  const sessionId = nonEmpty(v.sessionId) ? v.sessionId : null;

  let key: string;
  if (nonEmpty(message.id) && nonEmpty(v.requestId)) key = `${message.id}:${v.requestId}`;
  else if (nonEmpty(v.uuid)) key = `uuid:${v.uuid}`;
  else key = `line:${createHash('sha256').update(line).digest('hex').slice(0, 40)}`;

  return {
    key,
    source: 'claude',
    sessionId,
    project,
    model,
    at: Date.parse(v.timestamp),
    input: Math.round(u.input_tokens),
    output: Math.round(u.output_tokens),
    cacheCreation: Math.round(cacheCreation),
    cacheRead: Math.round(cacheRead),
  };
}
