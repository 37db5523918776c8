// `token-api relay …`: run a relay (serve), manage its rooms, client tokens and audit log
// (room, token, audit: on the relay's machine, straight on its database), send a request
// through it as a client (request, curl-like), and pair a client with this server for
// end-to-end encryption (pair: on the token-api server's machine, shows a QR code).
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import QRCode from 'qrcode';
import type { z } from 'zod';
import { loadConfig } from '../config/config.js';
import { iso, systemClock } from '../lib/clock.js';
import { closeLogger, createLogger } from '../lib/logger.js';
import { fieldsInWords, parseInWords } from '../lib/validation-words.js';
import { clientNameSchema, durationSchema, relayRoleSchema, roomNameSchema, type RelayRole } from '../protocol/relay.js';
import { connectRelayClient, RelayClientError } from '../relay/client.js';
import { readCa, readServerKey } from '../relay/link.js';
import { addPairing, encodePairingCode, newPairing } from '../relay/pairings.js';
import { fingerprintOf } from '../relay/pin.js';
import { DEFAULT_RELAY_LIMITS, startRelay } from '../relay/server.js';
import { TOKENS_PATH } from '../relay/url.js';
import { openRelayStore } from '../relay/store.js';
import { readFileOrSay, relayClientOptions, relayTargetOf, RelayUsageError } from './relay-target.js';

type Values = Record<string, string | boolean | undefined>;

const usage = `token-api relay <subcommand> [options]

A relay lets clients (a phone, a laptop) reach a token-api server with no port forwarding:
the server connects out to the relay, clients connect to it with a client token, and the
relay routes their requests to the server of their room.

On the relay's machine (--home is the relay's data directory, default ~/.token-api-relay
or $TOKEN_API_RELAY_HOME; its database is relay.db, its log logs/relay.log):
  relay serve [--port N] [--host ADDR] [--tls-cert FILE --tls-key FILE]
              [--rate N] [--burst N] [--max-frame-bytes N] [--log-level LEVEL]
              [--web-root DIR]
                    run the relay (default port 7780 on 127.0.0.1; rate 20/s, burst 40
                    requests per client token; frames up to 1 MiB); it serves the web
                    page at /app/ (from DIR, default the page this token-api built)
  relay room add NAME        create a room; prints its server key once
  relay room list            rooms and their live token counts
  relay token add --room NAME --role read-only|admin [--expires 30d|12h|never] [--name N]
                             a client token; printed once (default: 30d, read-only)
  relay token list [--room NAME]
  relay token revoke ID      revoked at once: live connections close within a second
  relay audit [--room NAME] [--limit N] [--json]
                             the newest audit rows: connections, writes, refusals

On a client (curl-like):
  relay request [-X METHOD] [-d BODY] [-H "Name: value"] [-i] PATH
                --pairing-file FILE        a pairing code (from relay pair): encrypted end to end
            or  --url URL --room NAME      with the client token in $TOKEN_API_RELAY_TOKEN
                                           or --token-file FILE (never on the command line)
                [--ca FILE]                trust this certificate (a self-signed relay)
                             prints the body; -i prints the status line and headers first;
                             exit 0 for 2xx-3xx, 1 otherwise
  relay feed [--since SEQ] [--types a,b] (--pairing-file FILE | --url URL --room NAME)
                             follows the live feed through the relay: one JSON message a
                             line (a snapshot first), until Ctrl-C
  token-api tui (--pairing-file FILE | --relay URL --room NAME)
                             the terminal dashboard through the relay (tui --help)

On the token-api server (--home/--config are token-api's, whose config has "relay"):
  relay pair [--role read-only|admin] [--expires 30d] [--name N] [--json]
                             mints a client token for this room, makes a pairing key, and
                             shows both as a QR code (it opens the relay's web page, paired)
                             and as a tapi1: line (for relay request, or pasted in the page)`;

