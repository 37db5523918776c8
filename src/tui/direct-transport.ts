// The dashboard's default way to a server: fetch for requests and a WebSocket to its /ws for the
// feed, with the API token as `Authorization: Bearer` when one is given. Failures become words
// ("token-api is not reachable"), a refused handshake the server's own message.
import WebSocket from 'ws';
import type { FeedLink, FeedLinkHandlers, HttpAnswer, Transport } from './transport.js';

/** http(s)://host:port[/] -> ws(s)://host:port/ws */
export function feedUrlOf(baseUrl: string): string {
  const u = new URL(baseUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/ws`;
  u.search = '';
  return u.toString();
}

/** Words for why a connection attempt failed. */
function reasonOf(err: Error & { code?: string }): string {
  if (err.code === 'ECONNREFUSED') return `token-api is not reachable (connection refused)`;
  if (err.code === 'ENOTFOUND') return `no such host`;
  if (err.code === 'ECONNRESET') return 'the connection was reset';
  if (err.code === 'ETIMEDOUT') return 'the connection timed out';
  return err.message;
}

export function directTransport(o: { baseUrl: string; token?: string; timeoutMs?: number }): Transport {
  const base = o.baseUrl.replace(/\/+$/, '');
  const feedUrl = feedUrlOf(o.baseUrl);

  async function request(method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    const headers: Record<string, string> = {};
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(o.timeoutMs ?? 10_000) });
      return { status: res.status, body: await res.text() };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      if (e.name === 'TimeoutError') throw new Error('token-api did not answer in time');
      if (e.cause?.code === 'ECONNREFUSED') throw new Error('token-api is not reachable');
      throw new Error(e.message);
    }
  }

  function openFeed(query: string, h: FeedLinkHandlers): FeedLink {
    const socket = new WebSocket(query ? `${feedUrl}?${query}` : feedUrl, { headers: o.token ? { Authorization: `Bearer ${o.token}` } : {}, handshakeTimeout: 10_000 });
    let lastReason = '';
    let dropped = false;
    socket.on('unexpected-response', (req, res) => {
      // The server refused the connection: its answer says why, in the API's error shape.
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d.slice(0, 4096)));
      res.on('end', () => {
        let message = `the server answered ${res.statusCode}`;
        try {
          const e = JSON.parse(text) as { message?: unknown };
          if (typeof e.message === 'string') message = `${message}: ${e.message}`;
        } catch {
          /* not the error shape */
        }
        lastReason = message;
        req.destroy(new Error(message));
      });
    });
    socket.on('open', () => h.onOpen());
    socket.on('message', (data, isBinary) => (isBinary ? h.onAlive() : h.onMessage(data.toString())));
    socket.on('ping', () => h.onAlive());
    socket.on('error', (err: Error & { code?: string }) => {
      lastReason ||= reasonOf(err);
    });
    socket.on('close', (code, reasonBuf) => {
      if (dropped) return;
      const said = reasonBuf.toString();
      h.onClose(said ? `the server closed the connection: ${said}` : lastReason || (code === 1006 ? 'the connection was lost' : `closed (${code})`));
    });
    return {
      send(text) {
        if (socket.readyState !== WebSocket.OPEN) return false;
        socket.send(text);
        return true;
      },
      close() {
        dropped = true;
        if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close(1000, 'dashboard closed');
      },
      terminate(reason) {
        lastReason = reason;
        socket.terminate();
      },
    };
  }

  return { target: new URL(o.baseUrl).host, request, openFeed };
}
