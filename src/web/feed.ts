// The page's WebSocket client of the live feed (`/ws`, docs/websocket.md): every message is
// checked against the shared schemas, the seq of the last one is kept as it arrives (the store
// applies them a frame later), a gap asks for a fresh snapshot, and a drop reconnects with
// `?since=<seq>` after 0.25, 0.5, 1, then every 2 s. A hidden tab lets the socket go after a
// minute and takes it up again when shown; a silent socket (no pong to a ping) is replaced.
// The socket comes from the transport in use: the server's /ws, or a feed stream of a relay.
// Messages of a followed managed session go to its follower (session-follow.ts), not the store.
import { feedClosed, feedOpened, takeSessionMessage } from './session-follow.js';
import { enqueue, link, stale } from './store.js';
import { serverMessageSchema, STREAM_TYPES, type ServerMessage } from './shared.js';
import { transport, type FeedSocket } from './transport.js';

/** Every numbered stream message counts for gaps (one left out would make the next look like one). */
const STREAM = new Set<string>(STREAM_TYPES);
const RETRY_CAP_MS = 2000;
const PING_MS = 25_000;
const PONG_WAIT_MS = 5000;
const HIDDEN_CLOSE_MS = 60_000;

export interface FeedOptions {
  /** Called when a connection could not be opened, to see whether the session has gone. */
  onRefused?: () => void;
}

export function startFeed(o: FeedOptions = {}) {
  let ws: FeedSocket | null = null;
  let attempt = 0;
  let received: number | null = null;
  let resyncing = false;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let pingTimer: ReturnType<typeof setInterval> | null = null;
  let pongTimer: ReturnType<typeof setTimeout> | null = null;
  let hiddenTimer: ReturnType<typeof setTimeout> | null = null;
  let bad = 0;

  const query = (): string => (received !== null ? `since=${received}` : '');

  function onMessage(data: unknown): void {
    let parsed: ServerMessage;
    try {
      const r = serverMessageSchema.safeParse(JSON.parse(String(data)));
      if (!r.success) throw r.error;
      parsed = r.data;
    } catch (err) {
      bad += 1;
      if (bad <= 3) console.warn('token-api: a feed message outside the protocol was ignored', err);
      return;
    }
    if (pongTimer) {
      clearTimeout(pongTimer);
      pongTimer = null;
    }
    if (takeSessionMessage(parsed)) return;
    if (parsed.type === 'snapshot') {
      resyncing = false;
      received = parsed.seq;
    } else if (STREAM.has(parsed.type)) {
      if (resyncing) return; // the snapshot on its way replaces whatever this would change
      if (received !== null && parsed.seq > received + 1) {
        resyncing = true;
        ws?.send(JSON.stringify({ type: 'get_snapshot' }));
        return;
      }
      received = parsed.seq;
    }
    enqueue(parsed);
  }

  function clearTimers(): void {
    if (pingTimer) clearInterval(pingTimer);
    if (pongTimer) clearTimeout(pongTimer);
    pingTimer = null;
    pongTimer = null;
  }

  function connect(): void {
    retryTimer = null;
    if (ws) return;
    const socket = transport().openFeed(query());
    ws = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      attempt = 0;
      link.value = 'live';
      feedOpened((text) => socket.send(text));
      pingTimer = setInterval(() => {
        if (socket.readyState !== 1) return; // open
        socket.send(JSON.stringify({ type: 'ping' }));
        pongTimer ??= setTimeout(() => socket.close(4000, 'no answer to a ping'), PONG_WAIT_MS);
      }, PING_MS);
    };
    socket.onmessage = (e) => onMessage(e.data);
    socket.onclose = () => {
      if (ws !== socket) return;
      ws = null;
      resyncing = false;
      clearTimers();
      feedClosed();
      link.value = 'reconnecting';
      stale.value = true;
      if (!opened) o.onRefused?.();
      if (document.visibilityState === 'hidden') return; // taken up again when the tab is shown
      const delay = Math.min(RETRY_CAP_MS, 250 * 2 ** attempt);
      attempt += 1;
      retryTimer = setTimeout(connect, delay * (0.8 + Math.random() * 0.4));
    };
  }

  /** Reconnects at once (the network came back, the tab is shown again). */
  function now(): void {
    if (ws) return;
    if (retryTimer) clearTimeout(retryTimer);
    attempt = 0;
    connect();
  }

  function onVisibility(): void {
    if (document.visibilityState === 'visible') {
      if (hiddenTimer) clearTimeout(hiddenTimer);
      hiddenTimer = null;
      now();
    } else {
      hiddenTimer = setTimeout(() => {
        hiddenTimer = null;
        ws?.close(1000, 'hidden');
      }, HIDDEN_CLOSE_MS);
    }
  }

  addEventListener('online', now);
  document.addEventListener('visibilitychange', onVisibility);
  connect();
  return {
    /** Closes for good (logging out). */
    stop(): void {
      removeEventListener('online', now);
      document.removeEventListener('visibilitychange', onVisibility);
      if (retryTimer) clearTimeout(retryTimer);
      clearTimers();
      feedClosed();
      const s = ws;
      ws = null;
      s?.close(1000, 'done');
    },
  };
}
