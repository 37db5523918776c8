// Bad input on the live feed: fast-check sends thousands of malformed or hostile messages and
// upgrades, as raw bytes, to the real server process's /ws: broken and deeply nested JSON, huge
// strings, wrong types and unknown fields in every client request, unknown types, binary and
// fragmented frames, unicode edge cases; frames that break the protocol (invalid UTF-8, over
// the size limit, reserved bits and opcodes, unmasked, bad close frames); bad ?since= and
// ?types=; upgrades with bad methods, paths and headers; and callers beyond loopback without
// the token (through this machine's own non-loopback address). docs/websocket.md is the
// oracle: an `error` message and the connection stays up, a close with a 1xxx code, or an
// HTTP 4xx in the error shape; never a crash, never a 5xx, no row written; afterwards a fresh
// client gets a correct snapshot and live deltas.
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { openDatabase } from '../src/db/database.js';
import { HISTORY_MAX, STREAM_TYPES } from '../src/protocol/feed.js';
import { assertConsecutive, connectFeed, streamOf } from './support/feed.js';
import { brokenJson, hostileString, hostileValue, rawByteMarker, stringBytes, unicodeEdge, withRawBytes, wrongType, type JsonType } from './support/hostile.js';
import { startServerProcess, type ServerProcess } from './support/process.js';
import type { RawAnswer } from './support/raw-http.js';
import { hookPayload, tempHome } from './support/system.js';
import { closePayload, frameBytes, frameJson, handshakeHeaders, OP, openWire, upgradeBytes, upgradeExchange, type WireClient, type WireFrame } from './support/ws-wire.js';

/** websocket.max_message_bytes in this test's configuration. */
const LIMIT = 32 * 1024;
const LOOPBACK = '127.0.0.1';
const REQUESTS = ['subscribe', 'get_history', 'get_snapshot', 'ping'] as const;
type Request = (typeof REQUESTS)[number];
/** This machine's own address beyond loopback, if it has one: a caller from there is not local. */
const REMOTE = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

// ---- messages on an open connection: each gets one `error`, and the connection stays up ----

/** What the server must answer: an `error` with this code, naming `field` (a key of `fields`, or its prefix). */
interface Expect {
  error: 'invalid_json' | 'unknown_type' | 'validation_failed' | 'binary_not_accepted';
  field?: string;
}

interface BadMessage {
  label: string;
  opcode: typeof OP.text | typeof OP.binary;
  payload: Buffer;
  expect: Expect;
}

interface MessageField {
  accepts: JsonType[];
  required?: boolean;
  /** Values of an accepted type that are still refused. */
  bad: fc.Arbitrary<unknown>[];
}

/** More than `over` characters (code points, as the schemas count them: an emoji is one). */
const longString = (over: number, max: number) => fc.tuple(fc.integer({ min: over + 1, max }), fc.constantFrom('x', 'é', '😀', '\u202e', '\u0000')).map(([n, c]) => c.repeat(n));
const idField: MessageField = { accepts: ['string'], bad: [fc.constant(''), longString(64, 4000)] };
const notStreamType = fc.oneof(hostileString, fc.constantFrom(...STREAM_TYPES.map((t) => t.toUpperCase()), ...STREAM_TYPES.map((t) => ` ${t}`), 'snapshot', 'pong', 'error', 'all', '*', 'instances', 'usage')).filter((s) => !(STREAM_TYPES as readonly string[]).includes(s));

const FIELDS: Record<Request, Record<string, MessageField>> = {
  subscribe: {
    id: idField,
    types: {
      accepts: ['array'],
      required: true,
      bad: [
        fc.constant([]),
        fc.tuple(fc.array(fc.constantFrom(...STREAM_TYPES), { maxLength: 3 }), notStreamType, fc.nat()).map(([ok, bad, at]) => [...ok.slice(0, at % (ok.length + 1)), bad, ...ok.slice(at % (ok.length + 1))]),
        fc.array(fc.constantFrom(...STREAM_TYPES), { minLength: STREAM_TYPES.length + 1, maxLength: 40 }),
        fc.array(wrongType(['string']), { minLength: 1, maxLength: 3 }),
      ],
    },
  },
  get_history: {
    id: idField,
    before: { accepts: ['integer'], required: true, bad: [fc.integer({ max: -1 }), fc.constantFrom(2 ** 53, 1e300, -0.5, Number.MAX_VALUE, -(2 ** 53))] },
    limit: { accepts: ['integer'], bad: [fc.integer({ max: 0 }), fc.integer({ min: HISTORY_MAX + 1 }), fc.constantFrom(2 ** 53, 1e300)] },
  },
  get_snapshot: { id: idField },
  ping: { id: idField },
};

const BASES: Record<Request, Record<string, unknown>> = {
  subscribe: { type: 'subscribe', types: ['instance', 'event'] },
  get_history: { type: 'get_history', before: 1, limit: 10 },
  get_snapshot: { type: 'get_snapshot' },
  ping: { type: 'ping' },
};

/** A key no request takes, or one that this request does not take. */
const unknownKey = (req: Request) =>
  fc
    .oneof(
      fc.string({ minLength: 0, maxLength: 12 }),
      unicodeEdge,
      { weight: 2, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'Type', 'ID', 'type ', 'before', 'limit', 'types', 'since', 'seq', 'token') },
      longString(100, 3000),
    )
    .filter((k) => k !== 'type' && !(k in FIELDS[req]));

