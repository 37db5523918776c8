// The relay's rooms in memory: each room's one server socket, its clients' sockets, and the
// requests on their way. A client frame is checked (token still valid, schema, rate, role, room
// server present), given a relay id and sent to the room's server; the answer goes back under
// the client's id. Writes (anything but GET/HEAD) and refusals are audited with their status.
// Encrypted frames are routed the same way: the relay sees method, path and status only.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { RawData, WebSocket } from 'ws';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { fieldsInWords, parseInWords, sentenceOfFields } from '../lib/validation-words.js';
import { clientFrameSchema, fromServerFrameSchema, READ_METHODS, type ClientFrame, type RelayClientInfo, type ToClientFrame, type ToServerFrame } from '../protocol/relay.js';
import type { RateLimiter } from './bucket.js';
import type { AuditEntry, ClientTokenRow } from './store.js';

export interface RoutingLimits {
  /** Feed streams one client may hold open. */
  maxStreams: number;
  /** Past this many bytes waiting on a client's socket, its feed streams are ended ("slow"); it reopens them with since=. */
  maxBufferedBytes: number;
  /** Requests one client may have waiting for an answer. */
  maxInFlight: number;
  /** A request the server has not answered in this long gets 504. */
  requestTimeoutMs: number;
}

export interface RoutingDeps {
  clock: Clock;
  logger: Logger;
  limiter: RateLimiter;
  limits: RoutingLimits;
  audit(entry: AuditEntry): void;
}

interface ClientConn {
  conn: string;
  ws: WebSocket;
  token: ClientTokenRow;
  remote: string | undefined;
  inFlight: number;
  /** Whether the client opened an end-to-end session (told when its server goes away). */
  sealed: boolean;
  /** Its open feed streams. */
  streams: Set<string>;
}

interface Pending {
  client: ClientConn;
  clientId: string;
  method: string;
  path: string;
  timer: TimerHandle;
}

interface Room {
  server: WebSocket | null;
  clients: Map<string, ClientConn>;
  pending: Map<string, Pending>;
}

/** Close codes the relay uses (4000-4999 are the application's). */
export const CLOSE = { replaced: 4000, slow: 4008, revoked: 4401, tooMany: 4429, serverGone: 4502, serverOffline: 4503 } as const;

function send(ws: WebSocket, frame: ToClientFrame | ToServerFrame): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
}

function parseJson(data: RawData): unknown {
  try {
    return JSON.parse(data.toString());
  } catch {
    return undefined;
  }
}