export const relayOptions: NonNullable<ParseArgsConfig['options']> = {
  help: { type: 'boolean', short: 'h' },
  home: { type: 'string' },
  config: { type: 'string' },
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  rate: { type: 'string' },
  burst: { type: 'string' },
  'max-frame-bytes': { type: 'string' },
  'log-level': { type: 'string' },
  'web-root': { type: 'string' },
  room: { type: 'string' },
  role: { type: 'string' },
  expires: { type: 'string' },
  name: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
  request: { type: 'string', short: 'X' },
  data: { type: 'string', short: 'd' },
  header: { type: 'string', short: 'H', multiple: true },
  include: { type: 'boolean', short: 'i' },
  'pairing-file': { type: 'string' },
  url: { type: 'string' },
  'token-file': { type: 'string' },
  since: { type: 'string' },
  types: { type: 'string' },
  ca: { type: 'string' },
};

const relayHome = (values: Values) => resolve(typeof values.home === 'string' ? values.home : (process.env.TOKEN_API_RELAY_HOME ?? join(homedir(), '.token-api-relay')));

function parsed<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = parseInWords(schema, value);
  if (r.success) return r.data;
  throw new RelayUsageError(`${what} ${Object.values(fieldsInWords(r.error))[0] ?? 'is not valid'}`);
}

function number(text: string | boolean | undefined, name: string, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (typeof text !== 'string' || !Number.isFinite(n) || n < min || n > max) throw new RelayUsageError(`--${name} must be a number from ${min} to ${max}, got "${String(text)}"`);
  return n;
}