/** Sets a property as JSON.parse would, even `__proto__`. */
function put(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

interface Mutation {
  field: string;
  apply: (o: Record<string, unknown>) => void;
}

/** Each way of making one request invalid, naming the field it breaks. */
function mutations(req: Request): fc.Arbitrary<Mutation>[] {
  const out: fc.Arbitrary<Mutation>[] = [fc.tuple(unknownKey(req), hostileValue).map(([k, v]) => ({ field: k, apply: (o) => put(o, k, v) }))];
  for (const [name, f] of Object.entries(FIELDS[req])) {
    for (const bad of [wrongType(f.accepts), ...f.bad]) out.push(bad.map((v) => ({ field: name, apply: (o) => put(o, name, v) })));
    if (f.required) out.push(fc.constant({ field: name, apply: (o) => void delete o[name] }));
  }
  return out;
}

const maybeId = fc.option(fc.oneof(fc.stringMatching(/^[a-z0-9-]{1,64}$/), fc.constantFrom('\u202eid', 'a\u0000b', '😀', '\ud800')), { nil: undefined });

function textMessage(text: string, expect: Expect): BadMessage {
  return { label: text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text, opcode: OP.text, payload: Buffer.from(text, 'utf8'), expect };
}

/** One request broken in exactly one way: `validation_failed` naming that field. */
const oneBadField: fc.Arbitrary<BadMessage> = fc.constantFrom(...REQUESTS).chain((req) =>
  fc.tuple(fc.oneof(...mutations(req)), maybeId).map(([m, id]) => {
    const o: Record<string, unknown> = structuredClone(BASES[req]);
    if (id !== undefined && m.field !== 'id') o.id = id;
    m.apply(o);
    return textMessage(JSON.stringify(o), { error: 'validation_failed', field: m.field });
  }),
).filter((m) => m.payload.length <= LIMIT);

/** Several things wrong at once: still `validation_failed`. */
const manyBadFields: fc.Arbitrary<BadMessage> = fc.constantFrom(...REQUESTS).chain((req) =>
  fc.array(fc.oneof(...mutations(req)), { minLength: 2, maxLength: 4 }).map((ms) => {
    const o: Record<string, unknown> = structuredClone(BASES[req]);
    for (const m of ms) m.apply(o);
    return textMessage(JSON.stringify(o), { error: 'validation_failed' });
  }),
).filter((m) => m.payload.length <= LIMIT);

const deep = (depth: number, inner = '1') => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** Valid JSON that is not a request: `unknown_type`, naming `type`. */
const notARequest: fc.Arbitrary<BadMessage> = fc
  .oneof(
    fc.jsonValue({ maxDepth: 3 }).filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)).map((v) => JSON.stringify(v)),
    fc.tuple(fc.dictionary(fc.string({ maxLength: 8 }).filter((k) => k !== 'type'), hostileValue, { maxKeys: 4 }), maybeId).map(([o, id]) => JSON.stringify(id === undefined ? o : { ...o, id })),
    fc.tuple(fc.oneof(wrongType(['string']), notStreamType, fc.constantFrom('PING', 'Ping', ' ping', 'ping ', 'ping\u0000', 'get-history', 'getSnapshot', 'snapshot', 'pong', 'error', 'history', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'subscribe\u200b')), maybeId).map(([type, id]) =>
      JSON.stringify({ type, ...(id === undefined ? {} : { id }) }),
    ),
    // Nested far deeper than JSON.stringify would go.
    fc.integer({ min: 100, max: Math.floor(LIMIT / 2) - 10 }).map((d) => deep(d)),
    fc.integer({ min: 100, max: Math.floor(LIMIT / 6) - 10 }).map((d) => deepObject(d)),
  )
  .filter((t) => Buffer.byteLength(t) <= LIMIT)
  .map((t) => textMessage(t, { error: 'unknown_type', field: 'type' }));

/** Text that is not JSON: `invalid_json`. */
const notJson: fc.Arbitrary<BadMessage> = fc
  .oneof(
    brokenJson,
    fc.constantFrom('', ' ', '\n', '\ufeff{"type":"ping"}', '{"type":"ping"}\u0000', '{"type":"ping"} x', '{"type":"ping","id":"a\u0001b"}', "{'type':'ping'}", '{"type":"ping",}', '{"type":"ping"'),
    fc.integer({ min: 100, max: LIMIT - 10 }).map((d) => '['.repeat(d)),
    fc.integer({ min: 100, max: Math.floor(LIMIT / 2) - 40 }).map((d) => `{"type":"ping","deep":${deep(d).slice(0, -1)}}`),
  )
  .filter((t) => {
    if (Buffer.byteLength(t) > LIMIT) return false;
    try {
      JSON.parse(Buffer.from(t, 'utf8').toString('utf8'));
      return false;
    } catch {
      return true;
    }
  })
  .map((t) => textMessage(t, { error: 'invalid_json' }));

/** Huge strings and deep values inside otherwise valid requests, up to the size limit. */
const hugeInside: fc.Arbitrary<BadMessage> = fc
  .oneof(
    fc.tuple(fc.constantFrom(...REQUESTS), longString(64, LIMIT / 8)).map(([req, id]) => [{ ...BASES[req], id }, 'id'] as const),
    fc.tuple(fc.constantFrom(...REQUESTS), longString(1000, LIMIT / 8)).map(([req, k]) => [{ ...BASES[req], [k]: 1 }, k] as const),
    longString(1000, LIMIT / 8).map((s) => [{ type: 'subscribe', types: ['mode', s] }, 'types'] as const),
    fc.tuple(fc.constantFrom(...REQUESTS), longString(1000, LIMIT / 8)).map(([req, s]) => [{ ...BASES[req], pad: s }, 'pad'] as const),
  )
  .map(([o, field]) => textMessage(JSON.stringify(o), { error: 'validation_failed', field }))
  .filter((m) => m.payload.length <= LIMIT)
  .chain((m) =>
    // Or deep nesting in a field, written as text.
    fc.oneof(
      fc.constant(m),
      fc.tuple(fc.constantFrom(...REQUESTS), fc.integer({ min: 100, max: Math.floor(LIMIT / 2) - 100 })).map(([req, d]) => textMessage(`${JSON.stringify(BASES[req]).slice(0, -1)},"deep":${deep(d)}}`, { error: 'validation_failed', field: 'deep' })),
      fc.integer({ min: 100, max: Math.floor(LIMIT / 2) - 100 }).map((d) => textMessage(`{"type":"subscribe","types":${deep(d, '"mode"')}}`, { error: 'validation_failed', field: 'types' })),
    ),
  );

