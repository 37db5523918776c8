// Finding and running the external programs notifications use (speech engines, sound
// players, PowerShell): a PATH lookup without spawning anything, WSL detection, and a child
// process run to completion with its output, a time limit and no shell in between.
import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { systemClock, type Clock } from '../../lib/clock.js';

/** The full path of an executable named `name` on PATH (or `name` itself when it is a path), or null. */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = isAbsolute(name) || name.includes('/') ? [name] : (env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, name));
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not there, or not executable
    }
  }
  return null;
}

/** True inside the Windows Subsystem for Linux, where Windows programs (powershell.exe) can run. */
export function isWsl(env: NodeJS.ProcessEnv = process.env): boolean {
  if (process.platform !== 'linux') return false;
  if (env.WSL_DISTRO_NAME || env.WSL_INTEROP) return true;
  try {
    return /microsoft/i.test(readFileSync('/proc/version', 'utf8'));
  } catch {
    return false;
  }
}

/** Where Windows PowerShell lives when it is not on PATH (WSL mounts C: at /mnt/c). */
export const WSL_POWERSHELL = '/mnt/c/Windows/System32/WindowsPowerShell/v1.0/powershell.exe';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export class ProcessError extends Error {
  constructor(
    message: string,
    readonly result?: RunResult,
  ) {
    super(message);
    this.name = 'ProcessError';
  }
}

/** Runs a program to completion; rejects when it cannot start, times out, or exits non-zero. */
export function runProcess(
  file: string,
  args: readonly string[],
  opts: { input?: string; timeoutMs?: number; clock?: Clock; maxOutput?: number; signal?: AbortSignal } = {},
): Promise<RunResult> {
  const clock = opts.clock ?? systemClock;
  const max = opts.maxOutput ?? 1024 * 1024;
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const child = spawn(file, [...args], { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true, signal: opts.signal });
    const timer = opts.timeoutMs
      ? clock.setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < max) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < max) stderr += d;
    });
    child.on('error', (err) => {
      clock.clearTimeout(timer);
      reject(new ProcessError(`cannot run ${file}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clock.clearTimeout(timer);
      const result = { code, signal, stdout, stderr };
      if (timedOut) reject(new ProcessError(`${file} took longer than ${opts.timeoutMs} ms and was stopped`, result));
      else if (code !== 0) reject(new ProcessError(`${file} exited with ${code ?? signal}: ${stderr.trim().slice(0, 300)}`, result));
      else resolve(result);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}
