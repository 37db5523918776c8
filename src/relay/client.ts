// A relay client (what `token-api relay request` uses): one WebSocket to the relay's
// /v1/relay/client with a client token, requests multiplexed on it by id. With a pairing it
// first opens an end-to-end session, then seals each request's headers and body and opens
// each answer; an answer that cannot be opened is an error, never taken as the server's.
// Refusals of the relay itself (429, 403 of a read-only token, 503, 504) arrive in the clear.
import { WebSocket } from 'ws';
import { toClientFrameSchema, type ToClientFrame } from '../protocol/relay.js';
import { CLIENT_PATH, relaySocketUrl } from './url.js';
import { ephemeral, open, requestAad, responseAad, seal, sessionKeys, streamAad, type SessionKeys } from './e2e.js';

export interface RelayClientOptions {
  url: string;
  room: string;
  token: string;
  ca?: Buffer;
  /** Both halves of a pairing: end-to-end encryption on. */
  pairing?: { id: string; psk: string };
}

export interface RelayAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Whether the answer came sealed by the server. */
  sealed: boolean;
}

export class RelayClientError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    /** Why, when it was not an HTTP refusal: the relay's or the home server's error code (`refused`: the pairing), or `certificate_mismatch`. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'RelayClientError';
  }
}

export interface RelayFeed {
  /** A message to the feed (subscribe, get_history, get_snapshot, ping), as JSON text. */
  send(text: string): void;
  end(): void;
  /** Resolves with the close code and reason once the stream ends (by either side). */
  ended: Promise<{ code: number; reason: string }>;
}

