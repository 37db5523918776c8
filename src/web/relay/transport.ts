// The page's transport through a relay: one WebSocket to the relay's /v1/relay/client (the
// client token rides as a subprotocol, since a browser cannot set Authorization on a WebSocket),
// requests multiplexed on it by id and the live feed as a stream, in the relay's client
// protocol (src/protocol/relay.ts; src/relay/client.ts is the Node client). With a pairing,
// an end-to-end session first: headers, bodies, answers and feed messages sealed in WebCrypto,
// frames sealed and opened strictly in order (the counters are the nonces). Opened on first use,
// again after a drop; a close 4401 (token revoked or expired) tells the page to ask again.
import { ApiFailure } from '../api.js';
import type { Answer, FeedSocket, Transport } from '../transport.js';
import { ephemeral, fromB64url, open, requestAad, responseAad, seal, sessionKeys, streamAad, type WebSessionKeys } from './e2e.js';

export interface RelayCredentials {
  room: string;
  token: string;
  /** From a pairing code: end-to-end encryption on. */
  pairing?: { id: string; psk: string };
}

/** A frame from the relay (src/protocol/relay.ts toClientFrameSchema; only what is used is typed). */
type Frame =
  | { t: 'res'; id: string; status: number; body: string }
  | { t: 'sres'; id: string; status: number; n: number; data: string }
  | { t: 'welcome'; epub: string }
  | { t: 'data'; sid: string; data?: string; n?: number; sealed?: string }
  | { t: 'end'; sid: string; code: number; reason: string }
  | { t: 'error'; id?: string; error: string; message: string };

interface Conn {
  ws: WebSocket;
  session: { keys: WebSessionKeys; send: number; recv: number } | null;
  pending: Map<string, (f: Frame) => Promise<void> | void>;
  streams: Map<string, (f: Extract<Frame, { t: 'data' | 'end' }>) => Promise<void> | void>;
  /** Sealed frames go out one after another, in counter order. */
  outbox: Promise<void>;
}

const CLOSED = 3;

