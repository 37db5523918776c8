// A one-shot prompt: `claude -p --output-format json` in a session's repository (and account),
// the prompt on stdin (never an argument: no length limit, no leading dash read as a flag),
// the agent's JSON result as the answer. Bounded by sessions.oneshot_timeout_seconds; killed
// (its process group) when it takes longer.
import { spawn } from 'node:child_process';

export interface OneshotResult {
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  /** The agent's result line, when it printed one. */
  result: Record<string, unknown> | null;
  /** The last lines of stderr, for a failure. */
  stderr: string[];
}

export function runOneshot(o: { bin: string; cwd: string; env: NodeJS.ProcessEnv; prompt: string; permissionMode: string; timeoutMs: number }): Promise<OneshotResult> {
  return new Promise((resolve) => {
    const child = spawn(o.bin, ['-p', '--output-format', 'json', '--permission-mode', o.permissionMode], { cwd: o.cwd, env: o.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out = (out + d).slice(-4 * 1024 * 1024)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-16 * 1024)));
    child.stdin.on('error', () => undefined);
    child.stdin.end(o.prompt);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-(child.pid ?? 0), 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, o.timeoutMs);
    const done = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      let result: Record<string, unknown> | null = null;
      for (const line of out.trim().split('\n').reverse()) {
        try {
          const v = JSON.parse(line) as unknown;
          if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'result') {
            result = v as Record<string, unknown>;
            break;
          }
        } catch {
          // not a JSON line
        }
      }
      resolve({ code, signal, timedOut, result, stderr: err.trim().split('\n').slice(-10) });
    };
    child.on('error', (e) => {
      err += `\n${e.message}`;
      done(null, null);
    });
    child.on('close', done);
  });
}
