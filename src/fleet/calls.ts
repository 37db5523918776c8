// Calls from the hub to a connected machine, each answered or failed within its deadline: a
// pending call is keyed by a UUID; the machine's `result` settles it; the deadline (on the
// injected clock) fails it; a closed socket fails every call pending on it at once. A result
// that comes late finds nothing and is dropped.
import { randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { DomainError } from '../lib/domain-error.js';

export interface CallAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A call that found no answer in time (the route answers 504). */
export class CallTimeoutError extends Error {
  constructor(readonly machine: string, readonly ms: number) {
    super(`machine ${machine} did not answer within ${ms} ms`);
    this.name = 'CallTimeoutError';
  }
}

interface Pending {
  resolve: (a: CallAnswer) => void;
  reject: (e: Error) => void;
  timer: TimerHandle;
}

export function createCalls(clock: Clock) {
  const pending = new Map<string, Pending>();
  return {
    /** Sends a call with `send(id)` and waits for its answer. */
    start(machine: string, ms: number, send: (id: string) => void): Promise<CallAnswer> {
      const id = randomUUID();
      return new Promise<CallAnswer>((resolve, reject) => {
        const timer = clock.setTimeout(() => {
          pending.delete(id);
          reject(new CallTimeoutError(machine, ms));
        }, ms);
        pending.set(id, { resolve, reject, timer });
        try {
          send(id);
        } catch (err) {
          clock.clearTimeout(timer);
          pending.delete(id);
          reject(new DomainError('not_running', `machine ${machine} is not connected (${(err as Error).message})`));
        }
      });
    },
    /** The machine's answer; false when no call waits for it (late or unknown). */
    settle(id: string, answer: CallAnswer): boolean {
      const p = pending.get(id);
      if (!p) return false;
      pending.delete(id);
      clock.clearTimeout(p.timer);
      p.resolve(answer);
      return true;
    },
    /** Fails the given calls (their socket closed). */
    fail(ids: Iterable<string>, message: string): void {
      for (const id of ids) {
        const p = pending.get(id);
        if (!p) continue;
        pending.delete(id);
        clock.clearTimeout(p.timer);
        p.reject(new DomainError('not_running', message));
      }
    },
  };
}

export type Calls = ReturnType<typeof createCalls>;
