// token-api's own tmux server (socket in the data directory), where terminal sessions run so
// that a person can also attach at the desk (`tmux -S <data dir>/tmux.sock attach -t tapi-…`).
// Options come from a config file written at first use: no status line (the pane is the whole
// window), dead panes kept with their exit status, focus events on. Every call is a tmux
// command run with execFile (no shell); the text of a prompt goes through a paste buffer
// (bracketed paste), keys by name.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { constants } from 'node:os';

export interface PaneInfo {
  session: string;
  /** The session id token-api set on it (@tapi_session), or '' when none. */
  tapiSession: string;
  pid: number;
  dead: boolean;
  status: number | null;
  /** The signal that ended a dead pane's process (SIGINT...), or null. */
  signal: string | null;
}

/** tmux gives a signal's number: its name, as Node names signals. */
function signalName(n: string): string | null {
  if (n === '') return null;
  const name = Object.entries(constants.signals).find(([, v]) => v === Number(n))?.[0];
  return name ?? `signal ${n}`;
}

export interface TmuxOptions {
  socket: string;
  configFile: string;
  bin?: string;
}

export function createTmux(o: TmuxOptions) {
  const bin = o.bin ?? 'tmux';
  let configured = false;

  function run(args: string[], input?: string): Promise<string> {
    if (!configured) {
      writeFileSync(o.configFile, 'set -g status off\nset -g remain-on-exit on\nset -g focus-events on\nset -g history-limit 5000\n');
      configured = true;
    }
    return new Promise((resolve, reject) => {
      const child = execFile(bin, ['-S', o.socket, '-f', o.configFile, ...args], { maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`tmux ${args[0]}: ${String(stderr).trim() || err.message}`));
        else resolve(String(stdout));
      });
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input ?? '');
    });
  }

  return {
    /** The command a person types to see and use a session's terminal. */
    attachCommand: (session: string) => `tmux -S ${o.socket} attach -t ${session}`,
    /** A detached session running `command` in `cwd`, with `env` added to its environment. */
    async newSession(name: string, sessionId: string, cwd: string, env: Record<string, string>, command: string[], size = { cols: 120, rows: 40 }): Promise<void> {
      const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
      await run(['new-session', '-d', '-s', name, '-x', String(size.cols), '-y', String(size.rows), '-c', cwd, ...envArgs, '--', ...command]);
      await run(['set-option', '-t', name, '@tapi_session', sessionId]);
    },
    /** Every pane of the server; [] when no server runs; throws when tmux fails otherwise (nothing is known then). */
    async panes(): Promise<PaneInfo[]> {
      let out: string;
      try {
        out = await run(['list-panes', '-a', '-F', '#{session_name}\t#{@tapi_session}\t#{pane_pid}\t#{pane_dead}\t#{pane_dead_status}\t#{pane_dead_signal}']);
      } catch (err) {
        if (/no server running|error connecting|No such file or directory/i.test((err as Error).message)) return [];
        throw err;
      }
      return out
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [session = '', tapiSession = '', pid = '0', dead = '0', status = '', signal = ''] = line.split('\t');
          return { session, tapiSession, pid: Number(pid), dead: dead === '1', status: status === '' ? null : Number(status), signal: signalName(signal) };
        });
    },
    /** Types text as a bracketed paste, then Enter. */
    async sendText(name: string, text: string): Promise<void> {
      await run(['load-buffer', '-b', `tapi-${name}`, '-'], text);
      await run(['paste-buffer', '-p', '-d', '-b', `tapi-${name}`, '-t', name]);
      await run(['send-keys', '-t', name, 'Enter']);
    },
    sendKey: (name: string, key: 'Escape' | 'C-c') => run(['send-keys', '-t', name, key]).then(() => undefined),
    /** The visible screen, with colours and attributes as escape sequences. */
    capture: (name: string) => run(['capture-pane', '-p', '-e', '-t', name]),
    /** The last `lines` lines as plain text, scrollback included (a dead pane's last words). */
    tail: (name: string, lines: number) => run(['capture-pane', '-p', '-J', '-S', String(-lines), '-t', name]),
    kill: (name: string) => run(['kill-session', '-t', name]).then(
      () => undefined,
      () => undefined,
    ),
  };
}

export type Tmux = ReturnType<typeof createTmux>;
