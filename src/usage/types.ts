// The shapes token usage takes between the parsers, the store and the reports: one record
// per model response (Claude) or per token-count step (Codex), with its four token counts.
import { MAX_RECORD_TOKENS } from '../protocol/usage.js';

export type UsageSource = 'claude' | 'codex';

export interface TokenCounts {
  input: number;
  output: number;
  cacheCreation: number;
  cacheRead: number;
}

/** Every count of `c` is within MAX_RECORD_TOKENS. */
export function withinTokenBound(c: TokenCounts): boolean {
  return c.input <= MAX_RECORD_TOKENS && c.output <= MAX_RECORD_TOKENS && c.cacheCreation <= MAX_RECORD_TOKENS && c.cacheRead <= MAX_RECORD_TOKENS;
}

/** One response's usage as read from a transcript, before it is attributed to a device. */
export interface UsageRecord extends TokenCounts {
  /** Identity across files and machines: `message.id:requestId` for Claude, see the parsers. */
  key: string;
  source: UsageSource;
  sessionId: string | null;
  /** The transcript's project folder (Claude) or working directory (Codex), when known. */
  project: string | null;
  model: string;
  /** Epoch milliseconds. */
  at: number;
}

/** A record with where it was spent. */
export interface AttributedRecord extends UsageRecord {
  deviceId: string;
  instanceId: string | null;
}

export interface StoredRecord extends AttributedRecord {
  /** Null when the model is not in the pricing table. */
  costUsd: number | null;
}
