// The dashboard's connection to the live feed, over whatever transport it was given (direct or
// through a relay): checks every message against the shared schemas, resumes with
// `since=<seq>` after a drop, asks for a fresh snapshot when it sees a gap, pings a quiet link
// and drops a silent one, and reconnects on its own with a growing delay, on the injected clock
// (not after a final refusal such as a revoked token: then it waits for `refresh`). It reports
// its state in plain words, never a stack trace.
import type { Clock, TimerHandle } from '../lib/clock.js';
import { serverMessageSchema, STREAM_TYPES, type ServerMessage } from '../protocol/feed.js';
import type { FeedLink, Transport } from './transport.js';

export type FeedStatus =
  | { status: 'connecting'; attempt: number }
  | { status: 'open' }
  | { status: 'disconnected'; reason: string; retryAt: number; attempt: number }
  /** Trying again will not help until the person acts (a revoked token): no retry until `refresh`. */
  | { status: 'refused'; reason: string };

export interface FeedClientOptions {
  /** Opens one connection to the feed (a transport's openFeed). */
  open: Transport['openFeed'];
  clock: Clock;
  onMessage(m: ServerMessage): void;
  onStatus(s: FeedStatus): void;
  /** A message that did not match the protocol (kept out of the picture). */
  onProblem?(text: string): void;
  /** Delays before successive reconnection attempts (the last one repeats). */
  retryDelaysMs?: number[];
  /** With no message or ping for this long, the connection is taken as dead. */
  silenceMs?: number;
  /** With nothing heard for this long, the dashboard sends a feed `ping` (a relay passes no WebSocket pings on). */
  quietMs?: number;
}

const STREAM = new Set<string>(STREAM_TYPES);

export function createFeedClient(opts: FeedClientOptions) {
  const delays = opts.retryDelaysMs ?? [500, 1000, 2000, 4000, 5000];
  const silenceMs = opts.silenceMs ?? 75_000;
  const quietMs = opts.quietMs ?? 30_000;
  let link: FeedLink | null = null;
  let open = false;
  let lastSeq: number | null = null;
  /** A snapshot was asked for after a gap: stream messages wait for it. */
  let awaitingSnapshot = false;
  let failures = 0;
  let retryTimer: TimerHandle | undefined;
  let watchTimer: TimerHandle | undefined;
  let lastHeard = 0;
  let stopped = false;

  function watch(): void {
    watchTimer = opts.clock.setTimeout(() => {
      if (!link || !open) return;
      const quiet = opts.clock.now() - lastHeard;
      if (quiet >= silenceMs) return link.terminate('the server stopped answering');
      if (quiet >= quietMs) send({ type: 'ping' });
      watch();
    }, Math.min(silenceMs, quietMs, 15_000));
  }

  function handle(text: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      opts.onProblem?.('the server sent something that is not JSON');
      return;
    }
    const parsed = serverMessageSchema.safeParse(raw);
    if (!parsed.success) {
      opts.onProblem?.(`the server sent a message this dashboard does not understand (${String((raw as { type?: unknown })?.type ?? 'no type')})`);
      return;
    }
    const m = parsed.data;
    if (m.type === 'snapshot') {
      awaitingSnapshot = false;
      lastSeq = m.seq;
    } else if (STREAM.has(m.type)) {
      if (awaitingSnapshot) return;
      if (lastSeq !== null && m.seq <= lastSeq) return;
      if (lastSeq !== null && m.seq !== lastSeq + 1) {
        // A gap: the picture would be partial. Start again from a snapshot.
        awaitingSnapshot = true;
        send({ type: 'get_snapshot' });
        return;
      }
      lastSeq = m.seq;
    }
    opts.onMessage(m);
  }

  function connect(): void {
    if (stopped) return;
    opts.clock.clearTimeout(retryTimer);
    retryTimer = undefined;
    opts.onStatus({ status: 'connecting', attempt: failures + 1 });
    open = false;
    const mine: { link: FeedLink | null } = { link: null };
    const current = () => link !== null && link === mine.link;
    mine.link = link = opts.open(lastSeq === null ? '' : `since=${lastSeq}`, {
      onOpen: () => {
        if (!current()) return;
        open = true;
        failures = 0;
        lastHeard = opts.clock.now();
        awaitingSnapshot = false;
        opts.onStatus({ status: 'open' });
        watch();
      },
      onMessage: (text) => {
        if (!current()) return;
        lastHeard = opts.clock.now();
        handle(text);
      },
      onAlive: () => {
        if (current()) lastHeard = opts.clock.now();
      },
      onClose: (reason, final) => {
        if (!current()) return;
        link = null;
        open = false;
        opts.clock.clearTimeout(watchTimer);
        if (stopped) return;
        if (final) return opts.onStatus({ status: 'refused', reason });
        const delay = delays[Math.min(failures, delays.length - 1)]!;
        failures += 1;
        const retryAt = opts.clock.now() + delay;
        opts.onStatus({ status: 'disconnected', reason, retryAt, attempt: failures });
        retryTimer = opts.clock.setTimeout(connect, delay);
      },
    });
  }

  function send(m: { type: string } & Record<string, unknown>): boolean {
    return link !== null && open && link.send(JSON.stringify(m));
  }

  return {
    start: connect,
    send,
    /** A fresh snapshot now; when disconnected, a reconnection attempt now. */
    refresh(): void {
      if (send({ type: 'get_snapshot' })) return;
      if (!link) connect();
    },
    stop(): void {
      stopped = true;
      opts.clock.clearTimeout(retryTimer);
      opts.clock.clearTimeout(watchTimer);
      link?.close();
      link = null;
    },
    lastSeq: () => lastSeq,
  };
}

export type FeedClient = ReturnType<typeof createFeedClient>;
