// The server's side of the relay: token-api serve connects outbound to the relay's
// /v1/relay/server with its room's server key, reconnects with full-jitter backoff (0.5 s
// doubling to 10 s, reset once connected) and when a ping goes unanswered, and answers each relayed request by running it in
// this process (`run`, given by src/system/) as a caller beyond loopback. The role is enforced
// here too, before the request runs: a read-only client gets GET and HEAD only, whatever the
// relay says. End-to-end sessions are opened here: the pairing key comes from the pairings
// file, and the role of an encrypted request is the pairing's.
import type { Logger } from 'pino';
import { WebSocket, type RawData } from 'ws';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { READ_METHODS, RELAYED_HEADERS, toServerFrameSchema, type FromServerFrame, type RelayRole } from '../protocol/relay.js';
import { ephemeral, open, requestAad, responseAad, seal, sessionKeys, streamAad, type SessionKeys } from './e2e.js';
import type { Pairing } from './pairings.js';
import { StreamSocket } from './stream-socket.js';
import { relaySocketUrl, SERVER_PATH } from './url.js';

export interface RelayedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface RelayedAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface ConnectorDeps {
  /** The relay's base URL (http(s):// or ws(s)://). */
  url: string;
  room: string;
  serverKey: string;
  /** PEM of a private CA (or the relay's self-signed certificate) to trust. */
  ca?: Buffer;
  /** Runs the request in this server, as a caller beyond loopback with the API token. */
  run(request: RelayedRequest): Promise<RelayedAnswer>;
  /**
   * Serves the live feed on a stream (query as /ws takes it): null once accepted, else why not.
   * Absent: the feed is not offered through the relay.
   */
  openFeed?(socket: StreamSocket, query: string): string | null;
  /** The pairing of that id, if this server made it (read when a client opens a session). */
  pairing(id: string): Pairing | undefined;
  clock: Clock;
  logger: Logger;
  random?: () => number;
  /** A ping this often; a relay silent for two intervals is taken as gone (NAT and sleep leave half-open sockets). Default 30 s. */
  heartbeatMs?: number;
}

export interface RelayConnector {
  status(): { connected: boolean; sessions: number; streams: number; attempts: number };
  /** Resolves once connected (tests, `serve`'s start-up line). */
  connected(): Promise<void>;
  stop(): Promise<void>;
}

interface Session {
  keys: SessionKeys;
  role: RelayRole;
  /** The next counter each way; a counter below it is a replay. */
  recv: number;
  send: number;
}

const BASE_MS = 500;
const CAP_MS = 10_000;

function relayedHeaders(h: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (RELAYED_HEADERS.has(k.toLowerCase())) out[k.toLowerCase()] = v;
  return out;
}

const refusal = (status: number, error: string, message: string): RelayedAnswer => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: JSON.stringify({ error, message }),
});

