// Runs a job's shell command: `sh -c` (cmd.exe on Windows) in its own process group, stdin
// closed, stdout and stderr kept together up to a limit (the end is kept: that is where a
// failing command says why), within a timeout on the injected clock. On timeout or abort the
// group gets SIGTERM, and SIGKILL 5 s later if it is still there. Never throws: a command that
// cannot start is a result with its error.
import { spawn } from 'node:child_process';
import type { Clock, TimerHandle } from '../lib/clock.js';

export interface CommandResult {
  exitCode: number | null;
  signal: string | null;
  output: string;
  /** Everything the command wrote, though only the end of it is kept. */
  outputBytes: number;
  truncated: boolean;
  timedOut: boolean;
  aborted: boolean;
  /** Why it could not start. */
  error: string | null;
}

export interface CommandOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  maxOutputBytes: number;
  clock: Clock;
  signal?: AbortSignal;
}

export const KILL_GRACE_MS = 5000;

/** The last `max` bytes of what was written, as chunks. */
function tailKeeper(max: number) {
  const chunks: Buffer[] = [];
  let kept = 0;
  let total = 0;
  return {
    add(b: Buffer): void {
      total += b.length;
      chunks.push(b);
      kept += b.length;
      while (kept - chunks[0]!.length >= max) kept -= chunks.shift()!.length;
    },
    result(): { text: string; bytes: number; truncated: boolean } {
      let all = Buffer.concat(chunks);
      if (all.length > max) all = all.subarray(all.length - max);
      // A cut in the middle of a character is dropped, not shown as U+FFFD.
      let text = all.toString('utf8');
      if (total > max) text = text.replace(/^\uFFFD+/, '');
      return { text, bytes: total, truncated: total > max };
    },
  };
}

export function runCommand(command: string, o: CommandOptions): Promise<CommandResult> {
  return new Promise((resolve) => {
    const out = tailKeeper(o.maxOutputBytes);
    let timedOut = false;
    let aborted = false;
    let timer: TimerHandle | undefined;
    let killTimer: TimerHandle | undefined;
    let settled = false;
    const windows = process.platform === 'win32';
    const child = spawn(command, { shell: true, cwd: o.cwd, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: !windows, windowsHide: true });

    const kill = (sig: NodeJS.Signals) => {
      try {
        if (!windows && child.pid) process.kill(-child.pid, sig);
        else child.kill(sig);
      } catch {
        // already gone
      }
    };
    const stop = () => {
      kill('SIGTERM');
      killTimer = o.clock.setTimeout(() => kill('SIGKILL'), KILL_GRACE_MS);
    };
    const finish = (r: Omit<CommandResult, 'output' | 'outputBytes' | 'truncated' | 'timedOut' | 'aborted'>) => {
      if (settled) return;
      settled = true;
      o.clock.clearTimeout(timer);
      o.clock.clearTimeout(killTimer);
      o.signal?.removeEventListener('abort', onAbort);
      const kept = out.result();
      resolve({ ...r, output: kept.text, outputBytes: kept.bytes, truncated: kept.truncated, timedOut, aborted });
    };
    const onAbort = () => {
      aborted = true;
      stop();
    };

    child.stdout.on('data', (b: Buffer) => out.add(b));
    child.stderr.on('data', (b: Buffer) => out.add(b));
    child.on('error', (err) => finish({ exitCode: null, signal: null, error: `the command could not start: ${err.message}` }));
    child.on('close', (code, sig) => finish({ exitCode: code, signal: sig, error: null }));
    timer = o.clock.setTimeout(() => {
      timedOut = true;
      stop();
    }, o.timeoutMs);
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
