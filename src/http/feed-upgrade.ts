// The live feed's handshake (`ws://HOST:PORT/ws`): the path, the same access policy as HTTP,
// the query (`since`, `types`), the WebSocket headers, then the feed's own admission; an
// accepted socket is handed to the feed (src/feed/feed.ts). A request that asks for another
// protocol (curl --http2 sends `Upgrade: h2c`) is served as the plain HTTP request it also is;
// a refused upgrade gets an HTTP answer written on the raw socket, in the API's one error
// shape `{ error, message, fields? }`; the query string becomes a plain object, refusing
// repeated keys (the schema then names what is wrong).
import { STATUS_CODES, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { z } from 'zod';
import { FEED_PATH, type Feed } from '../feed/feed.js';
import { fieldsInWords, parseInWords, sentenceOfFields } from '../lib/validation-words.js';
import { feedQuerySchema } from '../protocol/feed.js';
import { authorize, requestFacts, type AuthPolicy } from './auth.js';
import { peerOf, requestLine, type PeerAddress } from './request.js';
import { SESSION_SOCKET_PATH, serveSessionSocket, type SessionSocketDeps } from './session-socket.js';
import { sessionOutputQuerySchema } from '../protocol/sessions.js';

export interface FeedUpgradeDeps {
  auth: AuthPolicy;
  peerAddress?: PeerAddress;
  /** The largest message a client may send (websocket.max_message_bytes). */
  maxPayload: number;
  /** Other WebSocket endpoints by path (the machines' /v1/machines/connect), each doing its own checks. */
  endpoints?: Record<string, (req: IncomingMessage, socket: Duplex, head: Buffer) => void>;
  /** WS /ws/sessions/{id}: a managed session's output (src/http/session-socket.ts). */
  sessions?: SessionSocketDeps;
}

/** Serves the feed on an http.Server (its `upgrade` event); other upgrades stay plain HTTP requests. */
export function attachFeed(server: Server, feed: Pick<Feed, 'refusal' | 'accept'>, deps: FeedUpgradeDeps): void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: deps.maxPayload, clientTracking: false, perMessageDeflate: false });
  // A handshake that ws refuses after handshakeProblem let it through (an Upgrade header
  // listing more than websocket, a malformed Sec-WebSocket-Protocol) is answered in the API's
  // error shape too, rather than ws's plain-text page.
  wss.on('wsClientError', (err: Error, socket: Duplex) => {
    refuseUpgrade(socket, 400, 'bad_request', `invalid WebSocket handshake: ${err.message}`);
  });

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    const line = requestLine(req);
    const other = deps.endpoints?.[line.path];
    if (other) {
      other(req, socket, head);
      return;
    }
    const sessionPath = deps.sessions ? SESSION_SOCKET_PATH.exec(line.path) : null;
    if (line.path !== FEED_PATH && !sessionPath) {
      refuseUpgrade(socket, 404, 'not_found', `no WebSocket endpoint at ${line.path.slice(0, 200)}; the live feed is ${FEED_PATH}`);
      return;
    }
    const remote = peerOf(req, deps.peerAddress).address;
    const decision = authorize(deps.auth, requestFacts(req, line, remote));
    if (!decision.ok) {
      if (decision.status === 403) refuseUpgrade(socket, 403, 'forbidden', decision.reason);
      else refuseUpgrade(socket, 401, 'unauthorized', decision.reason, { 'WWW-Authenticate': 'Bearer realm="token-api"' });
      return;
    }
    if (sessionPath && deps.sessions) {
      upgradeSession(req, socket, head, sessionPath[1]!, line.query, deps.sessions);
      return;
    }
    const parsed = checkedHandshake(req, socket, line.query, feedQuerySchema, 'since and types, each at most once');
    if (!parsed) return;
    const refused = feed.refusal();
    if (refused) {
      refuseUpgrade(socket, 503, 'unavailable', refused);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => feed.accept(ws, { since: parsed.since, types: parsed.types, remote, via: decision.via }));
  }

  function upgradeSession(req: IncomingMessage, socket: Duplex, head: Buffer, id: string, rawQuery: string, sessions: SessionSocketDeps): void {
    const parsed = checkedHandshake(req, socket, rawQuery, sessionOutputQuerySchema.pick({ after: true }).strict(), 'after, at most once');
    if (!parsed) return;
    sessions.get(id).then(
      () => wss.handleUpgrade(req, socket, head, (ws) => void serveSessionSocket(ws, id, parsed.after, sessions)),
      (err: Error) => refuseUpgrade(socket, 404, 'not_found', err.message),
    );
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (wantsWebSocket(req)) upgrade(req, socket, head);
    else serveWithoutUpgrade(server, req, socket);
  });
}

