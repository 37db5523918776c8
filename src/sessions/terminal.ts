// Terminal sessions: the interactive agent in a pane of token-api's tmux server (tmux.ts), so
// that a person can attach at the desk while prompts arrive from anywhere. Prompts are typed
// as a bracketed paste and Enter, cancel is Escape (never a second Ctrl-C, which quits). A
// monitor polls the panes: a dead or vanished pane is the agent's exit (with its status and
// last screen lines). Viewers get the whole screen (capture-pane) at once and again whenever
// it changes, polled only while someone watches: a slow viewer gets the current screen, never
// a backlog.
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { DriverExit, SessionDriver } from './driver.js';
import type { PaneInfo, Tmux } from './tmux.js';
import { readScreen, type ScreenState } from './terminal-screen.js';

/**
 * How long a dead pane may wait for tmux to learn its exit status before it is reported without
 * one. tmux (3.3a) usually has it at the next check, but now and then never does.
 */
const DEAD_STATUS_WAIT_MS = 5_000;

export interface TerminalDeps {
  tmux: Tmux;
  clock: Clock;
  logger: Logger;
  /** How often panes are checked for an exit. */
  monitorMs: number;
  /** How often a watched screen is captured. */
  screenMs: number;
}

interface Watched {
  name: string;
  onExit(exit: DriverExit): void;
  exited: boolean;
  /** When a check first found the pane dead with neither its status nor its signal yet (tmux learns them later). */
  deadWithoutStatusSince: number | null;
}

export const paneName = (sessionId: string) => `tapi-${sessionId}`;

export function createTerminals(deps: TerminalDeps) {
  const { tmux, clock } = deps;
  const watched = new Map<string, Watched>();
  let timer: TimerHandle | undefined;
  let checking: Promise<void> | null = null;

  async function lastLines(name: string): Promise<string[]> {
    try {
      const text = await tmux.tail(name, 50);
      return text.split('\n').map((l) => l.trimEnd()).filter(Boolean).slice(-20);
    } catch {
      return [];
    }
  }

  async function report(id: string, w: Watched, status: number | null, signal: string | null = null): Promise<void> {
    if (w.exited) return;
    w.exited = true;
    watched.delete(id);
    const lines = await lastLines(w.name);
    await tmux.kill(w.name);
    w.onExit({ code: status, signal, lastLines: lines });
  }

  async function check(): Promise<void> {
    const panes = new Map((await tmux.panes()).map((p) => [p.session, p]));
    for (const [id, w] of watched) {
      const pane = panes.get(w.name);
      if (pane?.dead && pane.status === null && pane.signal === null) {
        // tmux may see the pane's end before the process's status (seconds later on a busy
        // machine): look again at the next checks, for a while.
        w.deadWithoutStatusSince ??= clock.now();
        if (clock.now() - w.deadWithoutStatusSince < DEAD_STATUS_WAIT_MS) continue;
        deps.logger.warn({ session: id, waited_ms: clock.now() - w.deadWithoutStatusSince }, 'terminal session ended, but tmux never gave its exit status');
      }
      if (!pane || pane.dead) await report(id, w, pane?.status ?? null, pane?.signal ?? null);
    }
  }

  function schedule(): void {
    if (timer !== undefined || watched.size === 0) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      checking = check()
        .catch((err: unknown) => deps.logger.warn({ err }, 'terminal sessions: checking panes failed'))
        .finally(() => {
          checking = null;
          schedule();
        });
    }, deps.monitorMs);
  }

  function driver(id: string, pid: number, onExit: (exit: DriverExit) => void): SessionDriver {
    const name = paneName(id);
    const w: Watched = { name, onExit, exited: false, deadWithoutStatusSince: null };
    watched.set(id, w);
    schedule();
    return {
      kind: 'terminal',
      pid,
      async send(text) {
        if (w.exited) return false;
        await tmux.sendText(name, text);
        return true;
      },
      cancel: () => tmux.sendKey(name, 'Escape'),
      // The pane's last lines are read before it is killed.
      stop: () => report(id, w, null),
      watchScreen(listener) {
        let last: string | null = null;
        let stopped = false;
        let handle: TimerHandle | undefined;
        const tick = async () => {
          try {
            const screen = await tmux.capture(name);
            if (!stopped && screen !== last) {
              last = screen;
              listener(screen);
            }
          } catch {
            // the pane is gone: the monitor reports the exit
          }
          if (!stopped && !w.exited) handle = clock.setTimeout(() => void tick(), deps.screenMs);
        };
        void tick();
        return () => {
          stopped = true;
          clock.clearTimeout(handle);
        };
      },
    };
  }

  return {
    /** Starts the agent in a new pane; resolves with its driver once tmux has it. */
    async start(o: { id: string; cwd: string; env: Record<string, string>; command: string[]; onExit(exit: DriverExit): void }): Promise<SessionDriver> {
      await tmux.newSession(paneName(o.id), o.id, o.cwd, o.env, o.command);
      const pane = (await tmux.panes()).find((p) => p.session === paneName(o.id));
      return driver(o.id, pane?.pid ?? -1, o.onExit);
    },
    /** After a restart: the pane of a session, if it is still alive. */
    async find(id: string): Promise<PaneInfo | null> {
      return (await tmux.panes()).find((p) => p.session === paneName(id) && p.tapiSession === id && !p.dead) ?? null;
    },
    /** Takes a pane found after a restart back under watch. */
    adopt: (id: string, pid: number, onExit: (exit: DriverExit) => void) => driver(id, pid, onExit),
    /** How a person attaches to a session's terminal. */
    attachCommand: (id: string) => tmux.attachCommand(paneName(id)),
    /** What the screen shows now (`other` when the pane is gone). */
    async screenNow(id: string): Promise<ScreenState> {
      try {
        return readScreen(await tmux.capture(paneName(id)));
      } catch {
        return { kind: 'other' };
      }
    },
    /** Waits until the screen shows the agent's prompt or a question, at most `ms` (`other`: neither came). */
    async waitForScreen(id: string, ms: number): Promise<ScreenState> {
      const until = clock.now() + ms;
      while (clock.now() < until) {
        let state: ScreenState;
        try {
          state = readScreen(await tmux.capture(paneName(id)));
        } catch {
          return { kind: 'other' };
        }
        if (state.kind !== 'other') return state;
        await new Promise<void>((r) => clock.setTimeout(r, 50));
      }
      return { kind: 'other' };
    },
    /** Stops watching (the panes keep running: a person may be using them). */
    async close(): Promise<void> {
      clock.clearTimeout(timer);
      timer = undefined;
      watched.clear();
      await checking;
    },
  };
}

export type Terminals = ReturnType<typeof createTerminals>;
