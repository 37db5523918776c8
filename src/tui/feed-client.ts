// The dashboard's connection to the live feed: connects (with the API token when given),
// checks every message against the shared schemas, resumes with `?since=<seq>` after a drop,
// asks for a fresh snapshot when it sees a gap, and reconnects on its own with a growing
// delay, on the injected clock. It reports its state in plain words, never a stack trace.
import WebSocket from 'ws';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { serverMessageSchema, STREAM_TYPES, type ServerMessage } from '../protocol/feed.js';

export type FeedStatus =
  | { status: 'connecting'; attempt: number }
  | { status: 'open' }
  | { status: 'disconnected'; reason: string; retryAt: number; attempt: number };

export interface FeedClientOptions {
  /** ws:// or wss:// URL of the feed (…/ws). */
  url: string;
  token?: string;
  clock: Clock;
  onMessage(m: ServerMessage): void;
  onStatus(s: FeedStatus): void;
  /** A message that did not match the protocol (kept out of the picture). */
  onProblem?(text: string): void;
  /** Delays before successive reconnection attempts (the last one repeats). */
  retryDelaysMs?: number[];
  /** With no message or ping for this long, the connection is taken as dead. */
  silenceMs?: number;
}

const STREAM = new Set<string>(STREAM_TYPES);

/** Words for why a connection attempt failed. */
function reasonOf(err: Error & { code?: string }): string {
  if (err.code === 'ECONNREFUSED') return `token-api is not reachable (connection refused)`;
  if (err.code === 'ENOTFOUND') return `no such host`;
  if (err.code === 'ECONNRESET') return 'the connection was reset';
  if (err.code === 'ETIMEDOUT') return 'the connection timed out';
  return err.message;
}

export function createFeedClient(opts: FeedClientOptions) {
  const delays = opts.retryDelaysMs ?? [500, 1000, 2000, 4000, 5000];
  const silenceMs = opts.silenceMs ?? 75_000;
  let ws: WebSocket | null = null;
  let lastSeq: number | null = null;
  /** A snapshot was asked for after a gap: stream messages wait for it. */
  let awaitingSnapshot = false;
  let failures = 0;
  let retryTimer: TimerHandle | undefined;
  let watchTimer: TimerHandle | undefined;
  let lastHeard = 0;
  let stopped = false;
  let lastReason = '';

  function watch(): void {
    watchTimer = opts.clock.setTimeout(() => {
      if (!ws || ws.readyState !== WebSocket.OPEN) return;
      if (opts.clock.now() - lastHeard >= silenceMs) {
        lastReason = 'the server stopped answering';
        ws.terminate();
        return;
      }
      watch();
    }, Math.min(silenceMs, 15_000));
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
    const url = lastSeq === null ? opts.url : `${opts.url}${opts.url.includes('?') ? '&' : '?'}since=${lastSeq}`;
    const socket = new WebSocket(url, { headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {}, handshakeTimeout: 10_000 });
    ws = socket;
    lastReason = '';
    socket.on('unexpected-response', (req, res) => {
      // The server refused the connection: its answer says why, in the API's error shape.
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d.slice(0, 4096)));
      res.on('end', () => {
        let message = `the server answered ${res.statusCode}`;
        try {
          const e = JSON.parse(body) as { message?: unknown };
          if (typeof e.message === 'string') message = `${message}: ${e.message}`;
        } catch {
          /* not the error shape */
        }
        lastReason = message;
        req.destroy(new Error(message));
      });
    });
    socket.on('open', () => {
      failures = 0;
      lastHeard = opts.clock.now();
      awaitingSnapshot = false;
      opts.onStatus({ status: 'open' });
      watch();
    });
    socket.on('message', (data, isBinary) => {
      lastHeard = opts.clock.now();
      if (!isBinary) handle(data.toString());
    });
    socket.on('ping', () => (lastHeard = opts.clock.now()));
    socket.on('error', (err: Error & { code?: string }) => {
      lastReason ||= reasonOf(err);
    });
    socket.on('close', (code, reasonBuf) => {
      if (ws !== socket) return;
      ws = null;
      opts.clock.clearTimeout(watchTimer);
      if (stopped) return;
      const said = reasonBuf.toString();
      const reason = said ? `the server closed the connection: ${said}` : lastReason || (code === 1006 ? 'the connection was lost' : `closed (${code})`);
      const delay = delays[Math.min(failures, delays.length - 1)]!;
      failures += 1;
      const retryAt = opts.clock.now() + delay;
      opts.onStatus({ status: 'disconnected', reason, retryAt, attempt: failures });
      retryTimer = opts.clock.setTimeout(connect, delay);
    });
  }

  function send(m: { type: string } & Record<string, unknown>): boolean {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(m));
    return true;
  }

  return {
    start: connect,
    send,
    /** A fresh snapshot now; when disconnected, a reconnection attempt now. */
    refresh(): void {
      if (send({ type: 'get_snapshot' })) return;
      if (!ws) connect();
    },
    stop(): void {
      stopped = true;
      opts.clock.clearTimeout(retryTimer);
      opts.clock.clearTimeout(watchTimer);
      if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) ws.close(1000, 'dashboard closed');
      ws = null;
    },
    lastSeq: () => lastSeq,
  };
}

export type FeedClient = ReturnType<typeof createFeedClient>;
