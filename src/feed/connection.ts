// One client of the live feed: what it subscribed to, the last seq it was given, and its
// bounded queue. Every message to the client (stream messages, snapshots, replies) goes through
// one bound: a client whose socket buffer (ws's bufferedAmount) would pass the limit is sent
// nothing more; once it has drained it gets a fresh snapshot, so it never holds a partial
// picture, and one still behind after slow_client_seconds is disconnected, whatever it sends.
// Snapshots a client asks for come at most once per snapshot interval (later requests are
// folded into one). Its requests (subscribe, get_history, get_snapshot, ping) are answered
// here; a bad one gets an `error` and the connection stays up.
import type { WebSocket, RawData } from 'ws';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { fieldsInWords, parseInWords, sentenceOfFields } from '../lib/validation-words.js';
import { clientMessageSchema, STREAM_TYPES, type ClientMessage, type StreamType } from '../protocol/feed.js';
import type { FeedRing, HeldMessage } from './ring.js';
import { createSessionFollows, type FollowFn } from './session-follows.js';

/** A message as UTF-8 JSON: type, seq and at first, then the other fields. */
export function messageData(type: string, seq: number, at: string, fields: string): Buffer {
  return Buffer.from(`{"type":"${type}","seq":${seq},"at":"${at}"${fields ? `,${fields}` : ''}}`, 'utf8');
}

export interface ConnectionDeps {
  ring: FeedRing;
  /** A snapshot of the committed picture now, and the seq it stands at. */
  snapshot(): { seq: number; data: Buffer };
  nowIso(): string;
  maxBufferedBytes: number;
  slowClientMs: number;
  /** A client gets at most one snapshot it asked for (get_snapshot, subscribe) per this many ms. */
  snapshotIntervalMs: number;
  /** Time and timers (the slow-client deadline, a deferred snapshot). */
  clock: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>;
  /** Called once the socket is closed (or terminated). */
  onClosed(): void;
  /** Something worth a log line (a slow client dropped, a dead one removed). */
  log(what: string, details: Record<string, unknown>): void;
  /** The client stayed behind past slow_client_seconds and is being disconnected. */
  onSlow(): void;
  /** A decision on a pending permission request (`permission_response`); resolves with the approval's view. Absent: refused. */
  decide?(approvalId: string, behavior: 'allow' | 'deny', message: string | undefined): Promise<unknown>;
  /** Follows a managed session's output (`subscribe_session`, src/feed/session-follows.ts). Absent: refused. */
  followSession?: FollowFn;
}

export interface ConnectionStats {
  sent: number;
  resyncs: number;
  lagging: boolean;
  /** Bytes waiting in this client's socket buffer now. */
  buffered: number;
}

const KNOWN_REQUESTS = ['subscribe', 'get_history', 'get_snapshot', 'ping', 'permission_response', 'subscribe_session', 'unsubscribe_session'];

