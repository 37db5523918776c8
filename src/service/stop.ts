// Stopping a running server in order: stop accepting and let requests in flight finish while
// the closers tell their clients (both bounded by the grace period), then shut the system down
// (timers, outbox, writer, database), then release the data directory's lock. The report says
// how it went, for the exit code.
import type { Closers } from './closers.js';
import type { HttpDrain } from './http-drain.js';
import type { ServerLock } from './lock.js';

export interface StopReport {
  /** Requests cut off when the grace period ended. */
  cutOff: number;
  /** What failed while stopping (closers, shutdown steps). */
  errors: string[];
}

export interface StopOptions {
  /** How long requests in flight and closers may take (default: the configured grace). */
  graceMs?: number;
  /** Told how many requests are still in flight when stopping has to wait for them. */
  onWaiting?: (inFlight: number) => void;
}

export interface StopParts {
  drain: HttpDrain;
  closers: Closers;
  shutdown(): Promise<void>;
  lock: ServerLock | null;
}

export async function stopServer(parts: StopParts, graceMs: number, onWaiting?: (inFlight: number) => void): Promise<StopReport> {
  const [drained, closerErrors] = await Promise.all([parts.drain.drain(graceMs, onWaiting), parts.closers.closeAll(graceMs)]);
  const errors = [...closerErrors];
  try {
    await parts.shutdown();
  } catch (err) {
    errors.push((err as Error).message);
  }
  parts.lock?.release();
  return { cutOff: drained.cutOff, errors };
}

/** What to tell the person after stopping, and the exit code: 0 clean, 1 when something was cut off or failed. */
export function stopOutcome(report: StopReport): { lines: string[]; code: number } {
  const lines: string[] = [];
  if (report.cutOff > 0) lines.push(`${report.cutOff} request(s) still in flight were cut off at the end of the grace period (shutdown_grace_seconds)`);
  for (const e of report.errors) lines.push(`error while stopping: ${e}`);
  const code = lines.length > 0 ? 1 : 0;
  lines.push(code === 0 ? 'token-api stopped' : 'token-api stopped, not cleanly');
  return { lines, code };
}