async function serve(values: Values): Promise<number> {
  const home = relayHome(values);
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  if ((cert === undefined) !== (key === undefined)) throw new RelayUsageError('--tls-cert and --tls-key go together');
  const tls = typeof cert === 'string' && typeof key === 'string' ? { cert: readFileOrSay(cert, 'the certificate'), key: readFileOrSay(key, 'the key') } : undefined;
  const level = typeof values['log-level'] === 'string' ? values['log-level'] : 'info';
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(level)) throw new RelayUsageError(`--log-level must be trace, debug, info, warn, error, fatal or silent`);
  const logger = createLogger({ level, file: join(home, 'logs', 'relay.log'), stderr: 'text' });
  const store = await openRelayStore({ home, clock: systemClock, logger });
  const relay = await startRelay(
    {
      store,
      clock: systemClock,
      logger,
      tls,
      ...(typeof values['web-root'] === 'string' ? { webRoot: resolve(values['web-root']) } : {}),
      limits: {
        ratePerSecond: number(values.rate, 'rate', DEFAULT_RELAY_LIMITS.ratePerSecond, 0.01, 100_000),
        burst: number(values.burst, 'burst', DEFAULT_RELAY_LIMITS.burst, 1, 100_000),
        maxFrameBytes: number(values['max-frame-bytes'], 'max-frame-bytes', DEFAULT_RELAY_LIMITS.maxFrameBytes, 1024, 64 * 1024 * 1024),
      },
    },
    { port: number(values.port, 'port', 7780, 0, 65535), host: typeof values.host === 'string' ? values.host : '127.0.0.1' },
  );
  process.stderr.write(`token-api relay listening on ${relay.url} (data ${home}; log ${join(home, 'logs', 'relay.log')})\n`);
  await new Promise<void>((resolveStop) => {
    const stop = (signal: NodeJS.Signals) => {
      process.stderr.write(`${signal}: stopping the relay…\n`);
      resolveStop();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await relay.close();
  await store.close();
  await closeLogger(logger);
  return 0;
}

async function withStore<T>(values: Values, fn: (store: Awaited<ReturnType<typeof openRelayStore>>) => Promise<T>): Promise<T> {
  const store = await openRelayStore({ home: relayHome(values), clock: systemClock });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const out = (line: string) => process.stdout.write(`${line}\n`);

async function room(values: Values, args: string[]): Promise<number> {
  const [action, name, ...extra] = args;
  if (extra.length > 0) throw new RelayUsageError(`unexpected argument "${extra[0]}"`);
  if (action === 'list') {
    return withStore(values, async (store) => {
      const rooms = await store.rooms();
      if (values.json) out(JSON.stringify(rooms.map((r) => ({ name: r.name, tokens: r.tokens, created_at: r.created_at }))));
      else if (rooms.length === 0) out('no rooms yet: token-api relay room add NAME');
      else for (const r of rooms) out(`${r.name}\t${r.tokens} live token(s)\tcreated ${r.created_at}`);
      return 0;
    });
  }
  if (action !== 'add') throw new RelayUsageError(action === undefined ? 'relay room needs add or list' : `unknown action "room ${action}" (add or list)`);
  const roomName = parsed(roomNameSchema, name, 'the room name');
  return withStore(values, async (store) => {
    const made = await store.addRoom(roomName);
    if (!made) {
      process.stderr.write(`token-api relay room add: room ${roomName} exists already (its key was shown when it was made)\n`);
      return 1;
    }
    store.audit({ what: 'room_added', room: roomName, detail: 'cli' });
    if (values.json) out(JSON.stringify({ room: roomName, server_key: made.serverKey }));
    else {
      out(made.serverKey);
      process.stderr.write(
        `room ${roomName} created. The line above is its server key, shown once: on the token-api server, put it in $TOKEN_API_HOME/relay-key (mode 0600) and add to its config.json:\n  "relay": { "url": "https://THIS-RELAY:PORT", "room": "${roomName}" }\n`,
      );
    }
    return 0;
  });
}

async function token(values: Values, args: string[]): Promise<number> {
  const [action, id, ...extra] = args;
  if (extra.length > 0) throw new RelayUsageError(`unexpected argument "${extra[0]}"`);
  return withStore(values, async (store) => {
    if (action === 'add') {
      if (id !== undefined) throw new RelayUsageError(`unexpected argument "${id}"`);
      const roomName = parsed(roomNameSchema, values.room, '--room');
      if (!(await store.rooms()).some((r) => r.name === roomName)) throw new RelayUsageError(`no room ${roomName} (token-api relay room list shows them)`);
      const role = parsed(relayRoleSchema, values.role ?? 'read-only', '--role');
      const expires = parsed(durationSchema, values.expires ?? '30d', '--expires');
      const name = parsed(clientNameSchema, values.name ?? 'client', '--name');
      const made = await store.addToken({ room: roomName, name, role, expiresInMs: expires });
      store.audit({ what: 'token_added', room: roomName, client: made.id, detail: `${role} by the cli` });
      if (values.json) out(JSON.stringify({ id: made.id, token: made.token, room: roomName, role, expires_at: made.expiresAt }));
      else {
        out(made.token);
        process.stderr.write(`client token ${made.id} (${role}, room ${roomName}, ${made.expiresAt ? `expires ${made.expiresAt}` : 'never expires'}); shown once\n`);
      }
      return 0;
    }
    if (action === 'list') {
      if (id !== undefined) throw new RelayUsageError(`unexpected argument "${id}"`);
      const roomName = values.room === undefined ? null : parsed(roomNameSchema, values.room, '--room');
      const rows = await store.tokens(roomName);
      const now = systemClock.now();
      const state = (t: (typeof rows)[number]) => (t.revoked_at ? `revoked ${t.revoked_at}` : t.expires_at && Date.parse(t.expires_at) <= now ? `expired ${t.expires_at}` : t.expires_at ? `expires ${t.expires_at}` : 'never expires');
      if (values.json) out(JSON.stringify(rows.map(({ token_sha256: _hash, ...t }) => t)));
      else if (rows.length === 0) out('no client tokens');
      else for (const t of rows) out(`${t.id}\t${t.room}\t${t.role}\t${t.name}\t${state(t)}`);
      return 0;
    }
    if (action === 'revoke') {
      if (!id) throw new RelayUsageError('relay token revoke needs the token id (relay token list shows them)');
      if (!(await store.revokeToken(id))) {
        process.stderr.write(`token-api relay token revoke: no live token ${id}\n`);
        return 1;
      }
      store.audit({ what: 'token_revoked', client: id, detail: 'cli' });
      out(`revoked ${id}`);
      return 0;
    }
    throw new RelayUsageError(action === undefined ? 'relay token needs add, list or revoke' : `unknown action "token ${action}" (add, list or revoke)`);
  });
}

async function audit(values: Values, args: string[]): Promise<number> {
  if (args.length > 0) throw new RelayUsageError(`unexpected argument "${args[0]}"`);
  const roomName = values.room === undefined ? null : parsed(roomNameSchema, values.room, '--room');
  const limit = number(values.limit, 'limit', 50, 1, 100_000);
  return withStore(values, async (store) => {
    const rows = await store.recentAudit(roomName, Math.floor(limit));
    if (values.json) out(JSON.stringify(rows));
    else for (const r of rows.reverse()) out([r.at, r.room ?? '-', r.client ?? '-', r.what, r.method ?? '', r.path ?? '', r.status ?? '', r.remote ?? '', r.detail ?? ''].join('\t').trimEnd());
    return 0;
  });
}

function headerPairs(values: Values): Record<string, string> {
  const list = (values.header as unknown as string[] | undefined) ?? [];
  const headers: Record<string, string> = {};
  for (const h of list) {
    const m = /^([A-Za-z0-9-]{1,64}):\s*(.*)$/.exec(h);
    if (!m) throw new RelayUsageError(`-H takes "Name: value", got "${h}"`);
    headers[m[1]!.toLowerCase()] = m[2]!;
  }
  return headers;
}

async function request(values: Values, args: string[]): Promise<number> {
  const [path, ...extra] = args;
  if (!path || extra.length > 0) throw new RelayUsageError(path ? `unexpected argument "${extra[0]}"` : 'relay request needs a PATH, such as /api/instances');
  if (!path.startsWith('/')) throw new RelayUsageError(`the path starts with /, as in /api/instances (got "${path}")`);
  const method = typeof values.request === 'string' ? values.request.toUpperCase() : typeof values.data === 'string' ? 'POST' : 'GET';
  const headers = headerPairs(values);
  let body: unknown;
  if (typeof values.data === 'string') {
    body = values.data;
    headers['content-type'] ??= 'application/json';
  }
  try {
    const client = await connectRelayClient(await relayClientOptions(relayTargetOf(values, 'url')));
    const res = await client.request({ method, path, headers, body });
    client.close();
    if (values.include) {
      process.stdout.write(`${res.status}${res.sealed ? ' (end-to-end encrypted)' : ''}\n`);
      for (const [k, v] of Object.entries(res.headers)) process.stdout.write(`${k}: ${v}\n`);
      process.stdout.write('\n');
    }
    process.stdout.write(res.body.endsWith('\n') || res.body === '' ? res.body : `${res.body}\n`);
    if (res.status >= 400) process.stderr.write(`token-api relay request: ${method} ${path} answered ${res.status}\n`);
    return res.status < 400 ? 0 : 1;
  } catch (err) {
    if (err instanceof RelayClientError) {
      process.stderr.write(`token-api relay request: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

async function feed(values: Values, args: string[]): Promise<number> {
  if (args.length > 0) throw new RelayUsageError(`unexpected argument "${args[0]}"`);
  const query = new URLSearchParams();
  if (typeof values.since === 'string') query.set('since', values.since);
  if (typeof values.types === 'string') query.set('types', values.types);
  try {
    const client = await connectRelayClient(await relayClientOptions(relayTargetOf(values, 'url')));
    const stream = client.openFeed(query.toString(), (text) => process.stdout.write(`${text}\n`));
    let stopped = false;
    const stop = () => {
      stopped = true;
      stream.end();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const ended = await stream.ended;
    client.close();
    if (stopped) return 0;
    process.stderr.write(`token-api relay feed: the stream ended (${ended.code}${ended.reason ? `: ${ended.reason}` : ''})\n`);
    return 1;
  } catch (err) {
    if (err instanceof RelayClientError) {
      process.stderr.write(`token-api relay feed: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

async function pair(values: Values, args: string[]): Promise<number> {
  if (args.length > 0) throw new RelayUsageError(`unexpected argument "${args[0]}"`);
  const config = loadConfig({ ...(typeof values.home === 'string' ? { home: values.home } : {}), ...(typeof values.config === 'string' ? { config: values.config } : {}) });
  if (!config.relay) throw new RelayUsageError(`the config (${config.configFile}) has no "relay": { "url", "room" } section, so this server reaches no relay`);
  const role: RelayRole = parsed(relayRoleSchema, values.role ?? 'read-only', '--role');
  const expires = typeof values.expires === 'string' ? values.expires : '30d';
  parsed(durationSchema, expires, '--expires');
  const name = parsed(clientNameSchema, values.name ?? 'paired client', '--name');
  const key = readServerKey(config.relay);
  const url = new URL(config.relay.url);
  url.protocol = url.protocol === 'wss:' ? 'https:' : url.protocol === 'ws:' ? 'http:' : url.protocol;
  const mintUrl = `${url.toString().replace(/\/$/, '')}${TOKENS_PATH}?room=${encodeURIComponent(config.relay.room)}`;
  const ca = readCa(config.relay);
  const minted = await mintToken(mintUrl, key, { name, role, expires }, ca);
  const pairing = newPairing({ name, role, tokenId: minted.id, now: iso(systemClock.now()) });
  addPairing(config.relay.pairingsFile, pairing);
  // A relay trusted through relay.ca_file (self-signed): the client pins its certificate.
  const code = encodePairingCode({ url: config.relay.url, room: config.relay.room, token: minted.token, pairing: pairing.id, psk: pairing.psk, ...(ca ? { fingerprint: fingerprintOf(ca) } : {}) });
  // The QR code opens the relay's web page with the code in the fragment, which no server sees.
  const page = `${url.toString().replace(/\/$/, '')}/app/#pair=${code}`;
  if (values.json) {
    out(JSON.stringify({ pairing: pairing.id, token_id: minted.id, role, expires_at: minted.expires_at, code, page_url: page }));
    return 0;
  }
  out((await QRCode.toString(page, { type: 'terminal', small: true, errorCorrectionLevel: 'L' })).trimEnd());
  out('');
  out(code);
  process.stderr.write(
    `paired ${pairing.id} (${role}, client token ${minted.id}, ${minted.expires_at ? `expires ${minted.expires_at}` : 'never expires'}). Scan the code with a phone to open the web page through the relay (${url.origin}/app/, paired), or paste the line above into that page, or save it in a file for token-api tui --pairing-file (or relay request, relay feed). It holds a secret: show it only to the client. Revoke with token-api relay token revoke ${minted.id} on the relay.\n`,
  );
  return 0;
}

async function mintToken(url: string, key: string, body: unknown, ca: Buffer | undefined): Promise<{ id: string; token: string; expires_at: string | null }> {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolvePromise, reject) => {
    const text = JSON.stringify(body);
    const req = send(url, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }, ...(ca ? { ca } : {}) }, (res: IncomingMessage) => {
      let answer = '';
      res.on('data', (d: Buffer) => (answer += d.toString()));
      res.on('end', () => {
        let json: { id?: string; token?: string; expires_at?: string | null; message?: string } = {};
        try {
          json = JSON.parse(answer) as typeof json;
        } catch {
          // not JSON
        }
        if (res.statusCode === 201 && json.id && json.token) resolvePromise({ id: json.id, token: json.token, expires_at: json.expires_at ?? null });
        else reject(new RelayUsageError(`the relay refused to mint a client token (${res.statusCode}): ${json.message ?? answer.slice(0, 200)}`));
      });
    });
    req.on('error', (err: Error) => reject(new RelayUsageError(`cannot reach the relay at ${url}: ${err.message}`)));
    req.end(text);
  });
}

export const relayCommand = {
  summary: 'run a relay, manage its rooms and client tokens, send requests through it, pair clients (relay --help)',
  usage,
  options: relayOptions,
  async run(values: Values, positionals: string[]): Promise<number> {
    const [sub, ...args] = positionals;
    try {
      switch (sub) {
        case 'serve':
          if (args.length > 0) throw new RelayUsageError(`relay serve takes no arguments, got "${args[0]}"`);
          return await serve(values);
        case 'room':
          return await room(values, args);
        case 'token':
          return await token(values, args);
        case 'audit':
          return await audit(values, args);
        case 'request':
          return await request(values, args);
        case 'pair':
          return await pair(values, args);
        case 'feed':
          return await feed(values, args);
        default:
          throw new RelayUsageError(sub === undefined ? 'a subcommand is needed' : `unknown subcommand "${sub}"`);
      }
    } catch (err) {
      if (err instanceof RelayUsageError) {
        process.stderr.write(`token-api relay${sub ? ` ${sub}` : ''}: ${err.message}\n${sub && ['serve', 'room', 'token', 'audit', 'request', 'feed', 'pair'].includes(sub) ? '(token-api relay --help lists the options)\n' : `\n${usage}\n`}`);
        return 2;
      }
      throw err;
    }
  },
};
