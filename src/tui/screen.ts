// The blessed side of the dashboard: one full-screen box for the frame's lines and one
// bordered box for its overlay, painted from view.ts's Frame. Paints are throttled: however
// many changes arrive, the screen is drawn at most once per `minIntervalMs` (50 ms), on the
// injected clock. blessed needs `terminal: 'xterm-256color'` and `warnings: false` on current
// terminfo; input and output are injectable, so tests draw on fake streams.
import blessed from 'blessed';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Frame } from './view.js';

export interface ScreenOptions {
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  clock: Clock;
  /** Shortest time between two paints. */
  minIntervalMs?: number;
  title?: string;
}

export interface KeyPress {
  /** blessed's name for the key: "q", "up", "enter", "C-c", "S-g"… */
  full: string;
  ch: string | undefined;
}

export function createScreen(opts: ScreenOptions) {
  const minInterval = opts.minIntervalMs ?? 50;
  const screen = blessed.screen({
    // @types/blessed has input and output the wrong way round (a Writable input).
    input: opts.input as never,
    output: opts.output as never,
    terminal: 'xterm-256color',
    warnings: false,
    smartCSR: true,
    fullUnicode: true,
    // The dashboard draws Unicode (● ─ │ →) and writes it as UTF-8, as every current
    // terminal reads it, whatever LANG says.
    forceUnicode: true,
    autoPadding: false,
    title: opts.title ?? 'token-api',
  });
  // Not the terminal's line-drawing set (ACS) for ─ and │: mixed with UTF-8 it is what
  // ncurses calls broken (NCURSES_NO_UTF8_ACS), and tmux's pane copy shows it as q and x.
  (screen as unknown as { tput: { brokenACS: boolean } }).tput.brokenACS = true;
  screen.program.hideCursor();
  const main = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: '100%', tags: true, wrap: false, content: '' });
  const overlay = blessed.box({
    parent: screen,
    top: 'center',
    left: 'center',
    width: 40,
    height: 5,
    tags: true,
    wrap: false,
    border: { type: 'line' },
    style: { border: { fg: 'cyan' }, label: { bold: true } },
    hidden: true,
    content: '',
  });

  /** blessed's screen buffer: rows of [attribute, character] cells (not in its typings). */
  const cells = () => (screen as unknown as { lines: [number, string][][] }).lines;

  let frameOf: (() => Frame) | null = null;
  let timer: TimerHandle | undefined;
  let lastPaint = -Infinity;
  let paints = 0;
  let destroyed = false;

  function paint(): void {
    timer = undefined;
    if (destroyed || !frameOf) return;
    lastPaint = opts.clock.now();
    paints += 1;
    const frame = frameOf();
    main.setContent(frame.lines.join('\n'));
    if (frame.overlay) {
      overlay.width = frame.overlay.width;
      overlay.height = frame.overlay.height;
      overlay.setLabel(frame.overlay.title);
      overlay.setContent(frame.overlay.lines.join('\n'));
      overlay.show();
    } else overlay.hide();
    screen.render();
  }

  return {
    /** Where frames come from (the store and the clock, through view.ts). */
    setSource(source: () => Frame): void {
      frameOf = source;
    },

    /** Asks for a paint: now when the last one was long enough ago, else when it is due. */
    invalidate(): void {
      if (destroyed || timer !== undefined) return;
      const wait = lastPaint + minInterval - opts.clock.now();
      timer = opts.clock.setTimeout(paint, Math.max(0, wait));
    },

    /** Paints at once (first frame, tests). */
    paintNow(): void {
      opts.clock.clearTimeout(timer);
      paint();
    },

    size: () => ({ width: screen.width as number, height: screen.height as number }),
    onResize(fn: (size: { width: number; height: number }) => void): void {
      screen.on('resize', () => fn({ width: screen.width as number, height: screen.height as number }));
    },
    onKey(fn: (key: KeyPress) => void): void {
      screen.on('keypress', (ch: string | undefined, key: { full?: string; name?: string } | undefined) => fn({ full: key?.full ?? key?.name ?? ch ?? '', ch }));
    },

    /** The characters on each row as the terminal shows them (for tests). */
    rows(): string[] {
      return cells().map((row) => row.map((cell) => cell[1]).join(''));
    },
    /** blessed's attribute of one cell: flags << 18 | fg << 9 | bg. */
    attr(row: number, col: number): number {
      return cells()[row]?.[col]?.[0] ?? 0;
    },

    paints: () => paints,
    destroy(): void {
      if (destroyed) return;
      destroyed = true;
      opts.clock.clearTimeout(timer);
      screen.destroy();
    },
  };
}

export type DashboardScreen = ReturnType<typeof createScreen>;
