// The shapes token usage takes between the parsers, the store and the reports: one record
// per model response (Claude) or per token-count step (Codex), with its four token counts.

export type UsageSource = 'claude' | 'codex';

export interface TokenCounts {
  input: number;
  output: number;
  cacheCreation: number;
  cacheRead: number;
}

/**
 * The most tokens of one kind a single record may count. No model response comes near a
 * billion tokens, so a count above this is corrupt: the parsers skip such a record and the
 * push route rejects it. The bound also keeps SQLite's integer SUM of a report far from
 * overflow (2^63 is about 9.2e18, nine billion records at the bound).
 */
export const MAX_RECORD_TOKENS = 1_000_000_000;

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
