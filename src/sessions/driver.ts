// What the sessions service asks of a running agent, whatever runs it: a headless child
// (headless-child.ts) or a pane of token-api's tmux server (terminal.ts).
export interface SessionDriver {
  kind: 'headless' | 'terminal';
  pid: number;
  /** Hands a prompt to the agent; false when it can no longer take one. */
  send(text: string): Promise<boolean>;
  /** Interrupts the current turn: an interrupt request (headless), Escape (terminal). */
  cancel(): Promise<void>;
  /** Ends the agent; resolves once its exit has been reported. */
  stop(graceMs: number): Promise<void>;
  /** Terminal sessions: the current screen now, then each change while subscribed. */
  watchScreen?(listener: (screen: string) => void): () => void;
}

export interface DriverExit {
  code: number | null;
  signal: string | null;
  lastLines: string[];
}
