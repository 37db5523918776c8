// A raw HTTP/1.1 client over a TCP socket: it sends exactly the bytes it is given (bad
// methods, broken headers, lying lengths, invalid UTF-8), which fetch and node:http refuse
// to send, and reads the answer until the server closes the connection.
import { connect } from 'node:net';

export interface RawAnswer {
  /** null when the connection closed without a status line. */
  status: number | null;
  headers: Record<string, string>;
  body: string;
  raw: Buffer;
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: [string, string][];
  body?: string | Buffer;
  /** Default: a correct Content-Length when there is a body. */
  contentLength?: number | null;
}

/** Builds the bytes of a request; Connection: close is always sent so the answer ends with the connection. */
export function requestBytes(r: RawRequest): Buffer {
  const body = r.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, 'utf8');
  const lines = [`${r.method} ${r.path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  for (const [k, v] of r.headers ?? []) lines.push(`${k}: ${v}`);
  const length = r.contentLength === undefined ? (r.body === undefined ? null : body.length) : r.contentLength;
  if (length !== null) lines.push(`Content-Length: ${length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol === -1) break;
    const size = parseInt(body.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

export function parseAnswer(raw: Buffer): RawAnswer {
  const end = raw.indexOf('\r\n\r\n');
  const head = (end === -1 ? raw : raw.subarray(0, end)).toString('latin1');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = end === -1 ? Buffer.alloc(0) : raw.subarray(end + 4);
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') body = dechunk(body);
  return { status: m ? Number(m[1]) : null, headers, body: body.toString('utf8'), raw };
}

/**
 * Sends `bytes` and resolves with the answer once the server closes the connection.
 * `halfClose` ends the sending side after the bytes (a client that sent all it will send).
 * Rejects after `timeoutMs`, so that a server that never answers is reported, not waited for.
 */
export function rawExchange(port: number, bytes: Buffer, opts: { halfClose?: boolean; timeoutMs?: number } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${opts.timeoutMs ?? 10_000} ms to: ${bytes.subarray(0, 200).toString('latin1')}`));
    }, opts.timeoutMs ?? 10_000);
    socket.on('connect', () => {
      socket.write(bytes);
      if (opts.halfClose) socket.end();
    });
    socket.on('data', (d: Buffer) => chunks.push(d));
    // A reset after the answer was written still leaves the answer.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseAnswer(Buffer.concat(chunks)));
    });
    socket.on('end', () => socket.end());
  });
}

export function rawRequest(port: number, r: RawRequest, opts: { halfClose?: boolean; timeoutMs?: number } = {}): Promise<RawAnswer> {
  return rawExchange(port, requestBytes(r), opts);
}
