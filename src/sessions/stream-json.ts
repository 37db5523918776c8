// Claude Code's stream-json protocol (`claude -p --input-format stream-json --output-format
// stream-json --verbose`): the lines token-api writes (a user message, control requests) and
// a lenient reading of the lines it prints. Unknown types pass through as `other`; a line
// that is not JSON is `text` (stderr-like noise), never an exception.
import { z } from 'zod';

/** The kinds of output token-api stores and streams. `partial` (stream_event deltas) is streamed only. */
/** `screen` (a terminal session's whole screen) is streamed only too. */
export type OutputKind = 'init' | 'assistant' | 'tool_result' | 'result' | 'partial' | 'control' | 'rate_limit' | 'other' | 'text' | 'screen';

export interface ParsedLine {
  kind: OutputKind;
  /** The line's JSON (or, for `text`, `{ text }`). */
  message: Record<string, unknown>;
  /** For `control`: the answered request's id. */
  requestId?: string;
  /** For `result`: whether the turn ended in an error (an interrupt, an API error). */
  isError?: boolean;
}

const lineSchema = z.looseObject({ type: z.string(), subtype: z.string().optional() });
const controlResponseSchema = z.looseObject({ response: z.looseObject({ request_id: z.string().optional() }) });

export function parseLine(line: string): ParsedLine {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { kind: 'text', message: { text: line } };
  }
  const base = lineSchema.safeParse(raw);
  if (!base.success) return { kind: 'text', message: { text: line } };
  const m = base.data as Record<string, unknown> & { type: string; subtype?: string };
  switch (m.type) {
    case 'system':
      return { kind: m.subtype === 'init' ? 'init' : 'other', message: m };
    case 'assistant':
      return { kind: 'assistant', message: m };
    case 'user':
      return { kind: 'tool_result', message: m };
    case 'result':
      return { kind: 'result', message: m, isError: m.is_error === true };
    case 'stream_event':
      return { kind: 'partial', message: m };
    case 'rate_limit_event':
      return { kind: 'rate_limit', message: m };
    case 'control_response': {
      const r = controlResponseSchema.safeParse(m);
      return { kind: 'control', message: m, requestId: r.success ? r.data.response.request_id : undefined };
    }
    default:
      return { kind: 'other', message: m };
  }
}

export const userLine = (text: string): string => JSON.stringify({ type: 'user', message: { role: 'user', content: text }, parent_tool_use_id: null });

export const controlRequest = (requestId: string, subtype: 'initialize' | 'interrupt'): string =>
  JSON.stringify({ type: 'control_request', request_id: requestId, request: { subtype } });

const rateLimitEventSchema = z.looseObject({ rate_limit_info: z.looseObject({ status: z.string(), resetsAt: z.number().optional(), rateLimitType: z.string().optional() }) });

/**
 * A rate limit the agent reported: a 429 result or a `rate_limit` assistant error (no reset
 * time), or a `rate_limit_event` whose status is `rejected` (with `resetsAt`, epoch seconds).
 */
export function rateLimitOf(p: ParsedLine): { resetsAt: number | null; reason: string } | null {
  const m = p.message;
  if (p.kind === 'result' && m.api_error_status === 429) return { resetsAt: null, reason: 'api_error_429' };
  if (p.kind === 'assistant' && m.error === 'rate_limit') return { resetsAt: null, reason: 'rate_limit' };
  if (p.kind === 'rate_limit') {
    const r = rateLimitEventSchema.safeParse(m);
    if (r.success && r.data.rate_limit_info.status === 'rejected') {
      const at = r.data.rate_limit_info.resetsAt;
      return { resetsAt: at === undefined ? null : at * 1000, reason: r.data.rate_limit_info.rateLimitType ?? 'rejected' };
    }
  }
  return null;
}