export function relayTransport(c: RelayCredentials, o: { onUnauthorized(): void }): Transport {
  let conn: Promise<Conn> | null = null;
  let next = 0;

  function connect(): Promise<Conn> {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/relay/client?room=${encodeURIComponent(c.room)}`;
    const ws = new WebSocket(url, ['tapi-relay.v1', `tapi-token.${c.token}`]);
    const me: Conn = { ws, session: null, pending: new Map(), streams: new Map(), outbox: Promise.resolve() };
    let welcome: ((f: Frame) => void) | null = null;
    let inbox = Promise.resolve();
    ws.onmessage = (e) => {
      let f: Frame;
      try {
        f = JSON.parse(String(e.data)) as Frame;
      } catch {
        return;
      }
      // One frame at a time: opening is asynchronous, and counters must be taken in order.
      inbox = inbox
        .then(async () => {
          if (f.t === 'welcome' || (f.t === 'error' && f.id === undefined && welcome)) return welcome?.(f);
          if (f.t === 'data' || f.t === 'end') return await me.streams.get(f.sid)?.(f);
          if (f.id === undefined) return;
          const settle = me.pending.get(f.id);
          me.pending.delete(f.id);
          await settle?.(f);
        })
        .catch(() => undefined);
    };
    return new Promise<Conn>((resolve, reject) => {
      let opened = false;
      ws.onopen = () => {
        opened = true;
        if (!c.pairing) return resolve(me);
        void (async () => {
          const e = await ephemeral();
          const answer = await new Promise<Frame>((r) => {
            welcome = r;
            ws.send(JSON.stringify({ t: 'hello', pairing: c.pairing!.id, epub: e.publicKey }));
          });
          welcome = null;
          if (answer.t !== 'welcome') throw new Error(`token-api refused the encrypted session: ${answer.t === 'error' ? answer.message : answer.t}`);
          const keys = await sessionKeys({ psk: fromB64url(c.pairing!.psk), room: c.room, mine: e.privateKey, theirs: answer.epub, clientPub: e.publicKey, serverPub: answer.epub });
          me.session = { keys, send: 0, recv: 0 };
          resolve(me);
        })().catch((err: unknown) => {
          reject(err instanceof Error ? err : new Error(String(err)));
          ws.close(1000);
        });
      };
      ws.onclose = (e) => {
        welcome?.({ t: 'error', error: 'closed', message: 'the relay closed the connection' });
        if (!opened) return reject(new Error('the relay cannot be reached'));
        conn = null;
        for (const settle of me.pending.values()) void settle({ t: 'error', error: 'closed', message: `the relay closed the connection (${e.code})` });
        me.pending.clear();
        for (const end of [...me.streams.values()]) void end({ t: 'end', sid: '', code: e.code, reason: e.reason });
        if (e.code === 4401) o.onUnauthorized();
      };
    });
  }

  const ensure = (): Promise<Conn> => {
    conn ??= connect();
    const p = conn;
    p.catch(() => {
      if (conn === p) conn = null;
    });
    return p;
  };

  /** Sends a frame; a sealed one is built in the outbox's order, taking the next counter there. */
  function send(me: Conn, frame: (n: number) => Promise<object> | object): Promise<number> {
    const s = me.session;
    const sent = me.outbox.then(async () => {
      const n = s ? s.send++ : -1;
      const f = await frame(n);
      if (me.ws.readyState === 1) me.ws.send(JSON.stringify(f));
      return n;
    });
    me.outbox = sent.then(
      () => undefined,
      () => undefined,
    );
    return sent;
  }

  return {
    kind: 'relay',
    async request(method, path, body): Promise<Answer> {
      const me = await ensure();
      const id = `r${++next}`;
      const s = me.session;
      let sentN = -1;
      const answered = new Promise<Answer>((resolve, reject) => {
        me.pending.set(id, async (f) => {
          if (f.t === 'error') return reject(f.error === 'closed' ? new Error(f.message) : new ApiFailure(400, f.error, f.message));
          if (f.t === 'res') return resolve({ status: f.status, text: f.body });
          if (f.t !== 'sres' || !s) return reject(new ApiFailure(502, 'relay_error', 'an answer of an unexpected kind came through the relay'));
          try {
            if (f.n < s.recv) throw new Error('replayed');
            const inner = (await open(s.keys.s2c, f.n, responseAad(sentN, f.status), f.data)) as { body: string };
            s.recv = f.n + 1;
            resolve({ status: f.status, text: inner.body });
          } catch {
            reject(new ApiFailure(502, 'e2e_failed', 'an encrypted answer could not be opened: altered in transit, or not from the paired token-api'));
          }
        });
      });
      const headers = { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
      sentN = await send(me, async (n) =>
        s ? { t: 'sreq', id, method, path, n, data: await seal(s.keys.c2s, n, requestAad(method, path), { headers, body }) } : { t: 'req', id, method, path, headers, ...(body === undefined ? {} : { body }) },
      );
      return answered;
    },
    openFeed(query): FeedSocket {
      const sid = `s${++next}`;
      let me: Conn | null = null;
      const socket: FeedSocket = {
        readyState: 0,
        onopen: null,
        onmessage: null,
        onclose: null,
        send(text: string | ArrayBufferLike | Blob | ArrayBufferView) {
          if (!me || socket.readyState !== 1) return;
          const s = me.session;
          void send(me, async (n) => (s ? { t: 'send', sid, n, sealed: await seal(s.keys.c2s, n, streamAad('send', sid), String(text)) } : { t: 'send', sid, data: String(text) }));
        },
        close() {
          if (socket.readyState === CLOSED) return;
          if (me?.streams.delete(sid) && me.ws.readyState === 1) void send(me, () => ({ t: 'end', sid }));
          ended();
        },
      };
      const ended = () => {
        if (socket.readyState === CLOSED) return;
        (socket as { readyState: number }).readyState = CLOSED;
        queueMicrotask(() => socket.onclose?.call(socket as WebSocket, new CloseEvent('close')));
      };
      ensure().then(
        (c2) => {
          if (socket.readyState === CLOSED) return;
          me = c2;
          const s = c2.session;
          c2.streams.set(sid, async (f) => {
            if (f.t === 'end') {
              c2.streams.delete(sid);
              return ended();
            }
            let text: unknown = f.data;
            if (s) {
              if (f.n === undefined || f.sealed === undefined || f.n < s.recv) return;
              try {
                text = await open(s.keys.s2c, f.n, streamAad('data', sid), f.sealed);
                s.recv = f.n + 1;
              } catch {
                return; // not from the paired server: never shown
              }
            }
            if (typeof text === 'string') socket.onmessage?.call(socket as WebSocket, new MessageEvent('message', { data: text }));
          });
          void send(c2, () => ({ t: 'open', sid, query, ...(s ? { sealed: true } : {}) }));
          (socket as { readyState: number }).readyState = 1;
          socket.onopen?.call(socket as WebSocket, new Event('open'));
        },
        () => ended(),
      );
      return socket;
    },
  };
}