export interface RelayClient {
  /** Opens the live feed as a stream (query as /ws takes it: `since=…&types=…`); each message as JSON text. */
  openFeed(query: string, onMessage: (text: string) => void): RelayFeed;
  request(r: { method: string; path: string; headers?: Record<string, string>; body?: unknown }): Promise<RelayAnswer>;
  /** Resolves with the close code once the socket closes. */
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

export async function connectRelayClient(o: RelayClientOptions): Promise<RelayClient> {
  const ws = new WebSocket(relaySocketUrl(o.url, CLIENT_PATH, o.room), { headers: { authorization: `Bearer ${o.token}` }, ...(o.ca ? { ca: o.ca } : {}), perMessageDeflate: false });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        let message = text;
        try {
          message = (JSON.parse(text) as { message?: string }).message ?? text;
        } catch {
          // not JSON: the text as it is
        }
        reject(new RelayClientError(`the relay refused the connection (${res.statusCode}): ${message}`, res.statusCode));
      });
    });
    ws.once('error', (err) => reject(new RelayClientError(`cannot reach the relay at ${o.url}: ${err.message}`)));
  });
  ws.on('error', () => undefined);

  const pending = new Map<string, (f: ToClientFrame) => void>();
  const streamHandlers = new Map<string, (f: Extract<ToClientFrame, { t: 'data' | 'end' }>) => void>();
  let onWelcome: ((f: ToClientFrame) => void) | null = null;
  ws.on('message', (data) => {
    let raw: unknown;
    try {
      raw = JSON.parse(data.toString());
    } catch {
      return;
    }
    const parsed = toClientFrameSchema.safeParse(raw);
    if (!parsed.success) return;
    const f = parsed.data;
    if (f.t === 'welcome' || (f.t === 'error' && f.id === undefined && onWelcome)) return onWelcome?.(f);
    if (f.t === 'data' || f.t === 'end') return streamHandlers.get(f.sid)?.(f);
    const id = f.id;
    if (id === undefined) return;
    pending.get(id)?.(f);
    pending.delete(id);
  });
  void closed.then(({ code, reason }) => {
    for (const settle of pending.values()) settle({ t: 'error', error: 'closed', message: `the relay closed the connection (${code}${reason ? `: ${reason}` : ''})` });
    pending.clear();
    for (const settle of [...streamHandlers.values()]) settle({ t: 'end', sid: '', code: code >= 1000 && code <= 4999 ? code : 1006, reason: 'the relay connection closed' });
    onWelcome?.({ t: 'error', error: 'closed', message: `the relay closed the connection (${code})` });
  });

  let session: { keys: SessionKeys; send: number; recv: number } | null = null;
  if (o.pairing) {
    const e = ephemeral();
    const welcome = await new Promise<ToClientFrame>((resolve) => {
      onWelcome = resolve;
      ws.send(JSON.stringify({ t: 'hello', pairing: o.pairing!.id, epub: e.publicKey }));
    });
    onWelcome = null;
    if (welcome.t !== 'welcome') {
      ws.close();
      throw new RelayClientError(`the server refused the encrypted session: ${welcome.t === 'error' ? welcome.message : welcome.t}`, undefined, welcome.t === 'error' ? welcome.error : undefined);
    }
    const keys = sessionKeys({ psk: Buffer.from(o.pairing.psk, 'base64url'), room: o.room, mine: e.privateKey, theirs: welcome.epub, clientPub: e.publicKey, serverPub: welcome.epub });
    session = { keys, send: 0, recv: 0 };
  }

  let next = 0;
  let nextStream = 0;
  return {
    closed,
    close: () => ws.close(1000),
    openFeed(query, onMessage) {
      const sid = `s${++nextStream}`;
      let markEnded: (e: { code: number; reason: string }) => void = () => undefined;
      const ended = new Promise<{ code: number; reason: string }>((resolve) => (markEnded = resolve));
      streamHandlers.set(sid, (f) => {
        if (f.t === 'end') {
          streamHandlers.delete(sid);
          return markEnded({ code: f.code, reason: f.reason });
        }
        if (!session) return f.data !== undefined ? onMessage(f.data) : undefined;
        if (f.n === undefined || f.sealed === undefined || f.n < session.recv) return;
        try {
          const text = open(session.keys.s2c, f.n, streamAad('data', sid), f.sealed);
          session.recv = f.n + 1;
          if (typeof text === 'string') onMessage(text);
        } catch {
          // Not from the paired server: ignored, never shown.
        }
      });
      ws.send(JSON.stringify({ t: 'open', sid, query, ...(session ? { sealed: true } : {}) }));
      return {
        ended,
        end: () => {
          if (!streamHandlers.delete(sid)) return;
          if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ t: 'end', sid }));
          markEnded({ code: 1000, reason: 'ended by the client' });
        },
        send: (text) => {
          if (ws.readyState !== WebSocket.OPEN || !streamHandlers.has(sid)) return;
          if (!session) return ws.send(JSON.stringify({ t: 'send', sid, data: text }));
          const n = session.send++;
          ws.send(JSON.stringify({ t: 'send', sid, n, sealed: seal(session.keys.c2s, n, streamAad('send', sid), text) }));
        },
      };
    },
    request(r) {
      const id = `r${++next}`;
      const method = r.method.toUpperCase();
      const sentN = session ? session.send++ : -1;
      return new Promise<RelayAnswer>((resolve, reject) => {
        pending.set(id, (f) => {
          if (f.t === 'error') return reject(new RelayClientError(f.message));
          if (f.t === 'res') return resolve({ status: f.status, headers: f.headers, body: f.body, sealed: false });
          if (f.t !== 'sres' || !session) return reject(new RelayClientError('an answer of an unexpected kind'));
          try {
            if (f.n < session.recv) throw new Error('replayed');
            const inner = open(session.keys.s2c, f.n, responseAad(sentN, f.status), f.data) as { headers: Record<string, string>; body: string };
            session.recv = f.n + 1;
            resolve({ status: f.status, headers: inner.headers, body: inner.body, sealed: true });
          } catch {
            reject(new RelayClientError('an encrypted answer could not be opened: altered in transit, or not from the paired server'));
          }
        });
        if (ws.readyState !== WebSocket.OPEN) {
          pending.delete(id);
          return reject(new RelayClientError('the connection to the relay is closed'));
        }
        if (session) {
          ws.send(JSON.stringify({ t: 'sreq', id, method, path: r.path, n: sentN, data: seal(session.keys.c2s, sentN, requestAad(method, r.path), { headers: r.headers ?? {}, body: r.body }) }));
        } else {
          ws.send(JSON.stringify({ t: 'req', id, method, path: r.path, ...(r.headers ? { headers: r.headers } : {}), ...(r.body === undefined ? {} : { body: r.body }) }));
        }
      });
    },
  };
}
