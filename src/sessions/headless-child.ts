// One headless agent process: `claude -p` speaking stream-json on stdin/stdout, in its own
// process group (a Ctrl-C on the server's terminal must not reach it). Output is split into
// lines (a line over the limit is cut, never buffered without end), the last lines are kept
// for the exit report, and a write to a child that has gone is dropped, never thrown.
import { spawn, type ChildProcess } from 'node:child_process';
import { controlRequest, userLine } from './stream-json.js';

export interface HeadlessChildOptions {
  bin: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  claudeSessionId: string;
  permissionMode: string;
  /** A line longer than this is cut (the rest until its newline is dropped). */
  maxLineBytes?: number;
  onLine(line: string): void;
  onExit(exit: { code: number | null; signal: string | null; lastLines: string[] }): void;
}

export interface HeadlessChild {
  pid: number;
  sendPrompt(text: string): boolean;
  /** Asks the agent to stop the current turn (and drop queued prompts); returns the request id. */
  interrupt(): string;
  /** SIGTERM to the process group; SIGKILL after graceMs if it has not exited. */
  stop(graceMs: number): Promise<void>;
  /** SIGKILL to the process group at once. */
  kill(): void;
  exited: Promise<void>;
}

const LAST_LINES = 50;

export function spawnHeadless(o: HeadlessChildOptions): HeadlessChild {
  const args = ['-p', '--input-format', 'stream-json', '--output-format', 'stream-json', '--verbose', '--include-partial-messages', '--session-id', o.claudeSessionId, '--permission-mode', o.permissionMode];
  const child: ChildProcess = spawn(o.bin, args, { cwd: o.cwd, env: o.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  const maxLine = o.maxLineBytes ?? 8 * 1024 * 1024;
  const last: string[] = [];
  const remember = (line: string) => {
    last.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
    if (last.length > LAST_LINES) last.shift();
  };
  let requestSeq = 0;
  let done = false;
  let resolveExited!: () => void;
  const exited = new Promise<void>((r) => (resolveExited = r));

  const finish = (code: number | null, signal: string | null) => {
    if (done) return;
    done = true;
    o.onExit({ code, signal, lastLines: [...last] });
    resolveExited();
  };

  lines(child.stdout!, maxLine, (line) => {
    remember(line);
    o.onLine(line);
  });
  lines(child.stderr!, maxLine, (line) => remember(`stderr: ${line}`));
  child.stdin!.on('error', () => undefined);
  child.on('error', (err) => {
    remember(`spawn: ${err.message}`);
    finish(null, null);
  });
  child.on('close', (code, signal) => finish(code, signal));

  const write = (line: string): boolean => {
    if (done || !child.stdin!.writable) return false;
    child.stdin!.write(`${line}\n`);
    return true;
  };
  const signalGroup = (sig: NodeJS.Signals) => {
    if (done || child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      try {
        child.kill(sig);
      } catch {
        // already gone
      }
    }
  };

  // The initialize request: its answer says the agent is up.
  write(controlRequest('init', 'initialize'));

  return {
    pid: child.pid ?? -1,
    sendPrompt: (text) => write(userLine(text)),
    interrupt() {
      const id = `interrupt-${++requestSeq}`;
      write(controlRequest(id, 'interrupt'));
      return id;
    },
    async stop(graceMs) {
      if (done) return;
      signalGroup('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), graceMs)));
      const how = await Promise.race([exited.then(() => 'exited' as const), late]);
      clearTimeout(timer);
      if (how === 'late') {
        signalGroup('SIGKILL');
        await exited;
      }
    },
    kill: () => signalGroup('SIGKILL'),
    exited,
  };
}

/** Calls `onLine` for each line of a stream (without its newline); a line over `max` bytes is cut there. */
function lines(stream: NodeJS.ReadableStream, max: number, onLine: (line: string) => void): void {
  let buf = '';
  let skipping = false;
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    let start = 0;
    for (let nl = chunk.indexOf('\n', start); nl !== -1; nl = chunk.indexOf('\n', start)) {
      const piece = chunk.slice(start, nl);
      start = nl + 1;
      if (skipping) {
        skipping = false;
        buf = '';
        continue;
      }
      const line = buf + piece;
      buf = '';
      onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    if (skipping) return;
    buf += chunk.slice(start);
    if (buf.length > max) {
      onLine(buf.slice(0, max));
      buf = '';
      skipping = true;
    }
  });
  stream.on('end', () => {
    if (buf && !skipping) onLine(buf);
    buf = '';
  });
}