export function createConnection(ws: WebSocket, deps: ConnectionDeps, opts: { types?: readonly StreamType[]; remote: string | undefined }) {
  let types = new Set<StreamType>(opts.types ?? STREAM_TYPES);
  /** The newest seq this client's picture includes (stream messages at or below it are skipped). */
  let lastSeq = -1;
  /** When the client fell behind, or null while it keeps up. */
  let laggingSince: number | null = null;
  let heard = true;
  let awaitingPong = false;
  let sent = 0;
  let resyncs = 0;
  let closed = false;
  let markClosed: () => void = () => undefined;
  const whenClosed = new Promise<void>((resolve) => (markClosed = resolve));
  /** Disconnects the client if it is still behind when it falls due. */
  let slowTimer: TimerHandle | undefined;
  /** When the last snapshot the client asked for went out (-Infinity: never), and one waiting for its turn. */
  let lastRequestedAt = -Infinity;
  let snapshotTimer: TimerHandle | undefined;
  const { clock } = deps;

  const lowWater = Math.floor(deps.maxBufferedBytes / 4);

  const follows = deps.followSession
    ? createSessionFollows({
        follow: deps.followSession,
        send: (type, fields, id) => reply(type, fields, id),
        error: (code, message, id) => error(code, message, id),
        slow: () => laggingSince !== null || ws.bufferedAmount > lowWater,
      })
    : null;

  ws.on('close', () => {
    if (closed) return;
    closed = true;
    follows?.stopAll();
    clock.clearTimeout(slowTimer);
    clock.clearTimeout(snapshotTimer);
    deps.onClosed();
    markClosed();
  });
  ws.on('error', () => undefined);
  ws.on('pong', () => {
    heard = true;
    awaitingPong = false;
  });
  ws.on('message', (data, isBinary) => {
    heard = true;
    awaitingPong = false;
    handle(data, isBinary);
  });

  function afterWrite(err?: Error): void {
    if (err || laggingSince === null || closed) return;
    if (ws.bufferedAmount <= lowWater) resync();
  }

  /** The one way bytes reach the client: sent unless its buffer would pass the limit, in which case it falls behind. */
  function write(data: Buffer): boolean {
    if (closed || ws.readyState !== ws.OPEN) return false;
    if (laggingSince !== null) return false;
    const buffered = ws.bufferedAmount;
    if (buffered > 0 && buffered + data.length > deps.maxBufferedBytes) {
      fallBehind(buffered);
      return false;
    }
    sent += 1;
    ws.send(data, { binary: false }, afterWrite);
    return true;
  }

  function fallBehind(buffered: number): void {
    laggingSince = clock.now();
    deps.log('feed client fell behind; it gets a fresh snapshot once it catches up', { remote: opts.remote, buffered });
    clock.clearTimeout(slowTimer);
    slowTimer = clock.setTimeout(() => {
      slowTimer = undefined;
      if (laggingSince === null || closed) return;
      deps.onSlow();
      ws.terminate();
    }, deps.slowClientMs);
  }

  /** A snapshot now (through the bound): the client's picture starts again from its seq. */
  function sendSnapshot(): void {
    const s = deps.snapshot();
    if (write(s.data)) lastSeq = s.seq;
  }

  /** A snapshot the client asked for: now, or once the snapshot interval has passed (one for all requests meanwhile). */
  function requestSnapshot(): void {
    if (snapshotTimer !== undefined) return;
    const wait = lastRequestedAt + deps.snapshotIntervalMs - clock.now();
    const send = () => {
      lastRequestedAt = clock.now();
      sendSnapshot();
    };
    if (wait <= 0) send();
    else {
      snapshotTimer = clock.setTimeout(() => {
        snapshotTimer = undefined;
        if (!closed) send();
      }, wait);
    }
  }

  function resync(): void {
    laggingSince = null;
    clock.clearTimeout(slowTimer);
    slowTimer = undefined;
    resyncs += 1;
    sendSnapshot();
    follows?.resume();
  }

  function reply(type: string, fields: string, id: string | undefined): boolean {
    const withId = id === undefined ? fields : `"id":${JSON.stringify(id)}${fields ? `,${fields}` : ''}`;
    return write(messageData(type, deps.ring.head(), deps.nowIso(), withId));
  }

  function error(code: string, message: string, id?: string, fields?: Record<string, string>): void {
    reply('error', `"error":${JSON.stringify(code)},"message":${JSON.stringify(message)}${fields ? `,"fields":${JSON.stringify(fields)}` : ''}`, id);
  }

  function parse(data: RawData, isBinary: boolean): ClientMessage | null {
    if (isBinary) {
      error('binary_not_accepted', 'send requests as JSON text frames');
      return null;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(data.toString());
    } catch (err) {
      error('invalid_json', `not valid JSON (an object is expected): ${(err as Error).message}`);
      return null;
    }
    const id = raw && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string' ? ((raw as { id: string }).id.slice(0, 64)) : undefined;
    const type = raw && typeof raw === 'object' ? (raw as { type?: unknown }).type : undefined;
    if (typeof type !== 'string' || !KNOWN_REQUESTS.includes(type)) {
      error('unknown_type', `"type" must be one of ${KNOWN_REQUESTS.join(', ')}`, id, { type: typeof type === 'string' ? `unknown request type "${type.slice(0, 40)}"` : 'required' });
      return null;
    }
    const parsed = parseInWords(clientMessageSchema, raw);
    if (!parsed.success) {
      const fields = fieldsInWords(parsed.error);
      error('validation_failed', `invalid ${type}: ${sentenceOfFields(fields, 'field')}`, id, fields);
      return null;
    }
    return parsed.data;
  }

  function handle(data: RawData, isBinary: boolean): void {
    const m = parse(data, isBinary);
    if (!m) return;
    switch (m.type) {
      case 'ping':
        reply('pong', '', m.id);
        return;
      case 'get_snapshot':
        requestSnapshot();
        return;
      case 'subscribe': {
        const added = m.types.some((t) => !types.has(t));
        types = new Set(m.types);
        reply('subscribed', `"types":${JSON.stringify([...types])}`, m.id);
        // Types it did not follow until now: its picture of them is stale, so it starts afresh.
        if (added) requestSnapshot();
        return;
      }
      case 'get_history': {
        const page = deps.ring.before(m.before, m.limit, (h) => types.has(h.type));
        const messages = Buffer.concat([Buffer.from('['), ...page.messages.flatMap((h, i) => (i === 0 ? [h.data()] : [Buffer.from(','), h.data()])), Buffer.from(']')]);
        reply('history', `"before":${m.before},"more":${page.more},"truncated":${page.truncated},"messages":${messages.toString('utf8')}`, m.id);
        return;
      }
      case 'subscribe_session':
      case 'unsubscribe_session':
        if (!follows) error('unavailable', 'managed sessions are not held by this server', m.id);
        else if (m.type === 'subscribe_session') follows.add(m.session_id, m.after, m.id);
        else follows.remove(m.session_id, m.id);
        return;
      case 'permission_response': {
        if (!deps.decide) {
          error('unavailable', 'approvals are not held by this server (approvals.enabled)', m.id);
          return;
        }
        deps.decide(m.approval_id, m.behavior, m.message).then(
          (approval) => {
            if (!closed) reply('permission_decided', `"approval":${JSON.stringify(approval)}`, m.id);
          },
          (err: unknown) => {
            if (closed) return;
            const kind = (err as { kind?: string }).kind;
            const code = kind === 'not_found' ? 'not_found' : kind === 'conflict' ? 'conflict' : kind === 'gone' ? 'gone' : kind === 'invalid' ? 'validation_failed' : 'unavailable';
            error(code, (err as Error).message ?? String(err), m.id);
          },
        );
        return;
      }
    }
  }

  return {
    /** A new stream message: sent when it is newer than the client's picture, of a followed type, and there is room. */
    deliver(m: HeldMessage): void {
      if (m.seq <= lastSeq) return;
      lastSeq = m.seq;
      if (!types.has(m.type)) return;
      write(m.data());
    },

    /** The first messages of a connection: a snapshot, or what it missed since `since`. */
    start(since: number | undefined): void {
      const missed = since === undefined ? null : deps.ring.since(since);
      if (!missed) {
        sendSnapshot();
        return;
      }
      let replayed = 0;
      for (const m of missed) {
        if (!types.has(m.type)) continue;
        if (!write(m.data())) break;
        replayed += 1;
      }
      lastSeq = deps.ring.head();
      if (laggingSince === null) write(messageData('resumed', lastSeq, deps.nowIso(), `"since":${since},"replayed":${replayed}`));
    },

    /**
     * The periodic check: one that drained gets its snapshot (a behind client is dropped by
     * its own deadline), one that did not answer the last ping is dead, an idle one is pinged.
     */
    tick(): 'ok' | 'dead' {
      if (closed) return 'ok';
      if (laggingSince !== null) {
        if (ws.bufferedAmount <= lowWater) resync();
        return 'ok';
      }
      if (awaitingPong) {
        ws.terminate();
        return 'dead';
      }
      if (!heard) {
        awaitingPong = true;
        ws.ping();
      }
      heard = false;
      return 'ok';
    },

    /** Tells the client the server is stopping (a close frame with the reason), or drops it when it cannot take one. */
    close(code: number, reason: string): void {
      if (closed) return;
      if (laggingSince !== null) ws.terminate();
      else ws.close(code, reason);
    },

    terminate(): void {
      ws.terminate();
    },

    /** Resolves once the socket is closed. */
    closed: whenClosed,
    isClosed: () => closed,
    stats: (): ConnectionStats => ({ sent, resyncs, lagging: laggingSince !== null, buffered: closed ? 0 : ws.bufferedAmount }),
  };
}

export type FeedConnection = ReturnType<typeof createConnection>;
