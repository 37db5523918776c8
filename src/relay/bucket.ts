// Per-client rate limits: a token bucket on the injected clock (refilled at `ratePerSecond`, at
// most `burst` tokens, starting full), one per client token id, forgotten after a while idle.
import type { Clock } from '../lib/clock.js';

export interface RateLimits {
  ratePerSecond: number;
  burst: number;
}

export interface RateLimiter {
  /** Takes a token for `key`: 0 when allowed, else how many ms until one is there. */
  take(key: string): number;
  /** Buckets held now (idle ones are dropped as others are used). */
  size(): number;
}

const IDLE_MS = 10 * 60_000;

export function createRateLimiter(limits: RateLimits, clock: Pick<Clock, 'now'>): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  let lastSweep = clock.now();
  return {
    take(key) {
      const now = clock.now();
      if (now - lastSweep > IDLE_MS) {
        for (const [k, b] of buckets) if (now - b.at > IDLE_MS) buckets.delete(k);
        lastSweep = now;
      }
      const b = buckets.get(key) ?? { tokens: limits.burst, at: now };
      b.tokens = Math.min(limits.burst, b.tokens + (Math.max(0, now - b.at) / 1000) * limits.ratePerSecond);
      b.at = now;
      buckets.set(key, b);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      return Math.ceil(((1 - b.tokens) / limits.ratePerSecond) * 1000);
    },
    size: () => buckets.size,
  };
}
