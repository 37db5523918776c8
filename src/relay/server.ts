// `token-api relay`: the relay process. One HTTP(S) server: room servers connect to
// /v1/relay/server?room=R with their server key, clients to /v1/relay/client?room=R with a
// client token (as `Authorization: Bearer`, or from a browser, which cannot set that header on a
// WebSocket, as the subprotocol `tapi-token.<token>` beside `tapi-relay.v1`); a refused
// handshake is an HTTP answer in the API's error shape (401 unknown, expired or revoked; 403
// another room's token). The HTTP side has GET /health, POST /v1/relay/tokens (a room's server
// mints a client token for pairing), GET /v1/relay/whoami (a client token's room and role, for
// the web page) and the web page itself at /app/ (src/relay/web-page.ts).
// Revocations made with the CLI reach live connections through a poll of the database.
import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { iso } from '../lib/clock.js';
import { fieldsInWords, parseInWords, sentenceOfFields } from '../lib/validation-words.js';
import { VERSION } from '../lib/version.js';
import { mintTokenSchema, roomNameSchema } from '../protocol/relay.js';
import { createRateLimiter, type RateLimits } from './bucket.js';
import { createRouting, type RoutingLimits } from './routing.js';
import type { RelayStore } from './store.js';
import { CLIENT_PATH, SERVER_PATH, TOKENS_PATH, WHOAMI_PATH } from './url.js';
import { relayWebPage } from './web-page.js';


export interface RelayLimits extends RoutingLimits, RateLimits {
  /** The largest frame either side may send; a bigger one closes the socket with 1009. */
  maxFrameBytes: number;
  /** How often revocations made by `relay token revoke` are looked for. */
  revocationPollMs: number;
}

export const DEFAULT_RELAY_LIMITS: RelayLimits = {
  maxFrameBytes: 1024 * 1024,
  maxInFlight: 32,
  maxStreams: 4,
  maxBufferedBytes: 1024 * 1024,
  requestTimeoutMs: 30_000,
  ratePerSecond: 20,
  burst: 40,
  revocationPollMs: 1000,
};

export interface RelayServerDeps {
  store: RelayStore;
  clock: Clock;
  logger: Logger;
  limits?: Partial<RelayLimits>;
  /** PEM certificate and key: the relay speaks https and wss. */
  tls?: { cert: Buffer; key: Buffer };
  /** The built web page served at /app/ (default: dist/web of this token-api). */
  webRoot?: string;
}

export interface RunningRelay {
  url: string;
  port: number;
  stats(): { rooms: number; servers: number; clients: number };
  close(): Promise<void>;
}

function errorBody(error: string, message: string, fields?: Record<string, string>): string {
  return JSON.stringify({ error, message, ...(fields ? { fields } : {}) });
}

