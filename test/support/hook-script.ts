// Runs the real hook script (`sh hooks/token-api-hook.sh EVENT`) with JSON on stdin, as
// Claude Code does, and collects its exit code and output.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const HOOK_SCRIPT = fileURLToPath(new URL('../../hooks/token-api-hook.sh', import.meta.url));

export interface HookRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runHookScript(args: string[], input: string, env: NodeJS.ProcessEnv): Promise<HookRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', [HOOK_SCRIPT, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** The environment a hook runs in, pointed at a token-api and a data directory, without the caller's SSH or tmux. */
export function hookEnv(url: string, home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TOKEN_API_URL: url, TOKEN_API_HOME: home, ...extra };
  for (const k of ['SSH_CLIENT', 'SSH_CONNECTION', 'TMUX', 'TMUX_PANE', 'WT_SESSION', 'TOKEN_API_TAB', 'TOKEN_API_TOKEN', 'TOKEN_API_AGENT_PID']) {
    if (!(k in extra)) delete env[k];
  }
  return env;
}
