// The relay's wire: frames between a client and the relay, and between the relay and a room's
// server (token-api serve connected outbound), plus the relay's own HTTP bodies. Every frame is
// JSON text checked against these schemas on arrival; a frame that fails is answered with an
// error frame (or, for the server leg, dropped and logged), never trusted.
import { z } from 'zod';

export const RELAY_ROLES = ['read-only', 'admin'] as const;
export type RelayRole = (typeof RELAY_ROLES)[number];
export const relayRoleSchema = z.enum(RELAY_ROLES);

/** Methods a read-only token may send (the relay and the server both enforce it). */
export const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

export const roomNameSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a room name of lowercase letters, digits, dot, dash or underscore (at most 64)');
export const clientNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._ -]{0,63}$/, 'a name of letters, digits, dot, dash, space or underscore (at most 64)');

const requestId = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'an id of at most 64 letters, digits, dot, dash, colon or underscore');
const method = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);
const path = z.string().regex(/^\/[^\s#]{0,2047}$/, 'an absolute path (with its query string), at most 2048 characters');
const headers = z.record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/), z.string().max(4096)).refine((h) => Object.keys(h).length <= 32, 'at most 32 headers');
/** Ciphertext (and X25519 public keys) travel as base64url. */
const b64 = (max: number) => z.string().regex(/^[A-Za-z0-9_-]*$/, 'base64url').max(max);
const publicKey = b64(43).length(43, 'a raw X25519 public key (32 bytes, base64url)');
const counter = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const pairingId = z.string().regex(/^[a-z0-9]{8,32}$/, 'a pairing id');
const connId = z.string().uuid();

/** A request a client sends in the clear (the relay and the server can read it). */
const plainRequest = z.strictObject({ t: z.literal('req'), id: requestId, method, path, headers: headers.optional(), body: z.unknown().optional() });
/** An encrypted request: method and path in the clear (authenticated), headers and body sealed. */
const sealedRequest = z.strictObject({ t: z.literal('sreq'), id: requestId, method, path, n: counter, data: b64(2_000_000) });
/** Opens an end-to-end session: the client's ephemeral key and the pairing it holds. */
const clientHello = z.strictObject({ t: z.literal('hello'), pairing: pairingId, epub: publicKey });

const streamId = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'a stream id of at most 64 letters, digits, dot, dash, colon or underscore');
/** Opens the live feed as a stream (`since`, `types` as in /ws's query); `sealed`: its messages come encrypted. */
const openStream = z.strictObject({ t: z.literal('open'), sid: streamId, query: z.string().max(1024).regex(/^[^\s#]*$/, 'a query string without spaces'), sealed: z.boolean().optional() });
/** A message to the feed on a stream (subscribe, get_history, ...): plain text, or sealed with a counter. */
const streamSend = z.strictObject({ t: z.literal('send'), sid: streamId, data: z.string().max(65_536).optional(), n: counter.optional(), sealed: b64(100_000).optional() });
const endStream = z.strictObject({ t: z.literal('end'), sid: streamId });

export const clientFrameSchema = z.discriminatedUnion('t', [plainRequest, sealedRequest, clientHello, openStream, streamSend, endStream]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;

export interface RelayClientInfo {
  /** The client token's id (what the audit names). */
  id: string;
  name: string;
  role: RelayRole;
}
const clientInfo = z.strictObject({ id: z.string().max(64), name: z.string().max(64), role: relayRoleSchema });

/** What the relay sends the room's server. */
export const toServerFrameSchema = z.discriminatedUnion('t', [
  plainRequest.extend({ client: clientInfo }),
  sealedRequest.extend({ client: clientInfo, conn: connId }),
  clientHello.extend({ client: clientInfo, conn: connId }),
  openStream.extend({ client: clientInfo, conn: connId }),
  streamSend.extend({ conn: connId }),
  endStream.extend({ conn: connId }),
  z.strictObject({ t: z.literal('gone'), conn: connId }),
]);
export type ToServerFrame = z.infer<typeof toServerFrameSchema>;

const status = z.number().int().min(100).max(599);
const plainResponse = z.strictObject({ t: z.literal('res'), id: requestId, status, headers: headers, body: z.string().max(2_000_000) });
const sealedResponse = z.strictObject({ t: z.literal('sres'), id: requestId, status, n: counter, data: b64(2_800_000) });

/** What the room's server answers. */
export const fromServerFrameSchema = z.discriminatedUnion('t', [
  plainResponse,
  sealedResponse,
  z.strictObject({ t: z.literal('welcome'), conn: connId, epub: publicKey }),
  z.strictObject({ t: z.literal('refuse'), conn: connId, message: z.string().max(500) }),
  z.strictObject({ t: z.literal('data'), conn: connId, sid: streamId, data: z.string().max(4_000_000).optional(), n: counter.optional(), sealed: b64(6_000_000).optional() }),
  z.strictObject({ t: z.literal('end'), conn: connId, sid: streamId, code: z.number().int().min(1000).max(4999), reason: z.string().max(123) }),
]);
export type FromServerFrame = z.infer<typeof fromServerFrameSchema>;

/** What a client hears: answers (plain or sealed), the session's welcome, or an error. */
export const toClientFrameSchema = z.discriminatedUnion('t', [
  plainResponse,
  sealedResponse,
  z.strictObject({ t: z.literal('welcome'), epub: publicKey }),
  z.strictObject({ t: z.literal('data'), sid: streamId, data: z.string().max(4_000_000).optional(), n: counter.optional(), sealed: b64(6_000_000).optional() }),
  z.strictObject({ t: z.literal('end'), sid: streamId, code: z.number().int().min(1000).max(4999), reason: z.string().max(123) }),
  z.strictObject({ t: z.literal('error'), id: z.string().max(64).optional(), error: z.string().max(64), message: z.string().max(2000) }),
]);
export type ToClientFrame = z.infer<typeof toClientFrameSchema>;

/** `5m`, `12h`, `30d` or `never`: how long a client token lives. */
export const durationSchema = z
  .string()
  .regex(/^(never|\d{1,6}[smhd])$/, 'a duration such as 90s, 15m, 12h or 30d, or never')
  .transform((v) => (v === 'never' ? null : Number(v.slice(0, -1)) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[v.slice(-1) as 's' | 'm' | 'h' | 'd']));

/** POST /v1/relay/tokens: a room's server (its key as the bearer) asks for a client token. */
export const mintTokenSchema = z.strictObject({ name: clientNameSchema, role: relayRoleSchema, expires: durationSchema });

/** The headers of a relayed request and answer that cross (the rest describe a connection or a credential). */
export const RELAYED_HEADERS: ReadonlySet<string> = new Set(['content-type', 'accept', 'retry-after', 'allow', 'www-authenticate', 'cache-control', 'etag', 'if-none-match']);