function refuse(socket: Duplex, status: number, error: string, message: string): void {
  const body = errorBody(error, message);
  const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`, 'Connection: close', 'Content-Type: application/json; charset=utf-8', `Content-Length: ${Buffer.byteLength(body)}`];
  if (status === 401) head.push('WWW-Authenticate: Bearer realm="token-api relay"');
  if (socket.writable) socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  else socket.destroy();
}

function reply(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function bearer(req: IncomingMessage): string | null {
  return /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '')?.[1] ?? null;
}

/** The subprotocol a browser client speaks; its token comes as `tapi-token.<token>` beside it. */
export const RELAY_SUBPROTOCOL = 'tapi-relay.v1';
const TOKEN_SUBPROTOCOL = 'tapi-token.';

/** A client's token: the Authorization header, else the subprotocol a browser sends it in. */
function clientToken(req: IncomingMessage): string | null {
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  return bearer(req) ?? offered.find((p) => p.startsWith(TOKEN_SUBPROTOCOL))?.slice(TOKEN_SUBPROTOCOL.length) ?? null;
}

const MINT_BODY_LIMIT = 4096;

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MINT_BODY_LIMIT) {
        resolve(null);
        req.destroy();
      } else chunks.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(null));
  });
}

export async function startRelay(deps: RelayServerDeps, listen: { port: number; host: string }): Promise<RunningRelay> {
  const limits = { ...DEFAULT_RELAY_LIMITS, ...deps.limits };
  const { store, clock, logger } = deps;
  const routing = createRouting({ clock, logger, limiter: createRateLimiter(limits, clock), limits, audit: (e) => store.audit(e) });
  // A browser's handshake is answered with the relay's subprotocol, never echoing its token.
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxFrameBytes, perMessageDeflate: false, handleProtocols: (offered) => (offered.has(RELAY_SUBPROTOCOL) ? RELAY_SUBPROTOCOL : false) });
  const page = relayWebPage(deps.webRoot);
  wss.on('wsClientError', (err: Error, socket: Duplex) => refuse(socket, 400, 'bad_request', `invalid WebSocket handshake: ${err.message}`));

  async function mint(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const room = roomNameSchema.safeParse(new URL(req.url ?? '/', 'http://relay').searchParams.get('room'));
    const key = bearer(req);
    const owner = room.success && key ? await store.roomForKey(room.data, key) : undefined;
    if (!owner) {
      store.audit({ what: 'mint_refused', room: room.success ? room.data : null, remote: req.socket.remoteAddress, status: 401 });
      return reply(res, 401, errorBody('unauthorized', 'minting a client token needs ?room=ROOM and that room\'s server key as "Authorization: Bearer <key>"'));
    }
    const text = await readBody(req);
    if (text === null) return reply(res, 413, errorBody('payload_too_large', `the body may be at most ${MINT_BODY_LIMIT} bytes`));
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return reply(res, 400, errorBody('bad_request', 'the body is not JSON'));
    }
    const body = parseInWords(mintTokenSchema, raw);
    if (!body.success) {
      const fields = fieldsInWords(body.error);
      return reply(res, 400, errorBody('validation_failed', sentenceOfFields(fields, 'field'), fields));
    }
    const made = await store.addToken({ room: owner.name, name: body.data.name, role: body.data.role, expiresInMs: body.data.expires });
    store.audit({ what: 'token_added', room: owner.name, client: made.id, remote: req.socket.remoteAddress, detail: `${body.data.role} by the room server` });
    reply(res, 201, JSON.stringify({ id: made.id, token: made.token, room: owner.name, role: body.data.role, expires_at: made.expiresAt }));
  }

  /** A client token's room, name, role and expiry: what the web page shows and which controls it offers. */
  async function whoami(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const token = bearer(req);
    const check = token ? await store.checkToken(token) : null;
    if (!check?.ok) return reply(res, 401, errorBody('unauthorized', `${check ? `${check.why} client token` : 'send "Authorization: Bearer <client token>"'}`));
    const t = check.token;
    reply(res, 200, JSON.stringify({ id: t.id, room: t.room, name: t.name, role: t.role, expires_at: t.expires_at }));
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (page(req, res, (status, body) => reply(res, status, body))) return;
    if (req.method === 'GET' && path === '/health') return reply(res, 200, JSON.stringify({ status: 'ok', version: VERSION, ...routing.stats() }));
    if (req.method === 'GET' && path === WHOAMI_PATH) {
      whoami(req, res).catch((err: Error) => {
        logger.error({ err }, 'relay: checking a client token failed');
        if (!res.headersSent) reply(res, 503, errorBody('unavailable', 'the relay could not check the token'));
      });
      return;
    }
    if (req.method === 'POST' && path === TOKENS_PATH) {
      mint(req, res).catch((err: Error) => {
        logger.error({ err }, 'relay: minting a token failed');
        if (!res.headersSent) reply(res, 500, errorBody('internal', 'the relay could not mint a token'));
      });
      return;
    }
    reply(res, 404, errorBody('not_found', `no such relay endpoint: ${req.method} ${path.slice(0, 200)}`));
  };

  const server: Server = deps.tls ? createHttpsServer({ cert: deps.tls.cert, key: deps.tls.key }, onRequest) : createHttpServer(onRequest);

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://relay');
    const remote = req.socket.remoteAddress;
    if (url.pathname !== SERVER_PATH && url.pathname !== CLIENT_PATH) return refuse(socket, 404, 'not_found', `no WebSocket endpoint at ${url.pathname.slice(0, 200)}; servers use ${SERVER_PATH}, clients ${CLIENT_PATH}`);
    const room = roomNameSchema.safeParse(url.searchParams.get('room'));
    if (!room.success) return refuse(socket, 400, 'validation_failed', `?room= ${room.error.issues[0]?.message ?? 'is required'}`);
    const token = url.pathname === SERVER_PATH ? bearer(req) : clientToken(req);
    if (token === null) return refuse(socket, 401, 'unauthorized', 'send "Authorization: Bearer <key or token>"');
    if (url.pathname === SERVER_PATH) {
      if (!(await store.roomForKey(room.data, token))) {
        store.audit({ what: 'server_refused', room: room.data, remote, status: 401 });
        return refuse(socket, 401, 'unauthorized', `that is not the server key of room ${room.data}`);
      }
      wss.handleUpgrade(req, socket, head, (ws) => routing.serverConnected(room.data, ws, remote));
      return;
    }
    const check = await store.checkToken(token);
    if (!check.ok) {
      store.audit({ what: 'client_refused', room: room.data, client: check.token?.id ?? null, remote, status: 401, detail: `${check.why} token` });
      return refuse(socket, 401, 'unauthorized', `${check.why} client token`);
    }
    if (check.token.room !== room.data) {
      store.audit({ what: 'client_refused', room: room.data, client: check.token.id, remote, status: 403, detail: `token of room ${check.token.room}` });
      return refuse(socket, 403, 'forbidden', `this client token belongs to another room, not ${room.data}`);
    }
    wss.handleUpgrade(req, socket, head, (ws) => routing.clientConnected(check.token, ws, remote));
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    upgrade(req, socket, head).catch((err: Error) => {
      logger.error({ err }, 'relay: a handshake failed');
      refuse(socket, 503, 'unavailable', 'the relay could not check the credentials');
    });
  });

  // Revocations from the CLI (another process) close live connections within one poll.
  let pollTimer: TimerHandle | undefined;
  let closed = false;
  const poll = async () => {
    const ids = routing.liveTokenIds();
    try {
      for (const id of await store.revokedAmong(ids)) routing.revoked(id, iso(clock.now()));
    } catch (err) {
      logger.warn({ err }, 'relay: the revocation poll failed');
    }
    if (!closed) pollTimer = clock.setTimeout(() => void poll(), limits.revocationPollMs);
  };
  pollTimer = clock.setTimeout(() => void poll(), limits.revocationPollMs);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'relay: the listening socket reported an error'));
  const { port } = server.address() as AddressInfo;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host;
  const url = `${deps.tls ? 'https' : 'http'}://${host}:${port}`;
  logger.info({ url, tls: Boolean(deps.tls) }, 'relay listening');
  return {
    url,
    port,
    stats: () => routing.stats(),
    async close() {
      closed = true;
      clock.clearTimeout(pollTimer);
      for (const ws of routing.sockets()) ws.close(1001, 'the relay is stopping');
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store.flushAudit();
    },
  };
}
