// The edges of a WebSocket upgrade: a request that asks for another protocol (curl --http2
// sends `Upgrade: h2c`) is served as the plain HTTP request it also is; a refused upgrade gets
// an HTTP answer written on the raw socket, in the API's one error shape
// `{ error, message, fields? }`; and the query string becomes a plain object, refusing
// repeated keys (the schema then names what is wrong).
import { STATUS_CODES, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

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
