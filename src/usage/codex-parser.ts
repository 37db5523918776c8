// Codex rollout lines -> usage records. Codex writes `event_msg` lines whose payload is a
// `token_count` with cumulative totals for the session: a record is the difference from
// the previous totals, never a sum. The model comes from the latest `turn_context`, the
// session id from `session_meta`. The state between lines is kept with the file's cursor,
// so reading can resume mid-file. Codex counts cached input inside input_tokens: here input
// is the uncached part and cache_read the cached part; output includes reasoning. A step
// with a count above MAX_RECORD_TOKENS (src/protocol/usage.ts) is skipped; the totals still move on.
import { basename } from 'node:path';
import { withinTokenBound, type UsageRecord } from './types.js';

export const CODEX_MARKERS: readonly Buffer[] = [Buffer.from('"token_count"'), Buffer.from('"turn_context"'), Buffer.from('"session_meta"')];

export interface CodexTotals {
  input: number;
  cached: number;
  output: number;
  total: number;
}

/** What a Codex file's reader remembers between lines (and between reads). */
export interface CodexState {
  sessionId: string | null;
  model: string | null;
  cwd: string | null;
  totals: CodexTotals | null;
}

export function newCodexState(): CodexState {
  return { sessionId: null, model: null, cwd: null, totals: null };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : 0);

/** The session id in a rollout file name (rollout-<time>-<uuid>.jsonl), or the name itself. */
export function codexSessionFromPath(path: string): string {
  const name = basename(path, '.jsonl');
  const m = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.exec(name);
  return m ? m[1]!.toLowerCase() : name;
}

function totalsOf(u: unknown): CodexTotals | null {
  if (!isObj(u)) return null;
  const input = count(u.input_tokens);
  const output = count(u.output_tokens);
  const total = typeof u.total_tokens === 'number' ? count(u.total_tokens) : input + output;
  return { input, cached: Math.min(count(u.cached_input_tokens), input), output, total };
}

/** Updates the state from one line and returns a record when the line added tokens. */
export function parseCodexLine(line: string, state: CodexState, fallbackSession: string): UsageRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (!isObj(v) || !isObj(v.payload)) return null;
  const p = v.payload;
  if (v.type === 'session_meta') {
    if (typeof p.id === 'string' && p.id) state.sessionId = p.id;
    if (typeof p.cwd === 'string') state.cwd = p.cwd;
    if (typeof p.model === 'string' && p.model) state.model = p.model;
    return null;
  }
  if (v.type === 'turn_context') {
    if (typeof p.model === 'string' && p.model) state.model = p.model;
    if (typeof p.cwd === 'string') state.cwd = p.cwd;
    return null;
  }
  if (v.type !== 'event_msg' || p.type !== 'token_count' || !isObj(p.info)) return null;
  const at = typeof v.timestamp === 'string' ? Date.parse(v.timestamp) : NaN;
  if (!Number.isFinite(at)) return null;

  const total = totalsOf(p.info.total_token_usage);
  const last = totalsOf(p.info.last_token_usage);
  let delta: CodexTotals | null;
  if (total) {
    const prev = state.totals;
    const reset = prev !== null && (total.input < prev.input || total.output < prev.output || total.cached < prev.cached);
    if (prev === null || reset) delta = prev === null ? total : (last ?? total);
    else delta = { input: total.input - prev.input, cached: total.cached - prev.cached, output: total.output - prev.output, total: total.total - prev.total };
    state.totals = total;
  } else delta = last;
  if (!delta || delta.input + delta.output === 0) return null;

  const cached = Math.min(delta.cached, delta.input);
  const counts = { input: delta.input - cached, output: delta.output, cacheCreation: 0, cacheRead: cached };
  if (!withinTokenBound(counts)) return null;
  const sessionId = state.sessionId ?? fallbackSession;
  return {
    key: total ? `codex:${sessionId}:${total.input}:${total.output}` : `codex:${sessionId}@${v.timestamp as string}`,
    source: 'codex',
    sessionId,
    project: state.cwd,
    model: state.model ?? 'unknown',
    at,
    ...counts,
  };
}