/** Binary frames, whatever they hold: `binary_not_accepted`. */
const binary: fc.Arbitrary<BadMessage> = fc
  .oneof(
    fc.constantFrom(...REQUESTS).map((r) => Buffer.from(JSON.stringify(BASES[r]))),
    fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b)),
    fc.constant(Buffer.alloc(0)),
    fc.nat({ max: LIMIT }).map((n) => Buffer.alloc(n, 0xff)),
  )
  .map((payload) => ({ label: `binary ${payload.length} bytes ${payload.subarray(0, 40).toString('hex')}`, opcode: OP.binary, payload, expect: { error: 'binary_not_accepted' } }));

const badMessages: fc.Arbitrary<BadMessage> = fc.oneof(
  { weight: 6, arbitrary: oneBadField },
  { weight: 1, arbitrary: manyBadFields },
  { weight: 2, arbitrary: notARequest },
  { weight: 2, arbitrary: notJson },
  { weight: 1, arbitrary: hugeInside },
  { weight: 1, arbitrary: binary },
);

/** How a message goes out: in one frame, or in fragments with pings between them (both allowed). */
const delivery = fc.oneof({ weight: 3, arbitrary: fc.constant({ fragments: 1, pings: false }) }, { weight: 1, arbitrary: fc.record({ fragments: fc.integer({ min: 2, max: 4 }), pings: fc.boolean() }) });

function messageFrames(m: BadMessage, d: { fragments: number; pings: boolean }): Buffer {
  const n = Math.min(d.fragments, Math.max(1, m.payload.length));
  const size = Math.ceil(m.payload.length / n);
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const part = m.payload.subarray(i * size, i === n - 1 ? undefined : (i + 1) * size);
    out.push(frameBytes({ opcode: i === 0 ? m.opcode : OP.continuation, fin: i === n - 1, payload: part }));
    if (d.pings && i < n - 1) out.push(frameBytes({ opcode: OP.ping, payload: Buffer.from(`between ${i}`) }));
  }
  return Buffer.concat(out);
}

// ---- protocol violations: the connection is closed with a 1xxx code ----

interface Violation {
  label: string;
  bytes: Buffer;
  /** The code of the server's close frame; null for a close frame without one. */
  code: number | null;
}

const ping = (id = 'p') => Buffer.from(JSON.stringify({ type: 'ping', id }));
const validCloseCode = fc.oneof(fc.constantFrom(1000, 1001, 1002, 1003), fc.integer({ min: 1007, max: 1014 }), fc.integer({ min: 3000, max: 4999 }));
const invalidCloseCode = fc.oneof(fc.integer({ min: 0, max: 999 }), fc.constantFrom(1004, 1005, 1006, 1015, 2999, 5000, 65535), fc.integer({ min: 1016, max: 2999 }), fc.integer({ min: 5000, max: 65535 }));
const invalidUtf8 = fc.oneof(
  fc.tuple(fc.string({ maxLength: 10 }), rawByteMarker, fc.string({ maxLength: 10 })).map(([a, m, b]) => withRawBytes(JSON.stringify({ type: 'ping', id: `${a}${m}${b}` }))),
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b)).filter((b) => !isUtf8(b)),
  fc.tuple(unicodeEdge, rawByteMarker).map(([u, m]) => stringBytes(`${u}${m}`)),
);