export function createRouting(deps: RoutingDeps) {
  const rooms = new Map<string, Room>();
  const room = (name: string): Room => {
    let r = rooms.get(name);
    if (!r) rooms.set(name, (r = { server: null, clients: new Map(), pending: new Map() }));
    return r;
  };
  const info = (c: ClientConn): RelayClientInfo => ({ id: c.token.id, name: c.token.name, role: c.token.role });

  function answer(c: ClientConn, id: string, status: number, error: string, message: string, headers: Record<string, string> = {}): void {
    send(c.ws, { t: 'res', id, status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify({ error, message }) });
  }

  function settle(r: Room, rid: string): Pending | undefined {
    const p = r.pending.get(rid);
    if (!p) return undefined;
    r.pending.delete(rid);
    deps.clock.clearTimeout(p.timer);
    p.client.inFlight -= 1;
    return p;
  }

  function auditAnswer(p: Pending, status: number): void {
    if (!READ_METHODS.has(p.method) || status >= 400) {
      deps.audit({ what: READ_METHODS.has(p.method) ? 'read' : 'write', room: p.client.token.room, client: p.client.token.id, method: p.method, path: p.path, status, remote: p.client.remote });
    }
  }

  function fromServer(name: string, data: RawData): void {
    const r = room(name);
    const parsed = fromServerFrameSchema.safeParse(parseJson(data));
    if (!parsed.success) {
      deps.logger.warn({ room: name }, 'relay: the room server sent a frame of the wrong shape; dropped');
      return;
    }
    const f = parsed.data;
    if (f.t === 'data' || f.t === 'end') {
      const c = r.clients.get(f.conn);
      if (!c || !c.streams.has(f.sid)) return;
      if (f.t === 'end') {
        c.streams.delete(f.sid);
        return send(c.ws, { t: 'end', sid: f.sid, code: f.code, reason: f.reason });
      }
      if (c.ws.bufferedAmount > deps.limits.maxBufferedBytes) {
        // A client that cannot keep up loses the stream, not the relay's memory: it reopens with since=.
        c.streams.delete(f.sid);
        send(c.ws, { t: 'end', sid: f.sid, code: CLOSE.slow, reason: 'slow: reopen with since=' });
        if (r.server) send(r.server, { t: 'end', sid: f.sid, conn: c.conn });
        return;
      }
      const { conn: _conn, ...data } = f;
      return send(c.ws, data);
    }
    if (f.t === 'welcome' || f.t === 'refuse') {
      const c = r.clients.get(f.conn);
      if (!c) return;
      if (f.t === 'welcome') send(c.ws, { t: 'welcome', epub: f.epub });
      else send(c.ws, { t: 'error', error: 'refused', message: f.message });
      return;
    }
    const p = settle(r, f.id);
    if (!p) return; // answered already (timed out) or its client left
    auditAnswer(p, f.status);
    send(p.client.ws, { ...f, id: p.clientId });
  }

  function fromClient(c: ClientConn, data: RawData): void {
    const r = room(c.token.room);
    const now = deps.clock.now();
    if (c.token.revoked_at !== null || (c.token.expires_at !== null && Date.parse(c.token.expires_at) <= now)) {
      const why = c.token.revoked_at !== null ? 'revoked' : 'expired';
      deps.audit({ what: 'closed', room: c.token.room, client: c.token.id, remote: c.remote, detail: `token ${why}` });
      c.ws.close(CLOSE.revoked, `token ${why}`);
      return;
    }
    const parsed = parseInWords(clientFrameSchema, parseJson(data));
    if (!parsed.success) {
      const raw = parseJson(data) as { id?: unknown } | undefined;
      const id = typeof raw?.id === 'string' && raw.id.length <= 64 ? raw.id : undefined;
      send(c.ws, { t: 'error', ...(id ? { id } : {}), error: 'bad_frame', message: sentenceOfFields(fieldsInWords(parsed.error), 'field') });
      return;
    }
    const f = parsed.data;
    const wait = deps.limiter.take(c.token.id);
    if (wait > 0) {
      const request = f.t === 'req' || f.t === 'sreq' ? f : null;
      deps.audit({ what: 'rate_limited', room: c.token.room, client: c.token.id, method: request?.method ?? null, path: request?.path ?? null, status: 429, remote: c.remote });
      const retry = String(Math.max(1, Math.ceil(wait / 1000)));
      if (request) answer(c, request.id, 429, 'rate_limited', `too many requests from this client token; retry in ${retry} s`, { 'retry-after': retry });
      else if (f.t === 'open') send(c.ws, { t: 'end', sid: f.sid, code: CLOSE.tooMany, reason: `too many requests; retry in ${retry} s` });
      else send(c.ws, { t: 'error', error: 'rate_limited', message: `too many requests; retry in ${retry} s` });
      return;
    }
    if (f.t === 'open' || f.t === 'send' || f.t === 'end') return stream(r, c, f);
    if (f.t === 'hello') {
      if (!r.server) return send(c.ws, { t: 'error', error: 'server_offline', message: `the server of room ${c.token.room} is not connected to the relay` });
      c.sealed = true;
      send(r.server, { ...f, client: info(c), conn: c.conn });
      return;
    }
    if (!READ_METHODS.has(f.method) && c.token.role !== 'admin') {
      deps.audit({ what: 'refused', room: c.token.room, client: c.token.id, method: f.method, path: f.path, status: 403, remote: c.remote, detail: 'read-only token' });
      return answer(c, f.id, 403, 'forbidden', `a read-only token may only read (GET, HEAD); ${f.method} needs an admin token`);
    }
    if (!r.server) return answer(c, f.id, 503, 'server_offline', `the server of room ${c.token.room} is not connected to the relay`);
    if (c.inFlight >= deps.limits.maxInFlight) return answer(c, f.id, 429, 'too_many_in_flight', `at most ${deps.limits.maxInFlight} requests may wait for an answer at once`, { 'retry-after': '1' });
    const rid = randomUUID();
    const timer = deps.clock.setTimeout(() => {
      const p = settle(r, rid);
      if (!p) return;
      auditAnswer(p, 504);
      answer(c, f.id, 504, 'timeout', `the server did not answer within ${deps.limits.requestTimeoutMs / 1000} s`);
    }, deps.limits.requestTimeoutMs);
    c.inFlight += 1;
    r.pending.set(rid, { client: c, clientId: f.id, method: f.method, path: f.path, timer });
    if (f.t === 'sreq') send(r.server, { ...f, id: rid, client: info(c), conn: c.conn });
    else send(r.server, { ...f, id: rid, client: info(c) });
  }

  /** The feed as streams: any role may read it; the relay holds each client to a few streams. */
  function stream(r: Room, c: ClientConn, f: Extract<ClientFrame, { t: 'open' | 'send' | 'end' }>): void {
    if (f.t === 'open') {
      if (c.streams.has(f.sid)) return send(c.ws, { t: 'error', error: 'bad_frame', message: `stream ${f.sid} is open already` });
      if (!r.server) return send(c.ws, { t: 'end', sid: f.sid, code: CLOSE.serverOffline, reason: 'the room server is not connected' });
      if (c.streams.size >= deps.limits.maxStreams) return send(c.ws, { t: 'end', sid: f.sid, code: CLOSE.tooMany, reason: `at most ${deps.limits.maxStreams} streams at once` });
      c.streams.add(f.sid);
      deps.audit({ what: 'stream_opened', room: c.token.room, client: c.token.id, path: `/ws?${f.query}`.slice(0, 300), remote: c.remote });
      return send(r.server, { ...f, client: info(c), conn: c.conn });
    }
    if (!c.streams.has(f.sid)) return send(c.ws, { t: 'error', error: 'bad_frame', message: `no open stream ${f.sid}` });
    if (f.t === 'end') c.streams.delete(f.sid);
    if (r.server) send(r.server, { ...f, conn: c.conn });
  }

  return {
    /** A room's server connected: it replaces the one before (a restart must not wait for a dead socket). */
    serverConnected(name: string, ws: WebSocket, remote: string | undefined): void {
      const r = room(name);
      r.server?.close(CLOSE.replaced, 'replaced by a newer connection');
      r.server = ws;
      deps.audit({ what: 'server_connected', room: name, remote });
      ws.on('message', (data) => fromServer(name, data));
      ws.on('error', (err) => deps.logger.warn({ err, room: name }, 'relay: room server socket error'));
      ws.on('close', (code) => {
        deps.audit({ what: 'server_disconnected', room: name, remote, detail: `close ${code}` });
        if (r.server !== ws) return;
        r.server = null;
        for (const rid of [...r.pending.keys()]) {
          const p = settle(r, rid)!;
          auditAnswer(p, 502);
          answer(p.client, p.clientId, 502, 'server_gone', 'the server disconnected before answering');
        }
        // Their sessions and streams lived in that server process: they open new ones on reconnecting.
        for (const c of r.clients.values()) {
          for (const sid of c.streams) send(c.ws, { t: 'end', sid, code: CLOSE.serverGone, reason: 'the room server disconnected; reopen with since=' });
          c.streams.clear();
          if (c.sealed) c.ws.close(CLOSE.serverGone, 'the room server disconnected; open a new session');
        }
      });
    },

    clientConnected(token: ClientTokenRow, ws: WebSocket, remote: string | undefined): void {
      const r = room(token.room);
      const c: ClientConn = { conn: randomUUID(), ws, token: { ...token }, remote, inFlight: 0, sealed: false, streams: new Set() };
      r.clients.set(c.conn, c);
      deps.audit({ what: 'client_connected', room: token.room, client: token.id, remote, detail: token.role });
      ws.on('message', (data) => fromClient(c, data));
      // A frame over the size limit (ws closes with 1009) or a broken connection: its close says the rest.
      ws.on('error', (err) => deps.logger.debug({ err, client: token.id }, 'relay: client socket error'));
      ws.on('close', (code) => {
        r.clients.delete(c.conn);
        for (const [rid, p] of r.pending) if (p.client === c) settle(r, rid);
        if ((c.sealed || c.streams.size > 0) && r.server) send(r.server, { t: 'gone', conn: c.conn });
        deps.audit({ what: 'client_disconnected', room: token.room, client: token.id, remote, detail: `close ${code}` });
      });
    },

    /** Ids of the client tokens with a live connection (the revocation poll asks about these). */
    liveTokenIds(): string[] {
      const ids = new Set<string>();
      for (const r of rooms.values()) for (const c of r.clients.values()) ids.add(c.token.id);
      return [...ids];
    },

    /** Closes every connection of a revoked token at once (4401). */
    revoked(tokenId: string, at: string): void {
      for (const r of rooms.values()) {
        for (const c of r.clients.values()) {
          if (c.token.id !== tokenId) continue;
          c.token.revoked_at = at;
          deps.audit({ what: 'closed', room: c.token.room, client: tokenId, remote: c.remote, detail: 'token revoked' });
          c.ws.close(CLOSE.revoked, 'token revoked');
        }
      }
    },

    stats() {
      let clients = 0;
      let servers = 0;
      for (const r of rooms.values()) {
        clients += r.clients.size;
        if (r.server) servers += 1;
      }
      return { rooms: rooms.size, servers, clients };
    },

    /** Every socket, for closing the relay. */
    sockets(): WebSocket[] {
      return [...rooms.values()].flatMap((r) => [...(r.server ? [r.server] : []), ...[...r.clients.values()].map((c) => c.ws)]);
    },
  };
}

export type Routing = ReturnType<typeof createRouting>;
