// Refusing a WebSocket upgrade: an HTTP answer written on the raw socket, in the API's one
// error shape `{ error, message, fields? }`, then the socket is closed. And the upgrade's
// query string as a plain object, refusing repeated keys (the schema then names what is wrong).
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

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

/** `a=1&b=2` -> { a: '1', b: '2' }; null when a key comes twice or the text is not decodable. */
export function queryObject(query: string): Record<string, string> | null {
  const out: Record<string, string> = {};
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