const violations: fc.Arbitrary<Violation> = fc.oneof(
  invalidUtf8.chain((payload) =>
    fc.integer({ min: 1, max: 3 }).map((n) => ({ label: `text frame(s) with invalid UTF-8: ${payload.subarray(0, 60).toString('hex')}`, bytes: messageFrames({ label: '', opcode: OP.text, payload, expect: { error: 'invalid_json' } }, { fragments: n, pings: false }), code: 1007 })),
  ),
  fc.tuple(validCloseCode, invalidUtf8.map((b) => b.subarray(0, 120)).filter((b) => !isUtf8(b))).map(([code, reason]) => ({ label: `close ${code} with an invalid UTF-8 reason`, bytes: frameBytes({ opcode: OP.close, payload: closePayload(code, reason) }), code: 1007 })),
  fc.tuple(fc.integer({ min: 1, max: 20_000 }), fc.boolean(), fc.constantFrom(OP.text, OP.binary)).map(([over, whole, opcode]) => ({
    label: `a ${opcode === OP.text ? 'text' : 'binary'} frame ${over} bytes over the limit${whole ? '' : ' (header only)'}`,
    bytes: whole ? frameBytes({ opcode, payload: Buffer.alloc(LIMIT + over, 0x61) }) : frameBytes({ opcode, declaredLength: BigInt(LIMIT + over), payload: Buffer.alloc(100, 0x61) }),
    code: 1009,
  })),
  fc.tuple(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 5000 })).map(([n, over]) => {
    const size = Math.ceil((LIMIT + over) / n);
    const parts = Array.from({ length: n }, (_, i) => frameBytes({ opcode: i === 0 ? OP.text : OP.continuation, fin: i === n - 1, payload: Buffer.alloc(size, 0x20) }));
    return { label: `a message of ${n} fragments ${over} bytes over the limit`, bytes: Buffer.concat(parts), code: 1009 };
  }),
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 63n - 1n }).map((len) => ({ label: `a frame declaring ${len} bytes`, bytes: frameBytes({ opcode: OP.text, declaredLength: len }), code: 1009 })),
  fc.tuple(fc.integer({ min: 1, max: 7 }), fc.constantFrom(OP.text, OP.binary, OP.ping)).map(([rsv, opcode]) => ({ label: `reserved bits ${rsv} on opcode ${opcode}`, bytes: frameBytes({ opcode, rsv, payload: ping() }), code: 1002 })),
  fc.constantFrom(3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf).map((opcode) => ({ label: `reserved opcode ${opcode}`, bytes: frameBytes({ opcode, payload: ping() }), code: 1002 })),
  fc.constantFrom(OP.text, OP.binary, OP.ping, OP.close).map((opcode) => ({ label: `an unmasked frame (opcode ${opcode})`, bytes: frameBytes({ opcode, masked: false, payload: opcode === OP.close ? closePayload(1000) : ping() }), code: 1002 })),
  fc.tuple(fc.constantFrom(OP.ping, OP.pong, OP.close), fc.integer({ min: 126, max: 3000 })).map(([opcode, n]) => ({ label: `a control frame (${opcode}) of ${n} bytes`, bytes: frameBytes({ opcode, payload: opcode === OP.close ? closePayload(1000, Buffer.alloc(n - 2, 0x61)) : Buffer.alloc(n, 0x61) }), code: 1002 })),
  fc.constantFrom(OP.ping, OP.pong, OP.close).map((opcode) => ({ label: `a fragmented control frame (${opcode})`, bytes: frameBytes({ opcode, fin: false, payload: opcode === OP.close ? closePayload(1000) : Buffer.from('x') }), code: 1002 })),
  fc.boolean().map((fin) => ({ label: `a continuation frame with no message begun (fin ${fin})`, bytes: frameBytes({ opcode: OP.continuation, fin, payload: ping() }), code: 1002 })),
  fc.constantFrom(OP.text, OP.binary).map((opcode) => ({ label: `a new message (${opcode}) inside a fragmented one`, bytes: Buffer.concat([frameBytes({ opcode: OP.text, fin: false, payload: Buffer.from('{"type":') }), frameBytes({ opcode, payload: ping() })]), code: 1002 })),
  fc.constant({ label: 'a close frame with a one-byte payload', bytes: frameBytes({ opcode: OP.close, payload: Buffer.from([3]) }), code: 1002 }),
  invalidCloseCode.map((code) => ({ label: `a close frame with code ${code}`, bytes: frameBytes({ opcode: OP.close, payload: closePayload(code) }), code: 1002 })),
  // A proper close, for contrast: the server answers with the same code (none for none).
  fc.tuple(validCloseCode, fc.string({ maxLength: 30 })).map(([code, reason]) => ({ label: `a proper close ${code}`, bytes: frameBytes({ opcode: OP.close, payload: closePayload(code, Buffer.from(reason).subarray(0, 120)) }), code })),
  fc.constant({ label: 'a proper close without a code', bytes: frameBytes({ opcode: OP.close }), code: null }),
);

// ---- upgrades: refused with an HTTP 4xx in the error shape ----

/** Whether a string reaches the server as valid UTF-8 (a raw-byte marker does not), so that its parameter is read at all. */
const decodable = (s: string) => isUtf8(stringBytes(s));

/** Percent-encodes every byte but the unreserved ones (raw-byte markers become their bytes). */
function pct(s: string): string {
  return [...stringBytes(s)].map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

const badSince = fc.oneof(fc.constantFrom('', '-1', '1.5', '1e3', ' 1', '1 ', '0x10', '+1', '١٢٣', 'NaN', 'Infinity', 'null', '1,2'), fc.stringMatching(/^[0-9]{17,30}$/), hostileString).filter((v) => !/^\d{1,16}$/.test(v) && decodable(v));
const badTypes = fc
  .oneof(
    fc.tuple(fc.array(fc.constantFrom(...STREAM_TYPES), { maxLength: 3 }), notStreamType.filter((s) => !s.includes(',') && s !== '')).map(([ok, bad]) => [...ok, bad].join(',')),
    fc.constantFrom('', ',', ',,,', 'instance;event', 'instance event', 'INSTANCE', 'instance,Event', ' instance'),
    fc.nat({ max: 100 }).map((n) => Array.from({ length: 30 + n }, (_, i) => STREAM_TYPES[i % STREAM_TYPES.length]).join(',')),
  )
  .filter((v) => {
    const parts = v.split(',').filter(Boolean);
    return decodable(v) && (v.length > 200 || parts.length === 0 || parts.some((p) => !(STREAM_TYPES as readonly string[]).includes(p)));
  });

/** A query string the feed refuses (400 validation_failed), and the field it must name. */
const badQuery: fc.Arbitrary<{ query: string; field: string }> = fc.oneof(
  fc.tuple(badSince, fc.option(fc.constantFrom('types=instance', 'types=mode,gate'), { nil: undefined })).map(([v, other]) => ({ query: [`since=${pct(v)}`, other].filter(Boolean).join('&'), field: 'since' })),
  fc.tuple(badTypes, fc.option(fc.constantFrom('since=1', 'since=0'), { nil: undefined })).map(([v, other]) => ({ query: [other, `types=${pct(v)}`].filter(Boolean).join('&'), field: 'types' })),
  fc
    .tuple(fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), unicodeEdge, fc.constantFrom('token', 'access_token', 'Since', 'TYPES', 'since[]', '__proto__', 'constructor', 'seq', 'id')), hostileString)
    .filter(([k, v]) => k !== 'since' && k !== 'types' && decodable(k) && decodable(v))
    // The name as the server decodes it (a lone surrogate arrives as U+FFFD).
    .map(([k, v]) => ({ query: `${pct(k)}=${pct(v)}`, field: stringBytes(k).toString('utf8') })),
  fc.constantFrom('since=1&since=2', 'types=mode&types=gate', 'since=1&types=mode&since=1', '%', '%E0%A4%A', '%ZZ=1', 'since=%FF', 'types=%C0%AF', '%ED%A0%80=1', 'since=%').map((query) => ({ query, field: '(root)' })),
);