export function startRelayConnector(deps: ConnectorDeps): RelayConnector {
  const random = deps.random ?? Math.random;
  const sessions = new Map<string, Session>();
  /** Open feed streams by `${conn} ${sid}`; sealed ones go through the connection's session. */
  const streams = new Map<string, StreamSocket>();
  const sealedStreams = new Set<string>();
  const dropStreams = (conn?: string) => {
    for (const [key, stream] of streams) {
      if (conn !== undefined && !key.startsWith(`${conn} `)) continue;
      streams.delete(key);
      sealedStreams.delete(key);
      stream.drop();
    }
  };
  let ws: WebSocket | null = null;
  let attempts = 0;
  let retry: TimerHandle | undefined;
  let stopped = false;
  let waiters: (() => void)[] = [];

  async function answer(role: RelayRole, req: RelayedRequest): Promise<RelayedAnswer> {
    if (!READ_METHODS.has(req.method) && role !== 'admin') return refusal(403, 'forbidden', `a read-only client may only read (GET, HEAD); ${req.method} needs an admin token`);
    try {
      const res = await deps.run({ ...req, headers: relayedHeaders(req.headers) });
      return { status: res.status, headers: relayedHeaders(res.headers), body: res.body };
    } catch (err) {
      deps.logger.error({ err, method: req.method, path: req.path }, 'relay: a relayed request failed');
      return refusal(500, 'internal', 'the server could not run the request');
    }
  }

  function reply(socket: WebSocket, frame: FromServerFrame): void {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }

  async function onFrame(socket: WebSocket, data: RawData): Promise<void> {
    let raw: unknown;
    try {
      raw = JSON.parse(data.toString());
    } catch {
      raw = undefined;
    }
    const parsed = toServerFrameSchema.safeParse(raw);
    if (!parsed.success) {
      deps.logger.warn('relay: a frame of the wrong shape from the relay; dropped');
      return;
    }
    const f = parsed.data;
    switch (f.t) {
      case 'hello': {
        const p = deps.pairing(f.pairing);
        if (!p) return reply(socket, { t: 'refuse', conn: f.conn, message: 'unknown pairing: pair again with token-api relay pair' });
        if (p.token_id !== f.client.id) return reply(socket, { t: 'refuse', conn: f.conn, message: 'this pairing belongs to another client token' });
        const e = ephemeral();
        const keys = sessionKeys({ psk: Buffer.from(p.psk, 'base64url'), room: deps.room, mine: e.privateKey, theirs: f.epub, clientPub: f.epub, serverPub: e.publicKey });
        sessions.set(f.conn, { keys, role: p.role, recv: 0, send: 0 });
        return reply(socket, { t: 'welcome', conn: f.conn, epub: e.publicKey });
      }
      case 'gone':
        sessions.delete(f.conn);
        dropStreams(f.conn);
        return;
      case 'open': {
        const key = `${f.conn} ${f.sid}`;
        const s = f.sealed ? sessions.get(f.conn) : undefined;
        const end = (code: number, reason: string) => reply(socket, { t: 'end', conn: f.conn, sid: f.sid, code, reason });
        if (!deps.openFeed) return end(4404, 'this server does not offer the live feed through the relay');
        if (f.sealed && !s) return end(4400, 'a sealed stream needs an end-to-end session first');
        if (streams.has(key)) return;
        const stream = new StreamSocket({
          buffered: () => socket.bufferedAmount,
          send: (text) => {
            if (!s) return reply(socket, { t: 'data', conn: f.conn, sid: f.sid, data: text });
            const n = s.send++;
            reply(socket, { t: 'data', conn: f.conn, sid: f.sid, n, sealed: seal(s.keys.s2c, n, streamAad('data', f.sid), text) });
          },
          end: (code, reason) => {
            streams.delete(key);
            sealedStreams.delete(key);
            end(code >= 1000 && code <= 4999 ? code : 1000, reason.slice(0, 120));
          },
        });
        streams.set(key, stream);
        if (s) sealedStreams.add(key);
        const refused = deps.openFeed(stream, f.query);
        if (refused) {
          streams.delete(key);
          sealedStreams.delete(key);
          end(4400, refused.slice(0, 120));
        }
        return;
      }
      case 'send': {
        const key = `${f.conn} ${f.sid}`;
        const stream = streams.get(key);
        if (!stream) return;
        const s = sealedStreams.has(key) ? sessions.get(f.conn) : undefined;
        if (s && f.sealed !== undefined && f.n !== undefined && f.n >= s.recv) {
          try {
            const text = open(s.keys.c2s, f.n, streamAad('send', f.sid), f.sealed);
            s.recv = f.n + 1;
            if (typeof text === 'string') stream.receive(text);
          } catch {
            deps.logger.warn('relay: a sealed stream message could not be opened; dropped');
          }
        } else if (f.data !== undefined && !sealedStreams.has(key)) stream.receive(f.data);
        return;
      }
      case 'end': {
        const key = `${f.conn} ${f.sid}`;
        streams.get(key)?.drop();
        streams.delete(key);
        sealedStreams.delete(key);
        return;
      }
      case 'req': {
        const res = await answer(f.client.role, { method: f.method, path: f.path, headers: f.headers ?? {}, body: f.body });
        return reply(socket, { t: 'res', id: f.id, ...res });
      }
      case 'sreq': {
        const s = sessions.get(f.conn);
        let inner: { headers?: Record<string, string>; body?: unknown };
        try {
          if (!s || f.n < s.recv) throw new Error('no session or a replayed counter');
          inner = open(s.keys.c2s, f.n, requestAad(f.method, f.path), f.data) as typeof inner;
          s.recv = f.n + 1;
        } catch {
          return reply(socket, { t: 'res', id: f.id, ...refusal(400, 'e2e_failed', 'the encrypted request could not be opened (no session, a replay, or altered in transit)') });
        }
        // The pairing's role, never a lower bar than the relay's.
        const role: RelayRole = s.role === 'admin' && f.client.role === 'admin' ? 'admin' : 'read-only';
        const res = await answer(role, { method: f.method, path: f.path, headers: inner.headers ?? {}, body: inner.body });
        if (!sessions.has(f.conn)) return;
        const n = s.send++;
        return reply(socket, { t: 'sres', id: f.id, status: res.status, n, data: seal(s.keys.s2c, n, responseAad(f.n, res.status), { headers: res.headers, body: res.body }) });
      }
    }
  }

  function connect(): void {
    if (stopped) return;
    attempts += 1;
    const socket = new WebSocket(relaySocketUrl(deps.url, SERVER_PATH, deps.room), {
      headers: { authorization: `Bearer ${deps.serverKey}` },
      ...(deps.ca ? { ca: deps.ca } : {}),
      maxPayload: 4 * 1024 * 1024,
      perMessageDeflate: false,
    });
    ws = socket;
    socket.on('unexpected-response', (_req, res) => {
      deps.logger.warn({ status: res.statusCode, room: deps.room }, 'relay: the relay refused this server (is the room and its server key right?)');
      res.resume();
      socket.terminate();
    });
    socket.on('pong', () => (heard = true));
    socket.on('open', () => {
      heard = true;
      attempts = 0;
      deps.logger.info({ url: deps.url, room: deps.room }, 'relay: connected');
      for (const w of waiters) w();
      waiters = [];
    });
    socket.on('message', (data) => {
      onFrame(socket, data).catch((err: Error) => deps.logger.error({ err }, 'relay: a frame failed'));
    });
    socket.on('error', (err) => deps.logger.debug({ err }, 'relay: connection error'));
    socket.on('close', (code) => {
      if (ws === socket) ws = null;
      sessions.clear();
      dropStreams();
      if (stopped) return;
      const delay = Math.floor(random() * Math.min(CAP_MS, BASE_MS * 2 ** Math.min(attempts, 10)));
      deps.logger.info({ code, retryMs: delay }, 'relay: disconnected; reconnecting');
      retry = deps.clock.setTimeout(connect, delay);
    });
  }

  // The heartbeat: a ping each interval; no pong since the last one means a dead connection.
  const heartbeatMs = deps.heartbeatMs ?? 30_000;
  let heard = true;
  let beat: TimerHandle | undefined;
  const tick = () => {
    const socket = ws;
    if (socket?.readyState === WebSocket.OPEN) {
      if (!heard) {
        deps.logger.warn({ url: deps.url }, 'relay: no answer to the last ping; reconnecting');
        socket.terminate();
      } else {
        heard = false;
        socket.ping();
      }
    }
    if (!stopped) beat = deps.clock.setTimeout(tick, heartbeatMs);
  };
  beat = deps.clock.setTimeout(tick, heartbeatMs);

  connect();
  return {
    status: () => ({ connected: ws?.readyState === WebSocket.OPEN, sessions: sessions.size, streams: streams.size, attempts }),
    connected: () => (ws?.readyState === WebSocket.OPEN ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
    async stop() {
      stopped = true;
      deps.clock.clearTimeout(retry);
      deps.clock.clearTimeout(beat);
      dropStreams();
      const socket = ws;
      if (!socket || socket.readyState === WebSocket.CLOSED) return;
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.close(1001, 'the server is stopping');
        // A relay that does not answer the close handshake is cut off.
        setTimeout(() => socket.terminate(), 2000).unref();
      });
    },
  };
}
