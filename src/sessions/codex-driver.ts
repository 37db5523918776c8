// A headless Codex session: Codex has no stdin protocol, so each prompt is one
// `codex exec --json [resume <thread>] -- <prompt>` process in the repository (stdin closed),
// the thread id from its first `thread.started` line carrying the conversation to the next
// prompt. Prompts sent while a turn runs wait their turn here. Cancel is SIGINT to the running
// turn (Codex then exits without `turn.completed`; the turn is reported ended all the same).
// The session itself ends only when stopped. The repository's permission mode becomes Codex's
// sandbox (codexPermissionArgs).
import { spawn, type ChildProcess } from 'node:child_process';
import type { RepoConfig } from '../config/sessions.js';
import type { DriverExit, SessionDriver } from './driver.js';
import type { ParsedLine } from './stream-json.js';

/** A line of `codex exec --json` as output: its agent messages, tool items, turn ends and errors. */
export function parseCodexLine(line: string): ParsedLine {
  let m: unknown;
  try {
    m = JSON.parse(line);
  } catch {
    return { kind: 'text', message: { text: line } };
  }
  if (!m || typeof m !== 'object' || Array.isArray(m)) return { kind: 'text', message: { text: line } };
  const msg = m as Record<string, unknown>;
  const item = (msg.item ?? {}) as Record<string, unknown>;
  switch (msg.type) {
    case 'thread.started':
      return { kind: 'init', message: msg };
    case 'turn.completed':
      return { kind: 'result', message: msg };
    case 'turn.failed':
    case 'error':
      return { kind: 'result', message: msg, isError: true };
    case 'item.completed':
      return { kind: item.type === 'agent_message' ? 'assistant' : item.type === 'error' ? 'other' : 'tool_result', message: msg };
    case 'item.started':
    case 'item.updated':
      return { kind: 'partial', message: msg };
    default:
      return { kind: 'other', message: msg };
  }
}

/** Claude Code's permission modes, as a repository names them (repos[].permission_mode). */
type PermissionMode = RepoConfig['permissionMode'];

/**
 * The repository's permission mode as Codex's flags (`codex exec` never asks for approval):
 * default leaves Codex's own configuration alone (its exec default is a read-only sandbox),
 * plan is read-only, the modes that let Claude Code edit unasked write in the workspace, and
 * bypassPermissions runs without a sandbox. `-c` is taken by `exec` and `exec resume` alike.
 */
export function codexPermissionArgs(mode: PermissionMode): string[] {
  switch (mode) {
    case 'default':
      return [];
    case 'plan':
      return ['-c', 'sandbox_mode="read-only"'];
    case 'acceptEdits':
    case 'auto':
    case 'dontAsk':
      return ['-c', 'sandbox_mode="workspace-write"'];
    case 'bypassPermissions':
      return ['--dangerously-bypass-approvals-and-sandbox'];
  }
}

export interface CodexDriverOptions {
  bin: string;
  cwd: string;
  permissionMode: PermissionMode;
  env: NodeJS.ProcessEnv;
  /** Each line Codex prints (its JSON events), and a turn's end (`completed`: turn.completed seen). */
  onLine(line: string): void;
  onTurnEnd(turn: { completed: boolean; code: number | null; signal: string | null; stderr: string[] }): void;
  onExit(exit: DriverExit): void;
}

export function startCodex(o: CodexDriverOptions): SessionDriver {
  let thread: string | null = null;
  let running: ChildProcess | null = null;
  const queue: string[] = [];
  let ended = false;

  function runTurn(prompt: string): void {
    const args = ['exec', '--json', '--skip-git-repo-check', ...codexPermissionArgs(o.permissionMode), ...(thread ? ['resume', thread] : []), '--', prompt];
    const child = spawn(o.bin, args, { cwd: o.cwd, env: o.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    running = child;
    let completed = false;
    let buf = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line === '') continue;
        const started = /"type"\s*:\s*"thread\.started"[^}]*"thread_id"\s*:\s*"([^"]+)"/.exec(line);
        if (started) thread = started[1]!;
        if (/"type"\s*:\s*"turn\.completed"/.test(line)) completed = true;
        o.onLine(line);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-8192)));
    const done = (code: number | null, signal: string | null) => {
      if (running !== child) return;
      running = null;
      o.onTurnEnd({ completed, code, signal, stderr: err.trim().split('\n').filter(Boolean).slice(-10) });
      const next = queue.shift();
      if (next !== undefined && !ended) runTurn(next);
    };
    child.on('error', (e) => {
      err += `\n${e.message}`;
      done(null, null);
    });
    child.on('close', done);
  }

  const signal = (sig: NodeJS.Signals) => {
    const child = running;
    if (!child?.pid) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      child.kill(sig);
    }
  };

  return {
    kind: 'headless',
    pid: -1,
    async send(text) {
      if (ended) return false;
      if (running) queue.push(text);
      else runTurn(text);
      return true;
    },
    async cancel() {
      queue.length = 0;
      signal('SIGINT');
    },
    async stop(graceMs) {
      if (ended) return;
      ended = true;
      queue.length = 0;
      const child = running;
      if (child) {
        signal('SIGTERM');
        const exited = new Promise<void>((r) => child.once('close', () => r()));
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), graceMs)));
        if ((await Promise.race([exited.then(() => 'exited' as const), late])) === 'late') signal('SIGKILL');
        clearTimeout(timer);
        await exited;
      }
      o.onExit({ code: null, signal: null, lastLines: thread ? [`codex thread ${thread}`] : [] });
    },
  };
}