/** Headers that do not change whether an upgrade is refused (extensions are not offered). A
 * browser's Origin of another site is refused on its own (403, test/auth.test.ts), so it is not noise. */
const noise: fc.Arbitrary<[string, string][]> = fc.subarray([
  ['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits, x-nonsense;;;'],
  ['User-Agent', 'fuzz/1.0 \u00e9'],
  ['Cookie', 'a=b; '.repeat(50)],
  ['X-Forwarded-For', '127.0.0.1'],
  ['Accept-Encoding', 'gzip, br'],
] as [string, string][]);

interface HeaderDefect {
  label: string;
  method?: string;
  path?: string;
  edit: (h: [string, string][]) => [string, string][];
  status: number;
  error: string;
  /** Headers the refusal must carry. */
  headers?: Record<string, string>;
}

const without = (name: string) => (h: [string, string][]) => h.filter(([k]) => k.toLowerCase() !== name.toLowerCase());
const replacing = (name: string, value: string) => (h: [string, string][]) => [...without(name)(h), [name, value] as [string, string]];
const adding = (name: string, value: string) => (h: [string, string][]) => [...h, [name, value] as [string, string]];

const headerDefects: fc.Arbitrary<HeaderDefect> = fc.oneof(
  fc.constant({ label: 'no Sec-WebSocket-Key', edit: without('Sec-WebSocket-Key'), status: 400, error: 'bad_request' }),
  fc
    .oneof(
      fc.constantFrom('', 'abc', 'x'.repeat(24), 'AAAAAAAAAAAAAAAAAAAAAA=', 'AAAAAAAAAAAAAAAAAAAAAAA==', '!!!!!!!!!!!!!!!!!!!!!!==', 'AAAAAAAAAAAAAAAAAAAAAA==='),
      fc.integer({ min: 1, max: 64 }).filter((n) => n !== 16).map((n) => Buffer.alloc(n, 7).toString('base64')),
      fc.nat({ max: 3000 }).map((n) => 'k'.repeat(25 + n)),
    )
    .map((key) => ({ label: `Sec-WebSocket-Key "${key.slice(0, 40)}"`, edit: replacing('Sec-WebSocket-Key', key), status: 400, error: 'bad_request' })),
  fc.constant({ label: 'two Sec-WebSocket-Keys', edit: adding('Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='), status: 400, error: 'bad_request' }),
  fc.constant({ label: 'no Sec-WebSocket-Version', edit: without('Sec-WebSocket-Version'), status: 426, error: 'upgrade_required', headers: { 'sec-websocket-version': '13' } }),
  fc.constantFrom('', '12', '14', '7', '0', '13, 8', 'abc', '013', '1e1', '+13', '13.0', '-13', '99999999999999999999').map((v) => ({ label: `Sec-WebSocket-Version "${v}"`, edit: replacing('Sec-WebSocket-Version', v), status: 426, error: 'upgrade_required', headers: { 'sec-websocket-version': '13' } })),
  fc.constant({ label: 'two Sec-WebSocket-Versions', edit: adding('Sec-WebSocket-Version', '13'), status: 426, error: 'upgrade_required', headers: { 'sec-websocket-version': '13' } }),
  fc.constantFrom('POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND').map((method) => ({ label: `method ${method}`, method, edit: (h: [string, string][]) => h, status: 400, error: 'bad_request' })),
  fc
    .oneof(fc.constantFrom('/ws/', '/WS', '/wss', '/ws.json', '/api/ws', '//ws', '/ws%00', '/ws/..', '/%2Fws', '/ws;x', '/'), fc.webPath().filter((p) => p.startsWith('/') && !/[\s#?]/.test(p) && p !== '/ws'))
    .map((path) => ({ label: `path ${path}`, path, edit: (h: [string, string][]) => h, status: 404, error: 'not_found' })),
  fc.constantFrom('websocket, h2c', 'h2c, websocket', 'websocket, websocket', 'WebSocket, foo/1').map((v) => ({ label: `Upgrade "${v}"`, edit: replacing('Upgrade', v), status: 400, error: 'bad_request' })),
  fc.constantFrom('', ',', 'a,', ',a', 'a b', 'a, a', 'a;b', 'a/b', '(x)', 'a,,b', 'caf\u00e9', '"chat"').map((v) => ({ label: `Sec-WebSocket-Protocol "${v}"`, edit: replacing('Sec-WebSocket-Protocol', v), status: 400, error: 'bad_request' })),
  // Not an upgrade at all: a plain GET /ws, which says how to connect.
  fc.constantFrom<[string, string | null]>(['Connection', null], ['Connection', 'keep-alive'], ['Connection', 'close'], ['Upgrade', 'h2c'], ['Upgrade', 'websocket2'], ['Upgrade', 'WebSocket/13'], ['Upgrade', null]).map(([name, value]) => ({
    label: `${name} ${value ?? 'missing'}`,
    edit: value === null ? without(name) : replacing(name, value),
    status: 426,
    error: 'upgrade_required',
  })),
  fc.constant({ label: 'no Host', edit: without('Host'), status: 400, error: 'bad_request' }),
  fc.nat({ max: 4000 }).map((n) => ({ label: 'headers too large', edit: adding('X-Pad', 'p'.repeat(17 * 1024 + n)), status: 431, error: 'headers_too_large' })),
  fc.constantFrom('a\u0000b', 'a\u0001b', 'a\u007fb', 'a\rb').map((v) => ({ label: `a header with ${JSON.stringify(v)}`, edit: adding('X-Bad', v), status: 400, error: 'bad_request' })),
);

/** Authorization headers that are not this server's token (or no header at all). */
const notTheToken = (token: string) =>
  fc.oneof(
    fc.constant(null),
    fc.constantFrom('', 'Bearer', 'Bearer ', `Bearer ${token}x`, `Bearer x${token}`, `Bearer ${token.slice(0, -1)}`, `Basic ${token}`, token, `Token ${token}`, `Bearer ${token} ${token}`, `Bearer ${token.toUpperCase()}`, `Bearer ${'t'.repeat(5000)}`, 'Bearer \u00e9\u00e9'),
    fc.stringMatching(/^[A-Za-z0-9_-]{1,80}$/).filter((t) => t !== token).map((t) => `Bearer ${t}`),
  );

// ---- the checks ----

async function tableCounts(file: string): Promise<Record<string, number>> {
  const db = await openDatabase(file, { readOnly: true });
  try {
    const tables = await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
    const out: Record<string, number> = {};
    for (const t of tables) out[t.name] = (await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM "${t.name}"`))!.n;
    return out;
  } finally {
    await db.close();
  }
}

/** An HTTP answer in the API's error shape, with this status and code. */
function assertRefusal(a: RawAnswer, status: number, error: string, what: string): Record<string, unknown> {
  const head = `${what}\n=> ${a.raw.subarray(0, 600).toString('latin1')}`;
  assert.equal(a.status, status, `not a ${status}: ${head}`);
  assert.match(a.headers['content-type'] ?? '', /^application\/json/, `not JSON: ${head}`);
  let body: unknown;
  assert.doesNotThrow(() => (body = JSON.parse(a.body)), `unparsable error body: ${head}`);
  const b = body as Record<string, unknown>;
  assert.ok(b && typeof b === 'object' && !Array.isArray(b), `error body not an object: ${head}`);
  assert.deepEqual(Object.keys(b).filter((k) => !['error', 'message', 'fields'].includes(k)), [], `extra keys: ${head}`);
  assert.equal(b.error, error, `error code: ${head}`);
  assert.ok(typeof b.message === 'string' && b.message.length > 0, `message: ${head}`);
  if (b.fields !== undefined) assert.ok(typeof b.fields === 'object' && b.fields !== null && Object.values(b.fields).every((v) => typeof v === 'string'), `fields: ${head}`);
  return b;
}

/** What the server will echo as the reply's id: a string id of an object, cut to 64 characters. */
function echoedId(payload: Buffer, opcode: number): string | undefined {
  if (opcode !== OP.text) return undefined;
  try {
    const raw = JSON.parse(payload.toString('utf8')) as unknown;
    if (raw && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string') return (raw as { id: string }).id.slice(0, 64);
  } catch {
    /* not JSON: no id */
  }
  return undefined;
}

describe('bad input over the live feed: thousands of hostile WebSocket messages and upgrades to the real server', () => {
  const home = tempHome('token-api-fault-ws-');
  const dbFile = join(home.dir, 'token-api.db');
  let server: ServerProcess;
  let port: number;
  let baseline: Record<string, number>;
  /** The seq of every snapshot and reply while nothing changes. */
  let headSeq: number;
  let sent = 0;
  /** The connection that took every bad message. */
  let fuzzed: WireClient | undefined;

  before(async () => {
    const empty = join(home.dir, 'empty');
    mkdirSync(empty);
    writeFileSync(
      join(home.dir, 'config.json'),
      JSON.stringify({
        codex: { enabled: false, home: join(home.dir, 'codex-home') },
        usage_claude_dirs: [empty],
        usage_codex_dirs: [empty],
        usage_scan_interval_minutes: 0,
        usage_live_interval_seconds: 0,
        notifications: { speech: { engine: 'none' }, sound: { player: 'none' } },
        // Few clients: a connection the server failed to let go of would soon refuse the next ones.
        websocket: { max_message_bytes: LIMIT, max_clients: 8 },
      }),
    );
    // Listening beyond loopback too, when this machine has an address there, to be called from it.
    server = await startServerProcess(home.dir, REMOTE ? ['--host', '0.0.0.0'] : []);
    port = Number(new URL(server.url).port);
    const r = await fetch(`${server.url}/api/hooks`, { method: 'POST', body: JSON.stringify(hookPayload('fuzz-1', 'SessionStart', { source: 'startup' })) });
    assert.equal(r.status, 200);
    baseline = await tableCounts(dbFile);
  });
  after(async () => {
    await server?.kill();
    home.cleanup();
  });

  /** Runs a property (after `examples`: inputs that once found a bug), then checks that the server is alive and nothing was written. */
  async function run<T>(name: string, cases: fc.Arbitrary<T>, numRuns: number, check: (c: T) => Promise<void>, examples: T[] = []): Promise<void> {
    const before = await tableCounts(dbFile);
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        sent += 1;
        await check(c);
      }),
      { numRuns, examples: examples.map((e) => [e] as [T]) },
    );
    assert.equal(server.child.exitCode, null, `the server exited during ${name}:\n${server.stderr()}`);
    assert.deepEqual(await tableCounts(dbFile), before, `rows were written during ${name}`);
  }

  /** A connection past its snapshot; the snapshot's seq is the head while nothing changes. */
  async function open(host = LOOPBACK, path = '/ws', headers: [string, string][] = []): Promise<WireClient> {
    const c = await openWire({ host, port, path, headers });
    const snap = frameJson(await c.next((f) => f.opcode === OP.text));
    assert.ok(snap && snap.type === 'snapshot', `the first message is not a snapshot: ${JSON.stringify(snap).slice(0, 200)}`);
    headSeq ??= snap.seq as number;
    assert.equal(snap.seq, headSeq, 'nothing changed, so the seq did not move');
    return c;
  }

  it('bad messages of every kind: each gets one error message, and the connection stays up', { timeout: 240_000 }, async () => {
    let conn = await open();
    const first = conn;
    let probe = 0;
    await run('messages', fc.tuple(badMessages, delivery), 5000, async ([m, d]) => {
      // A connection closed by an earlier case (a failure) is replaced, so shrinking still works.
      if (conn.isEnded()) conn = await open();
      const from = conn.frames.length;
      const id = `probe-${++probe}`;
      conn.write(messageFrames(m, d));
      conn.sendText(JSON.stringify({ type: 'ping', id }));
      const isPong = (f: WireFrame) => {
        const j = frameJson(f);
        return j?.type === 'pong' && j.id === id;
      };
      const what = `${m.label} (${d.fragments} fragment(s)${d.pings ? ', pings between' : ''})`;
      await conn.next(isPong, from).catch((err: Error) => assert.fail(`${what}: ${err.message}`));
      const replies = conn.frames.slice(from).filter((f) => f.opcode === OP.text && !isPong(f)).map((f) => frameJson(f));
      assert.equal(replies.length, 1, `one reply expected to ${what}, got ${JSON.stringify(replies).slice(0, 600)}`);
      const e = replies[0]!;
      assert.equal(e.type, 'error', `${what} => ${JSON.stringify(e).slice(0, 600)}`);
      assert.equal(e.error, m.expect.error, `${what} => ${JSON.stringify(e).slice(0, 600)}`);
      assert.equal(e.seq, headSeq, `${what}: the seq moved`);
      assert.ok(typeof e.at === 'string' && !Number.isNaN(Date.parse(e.at)), `${what}: at`);
      assert.ok(typeof e.message === 'string' && e.message.length > 0, `${what}: message`);
      assert.equal(e.id, echoedId(m.payload, m.opcode), `${what}: the reply's id`);
      const fields = e.fields as Record<string, unknown> | undefined;
      if (fields !== undefined) assert.ok(typeof fields === 'object' && fields !== null && Object.values(fields).every((v) => typeof v === 'string'), `${what}: fields ${JSON.stringify(fields)}`);
      if (m.expect.field !== undefined) {
        const f = m.expect.field;
        assert.ok(fields && Object.keys(fields).some((k) => k === f || k.startsWith(`${f}.`)), `${what}: fields should name ${JSON.stringify(f.slice(0, 80))}: ${JSON.stringify(fields).slice(0, 600)}`);
      }
    });
    assert.equal(conn, first, 'one connection took every message');
    // The connection is still fully usable.
    const from = conn.frames.length;
    conn.sendText(JSON.stringify({ type: 'get_history', id: 'h', before: headSeq + 1, limit: HISTORY_MAX }));
    const history = frameJson(await conn.next((f) => frameJson(f)?.type === 'history', from))!;
    assert.equal(history.id, 'h');
    const seqs = (history.messages as { seq: number }[]).map((m) => m.seq);
    assert.equal(seqs.at(-1), headSeq, 'the newest stream message is still the one from before (the session start)');
    // Kept open: it must still hear live changes at the end.
    fuzzed = conn;
  });

  it('protocol violations close the connection with a 1xxx code, and nothing else is sent', { timeout: 180_000 }, async () => {
    await run('protocol violations', violations, 800, async (v) => {
      const c = await open();
      const from = c.frames.length;
      c.write(v.bytes);
      const timer = setTimeout(() => c.destroy(), 15_000);
      const closing = await c.closing;
      await c.ended;
      clearTimeout(timer);
      assert.ok(closing, `${v.label}: no close frame before the connection ended`);
      assert.equal(closing.code, v.code, `${v.label}: closed with ${closing.code} ${closing.reason}`);
      const texts = c.frames.slice(from).filter((f) => f.opcode === OP.text || f.opcode === OP.binary);
      assert.deepEqual(texts.map((f) => f.payload.toString().slice(0, 200)), [], `${v.label}: data sent before the close`);
    });
  });

  it('bad ?since= and ?types= on connect: 400 validation_failed naming the parameter', { timeout: 120_000 }, async () => {
    await run('queries', fc.tuple(badQuery, noise), 600, async ([q, extra]) => {
      const path = `/ws?${q.query}`;
      const a = await upgradeExchange(LOOPBACK, port, upgradeBytes({ path, headers: [...handshakeHeaders(LOOPBACK, port), ...extra] }));
      const b = assertRefusal(a, 400, 'validation_failed', `GET ${path}`);
      const fields = b.fields as Record<string, string> | undefined;
      assert.ok(fields && Object.keys(fields).some((k) => k === q.field || k.startsWith(`${q.field}.`)), `GET ${path}: fields should name ${q.field}: ${JSON.stringify(fields)}`);
    }, [[{ query: '__proto__=x', field: '__proto__' }, []]]);
  });

  it('upgrades with a bad method, path or headers: a 4xx in the error shape, never a 101', { timeout: 120_000 }, async () => {
    await run('upgrade headers', fc.tuple(headerDefects, noise), 800, async ([d, extra]) => {
      const headers = d.edit([...handshakeHeaders(LOOPBACK, port), ...extra]);
      const bytes = upgradeBytes({ method: d.method, path: d.path ?? '/ws', headers });
      const a = await upgradeExchange(LOOPBACK, port, bytes);
      const what = `${d.label}: ${bytes.subarray(0, 400).toString('latin1')}`;
      assertRefusal(a, d.status, d.error, what);
      for (const [k, v] of Object.entries(d.headers ?? {})) assert.equal(a.headers[k], v, `${what}: header ${k}`);
    }, [
      [{ label: 'no Host', edit: without('Host'), status: 400, error: 'bad_request' }, []],
      [{ label: 'Upgrade "websocket, h2c"', edit: replacing('Upgrade', 'websocket, h2c'), status: 400, error: 'bad_request' }, []],
      [{ label: 'Sec-WebSocket-Protocol ""', edit: replacing('Sec-WebSocket-Protocol', ''), status: 400, error: 'bad_request' }, []],
    ]);
  });

  it('beyond loopback, an upgrade without the token is refused (401), whatever else it carries', { timeout: 120_000, skip: REMOTE ? false : 'this machine has no non-loopback IPv4 address' }, async () => {
    const remote = REMOTE!;
    const token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
    const queries = fc.constantFrom('', '?since=1', '?types=instance', `?token=${token}`, `?access_token=${token}`, '?since=abc', '?types=nope');
    const defects = fc.oneof(fc.constant<HeaderDefect | null>(null), headerDefects.filter((d) => d.path === undefined && d.status !== 431 && d.label !== 'no Host' && !d.label.startsWith('a header with')));
    await run('remote upgrades', fc.tuple(notTheToken(token), queries, defects, noise), 400, async ([auth, query, defect, extra]) => {
      let headers = [...handshakeHeaders(remote, port), ...extra];
      if (defect) headers = defect.edit(headers);
      if (auth !== null) headers.push(['Authorization', auth]);
      const bytes = upgradeBytes({ method: defect?.method, path: `/ws${query}`, headers });
      const a = await upgradeExchange(remote, port, bytes);
      const b = assertRefusal(a, 401, 'unauthorized', `from ${remote}: ${bytes.subarray(0, 400).toString('latin1')}`);
      assert.match(String(b.message), /token-api token/);
      assert.equal(a.headers['www-authenticate'], 'Bearer realm="token-api"');
    });
    // The same address with the token is let in: the refusals above were the token's doing.
    const c = await open(remote, '/ws', [['Authorization', `Bearer ${token}`]]);
    c.write(frameBytes({ opcode: OP.close, payload: closePayload(1000) }));
    assert.equal((await c.closing)?.code, 1000);
  });

  it('after all of it nothing was written, the server answers HTTP, and a fresh client gets a correct snapshot and live deltas', { timeout: 60_000 }, async () => {
    assert.ok(sent >= 7000, `only ${sent} hostile inputs were sent`);
    assert.equal(server.child.exitCode, null);
    assert.deepEqual(await tableCounts(dbFile), baseline, 'rows were written');
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');

    assert.ok(fuzzed && !fuzzed.isEnded(), 'the connection that took the bad messages is still up');
    const fuzzedFrom = fuzzed.frames.length;
    // As many clients as the server admits (8, with the one above) can still connect: none of the hostile ones lingers.
    const clients = await Promise.all(Array.from({ length: 7 }, () => connectFeed(`${server.url.replace(/^http/, 'ws')}/ws`)));
    const snaps = await Promise.all(clients.map((c) => c.next('snapshot')));
    const snap = snaps[0]!;
    assert.equal(snap.seq, headSeq);
    assert.deepEqual(snap.instances.map((i) => [i.id, i.state, i.status]), [['claude-fuzz-1', 'idle', 'active']]);
    const log = (await (await fetch(`${server.url}/api/events?limit=50`)).json()) as { events: { type: string; created_at: string }[] };
    assert.deepEqual(snap.events.map((e) => [e.type, e.created_at]), log.events.map((e) => [e.type, e.created_at]), 'the snapshot holds the event log, newest first');
    for (const s of snaps) assert.equal(s.seq, snap.seq);

    const hook = await fetch(`${server.url}/api/hooks`, { method: 'POST', body: JSON.stringify(hookPayload('fuzz-1', 'UserPromptSubmit')) });
    assert.equal(hook.status, 200);
    for (const c of clients) {
      const working = await c.next('instance', (m) => m.instance.state === 'working');
      assert.equal(working.instance.id, 'claude-fuzz-1');
      await c.next('event', (m) => m.event.type === 'hook.user_prompt_submit');
      assertConsecutive(c.messages, snap.seq);
      assert.ok(streamOf(c.messages).length >= 2);
    }
    await Promise.all(clients.map((c) => c.close()));
    // The connection that took every bad message hears the same changes, its subscription untouched.
    const isPrompt = (m: { type: string; event?: unknown }) => m.type === 'event' && (m.event as { type?: string }).type === 'hook.user_prompt_submit';
    const last = await fuzzed.next((f) => {
      const j = frameJson(f);
      return j !== null && isPrompt(j as { type: string });
    }, fuzzedFrom);
    const heard = fuzzed.frames.slice(fuzzedFrom, fuzzed.frames.indexOf(last) + 1).map(frameJson);
    const stream = streamOf(clients[0]!.messages);
    assert.deepEqual(
      heard.map((m) => [m?.type, m?.seq]),
      stream.slice(0, stream.findIndex(isPrompt) + 1).map((m) => [m.type, m.seq]),
    );
    fuzzed.write(frameBytes({ opcode: OP.close, payload: closePayload(1000) }));
    assert.equal((await fuzzed.closing)?.code, 1000);
    await fuzzed.ended;
    assert.doesNotMatch(server.stderr(), /request failed|uncaught|unhandled|could not publish/i);
  });
});
