// The dashboard's transport through a relay (`token-api tui --relay` or `--pairing-file`): one
// relay client connection (src/relay/client.ts) carries both the dashboard's requests and its
// feed stream, end-to-end encrypted with a pairing. The connection is opened when first needed
// and again after it closed, so the dashboard's own reconnection (with its growing delays)
// drives it. Close codes and refusals become words; a revoked or expired client token (close
// 4401, 401 on the handshake), another room's token (403), a pairing the home server refuses and
// a relay certificate that is not the pinned one are final: said, not retried until r.
import { connectRelayClient, RelayClientError, type RelayClient, type RelayClientOptions } from '../relay/client.js';
import type { FeedLink, FeedLinkHandlers, Transport } from '../tui/transport.js';

export interface RelayTransportOptions {
  /** What to connect with; asked on each connection (it may pin the relay's certificate first). */
  options(): Promise<RelayClientOptions>;
  url: string;
  room: string;
  e2e: boolean;
}

type Closed = { code: number; reason: string };

/** Words for why the relay connection closed; `final` when only the person can mend it. */
export function connectionClosedWords(c: Closed): { reason: string; final: boolean } {
  if (c.code === 4401) return { reason: `the relay cut this client off: ${c.reason || 'token revoked or expired'} (a new token is needed)`, final: true };
  if (c.code === 4502) return { reason: 'the home server disconnected from the relay; waiting for it', final: false };
  if (c.code === 1001) return { reason: `the relay is stopping${c.reason ? ` (${c.reason})` : ''}`, final: false };
  if (c.code === 1006) return { reason: 'the connection to the relay was lost', final: false };
  return { reason: `the relay closed the connection (${c.code}${c.reason ? `: ${c.reason}` : ''})`, final: false };
}

/** Words for why the relay (or the home server's feed) ended a feed stream. */
export function streamEndedWords(e: Closed): string {
  if (e.code === 4502) return connectionClosedWords(e).reason;
  if (e.code === 4503) return 'the home server is not connected to the relay';
  if (e.code === 4008) return 'the relay ended the feed: this dashboard fell behind';
  if (e.code === 1001) return `the server closed the connection: ${e.reason || 'stopping'}`;
  return `the feed ended (${e.code}${e.reason ? `: ${e.reason}` : ''})`;
}

/**
 * A refusal that trying again will not mend: an unknown, expired or revoked token (401), another
 * room's (403), a pairing the home server does not know or gives to another token (`refused`),
 * a relay whose certificate is not the pinned one (`certificate_mismatch`).
 */
const isFinal = (err: unknown) => err instanceof RelayClientError && (err.status === 401 || err.status === 403 || err.code === 'refused' || err.code === 'certificate_mismatch');

export function relayTransport(o: RelayTransportOptions): Transport {
  /** The connection, or the attempt at one; null once it closed. */
  let current: Promise<RelayClient> | null = null;
  const closedWith = new WeakMap<RelayClient, Closed>();

  function client(): Promise<RelayClient> {
    if (current) return current;
    const attempt = o.options().then(connectRelayClient);
    current = attempt;
    attempt.then(
      (c) =>
        void c.closed.then((closed) => {
          closedWith.set(c, closed);
          if (current === attempt) current = null;
        }),
      () => {
        if (current === attempt) current = null;
      },
    );
    return attempt;
  }

  /** Drops the connection (taken as dead): the next request or feed opens a new one. */
  function drop(c: RelayClient): void {
    if (current) void current.then((now) => now === c && (current = null), () => undefined);
    c.close();
  }

  function openFeed(query: string, h: FeedLinkHandlers): FeedLink {
    let ended = false;
    let opened = false;
    let conn: RelayClient | null = null;
    let stream: ReturnType<RelayClient['openFeed']> | null = null;
    const finish = (reason: string, final = false) => {
      if (ended) return;
      ended = true;
      h.onClose(reason, final);
    };
    client().then(
      (c) => {
        if (ended) return;
        conn = c;
        const s = c.openFeed(query, (text) => {
          if (ended) return;
          // Open once the feed speaks: a relay whose home server is away ends the stream at once.
          if (!opened) {
            opened = true;
            h.onOpen();
          }
          h.onMessage(text);
        });
        stream = s;
        void s.ended.then((e) => {
          const closed = closedWith.get(c);
          if (!closed) return finish(streamEndedWords(e));
          const words = connectionClosedWords(closed);
          finish(words.reason, words.final);
        });
      },
      (err: Error) => finish(err.message, isFinal(err)),
    );
    return {
      send(text) {
        if (!stream || !opened || ended) return false;
        stream.send(text);
        return true;
      },
      close() {
        ended = true;
        stream?.end();
      },
      terminate(reason) {
        // Silence through a relay: the connection itself is taken as dead (a half-open socket).
        stream?.end();
        if (conn) drop(conn);
        finish(reason);
      },
    };
  }

  return {
    target: `${o.room} via relay`,
    relay: { host: new URL(o.url).host, room: o.room, e2e: o.e2e },
    async request(method, path, body) {
      const c = await client();
      const r = await c.request({ method, path, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body }) });
      return { status: r.status, body: r.body };
    },
    openFeed,
  };
}