/** The query, parsed, once the handshake is sound; null when the upgrade was refused (in the API's error shape). */
function checkedHandshake<S extends z.ZodType>(req: IncomingMessage, socket: Duplex, rawQuery: string, schema: S, expected: string): z.output<S> | null {
  const query = queryObject(rawQuery);
  const parsed = query === null ? null : parseInWords(schema, query);
  if (!parsed || !parsed.success) {
    const fields = parsed ? fieldsInWords(parsed.error) : { '(root)': `repeats a parameter; expected ${expected}` };
    refuseUpgrade(socket, 400, 'validation_failed', sentenceOfFields(fields, 'query parameter'), {}, fields);
    return null;
  }
  const problem = handshakeProblem(req);
  if (problem) {
    refuseUpgrade(socket, problem.status, problem.status === 426 ? 'upgrade_required' : 'bad_request', problem.message, problem.headers);
    return null;
  }
  return parsed.data;
}

/** Whether the request asks for a WebSocket (any other Upgrade is ignored, as HTTP allows). */
export function wantsWebSocket(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').split(',').some((p) => p.trim().toLowerCase() === 'websocket');
}

/**
 * Serves an upgrade request that is not for a WebSocket as an ordinary HTTP/1.1 request on
 * the server's own handler, then closes the connection. Node hands such requests to the
 * `upgrade` listener, whose presence would otherwise break them. Its body (if any) was not
 * parsed by Node, so one with a body is refused (400) rather than half read.
 */
export function serveWithoutUpgrade(server: Server, req: IncomingMessage, socket: Duplex): void {
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.once('finish', () => {
    res.detachSocket(socket as Socket);
    socket.end();
  });
  const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
  if (hasBody) {
    const body = JSON.stringify({ error: 'bad_request', message: `send this request without "Upgrade: ${String(req.headers.upgrade).slice(0, 40)}" (token-api speaks HTTP/1.1)` });
    res.writeHead(400, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
    res.end(body);
    return;
  }
  server.emit('request', req, res);
}

export function refuseUpgrade(
  socket: Duplex,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
  fields?: Record<string, string>,
): void {
  const body = JSON.stringify({ error: code, message, ...(fields ? { fields } : {}) });
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

/** What is wrong with a WebSocket handshake (RFC 6455 section 4.2.1), or null; checked before ws sees it, so the answer has the API's shape. */
export function handshakeProblem(req: IncomingMessage): { status: number; message: string; headers?: Record<string, string> } | null {
  if (req.method !== 'GET') return { status: 400, message: 'a WebSocket handshake is a GET request' };
  // Node refuses an HTTP/1.1 request without Host, but lets an upgrade through.
  if (!req.headers.host) return { status: 400, message: 'a WebSocket handshake needs a Host header' };
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !/^[+/0-9A-Za-z]{22}==$/.test(key.trim())) return { status: 400, message: 'missing or invalid Sec-WebSocket-Key' };
  const version = req.headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') return { status: 426, message: 'this server speaks WebSocket version 13', headers: { 'Sec-WebSocket-Version': '13' } };
  return null;
}

/** `a=1&b=2` -> { a: '1', b: '2' }; null when a key comes twice or the text is not decodable. */
export function queryObject(query: string): Record<string, string> | null {
  // No prototype: `__proto__=x` is a key like any other (the schema refuses it), not a setter.
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (query === '') return out;
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent((eq === -1 ? part : part.slice(0, eq)).replace(/\+/g, ' '));
      value = eq === -1 ? '' : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '));
    } catch {
      return null;
    }
    if (Object.hasOwn(out, key)) return null;
    out[key] = value;
  }
  return out;
}
