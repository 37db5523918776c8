// Requests node:http refuses before Koa sees them (a malformed request line or header, an
// unknown method, broken chunking, headers too large, CONNECT, an Expect it cannot meet) are
// answered here in the API's error shape `{ error, message }`, instead of a bare status line
// or a silently closed connection.
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

function rawAnswer(status: number, code: string, message: string): string {
  const body = JSON.stringify({ error: code, message });
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
    `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/** What a parser error means for the client, as status, code and message. */
export function describeClientError(err: Error & { code?: string; reason?: string }): [number, string, string] {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'headers_too_large', 'the request line and headers are too large'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return [408, 'request_timeout', 'the request did not arrive in time'];
    case 'HPE_INVALID_METHOD':
      return [405, 'method_not_allowed', 'unknown HTTP method'];
    default:
      return [400, 'bad_request', `malformed HTTP request: ${(err.reason ?? err.message ?? 'parse error').slice(0, 200)}`];
  }
}

/** Installs the handlers on a server (before it listens). */
export function answerMalformedRequests(server: Server): void {
  server.on('clientError', (err: Error & { code?: string; reason?: string }, socket: Duplex) => {
    // An answer already under way on this connection cannot be followed by ours.
    const current = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || current?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, code, message] = describeClientError(err);
    socket.end(rawAnswer(status, code, message));
  });
  // token-api is not a proxy.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => undefined);
    socket.end(rawAnswer(405, 'method_not_allowed', 'CONNECT is not supported: token-api is not a proxy'));
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const body = JSON.stringify({ error: 'expectation_failed', message: `cannot meet "Expect: ${String(req.headers.expect).slice(0, 100)}"` });
    res.writeHead(417, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
    res.end(body);
  });
}
