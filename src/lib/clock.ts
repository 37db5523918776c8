// Time and timers, injected everywhere so that tests drive them instead of sleeping.
export type TimerHandle = { readonly __timer: unique symbol } | NodeJS.Timeout;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** setTimeout cannot wait longer than this (about 24.8 days); longer waits are re-armed. */
export const MAX_TIMER_MS = 2_147_483_647;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, Math.min(Math.max(0, ms), MAX_TIMER_MS));
    t.unref();
    return t;
  },
  clearTimeout: (handle) => {
    if (handle) clearTimeout(handle as NodeJS.Timeout);
  },
};

/** Epoch milliseconds as an ISO 8601 time, as rows and answers carry them. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The same, for a time that may be absent. */
export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}
