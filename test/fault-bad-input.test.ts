// Bad input: fast-check generates more than 10,000 malformed or hostile requests, sent as raw
// bytes over TCP to the real server process: broken and deeply nested JSON, huge strings,
// wrong types, unknown fields, path traversal in ids, unicode edge cases (lone surrogates,
// NUL, RTL, overlong and other invalid UTF-8), bodies over the limits, wrong media types,
// methods that do not exist, bad headers and broken HTTP framing, on every route of the API.
// Every answer is a 4xx in the error shape, nothing is written (row counts of every table,
// read beside the server), the process never crashes or logs a failed request, and it
// answers normally afterwards. (The WebSocket feed has its own: test/fault-ws-input.test.ts.)
// The malformed bodies, queries and path parameters are derived from the request schemas of
// every route in src/protocol/api-routes.ts (as JSON Schema): a route added there is fuzzed as
// it is. What JSON Schema cannot say (IP addresses, URLs, trimming, times) is a short list here.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import { DEFAULT_MODES } from '../src/config/mode-gate.js';
import { openDatabase } from '../src/db/database.js';
import { apiRoutes } from '../src/protocol/api-routes.js';
import { branchesOf, brokenJson, hostileStrings, hostileString, hostileValue, integerRange, nested, notEnum, notMatching, objectMutations, stringBytes, unicodeEdge, withRawBytes, wrongType, type JsonSchema } from './support/hostile.js';
import { startServerProcess, type ServerProcess } from './support/process.js';
import { rawExchange, requestBytes, type RawAnswer, type RawRequest } from './support/raw-http.js';
import { hookPayload, tempHome } from './support/system.js';

const LIMITS = { body: 8 * 1024, hook: 32 * 1024, usage: 16 * 1024, spool: 32 * 1024, prompt: 8 * 1024 };
/** A managed session's routes take a prompt as large as its own limit, plus the usual body allowance. */
const SESSION_BODY = LIMITS.prompt + LIMITS.body;
const EVENT_ID = /^[A-Za-z0-9._:-]{8,128}$/;
/** Ids that exist in the seeded data: never generated as "unknown". */
const EXISTING = new Set(['claude-fuzz-1', 'desktop', 'sync', 'ccusage', 'daily-backup', 'usage-scan']);

const ROUTES = apiRoutes({ modes: DEFAULT_MODES, stateVariables: {} });
const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
/** A path template filled with ids that exist (so a request gets past its 404 to its body). */
const EXISTING_PARAMS: Record<string, Record<string, string>> = {
  instances: { id: 'claude-fuzz-1' },
  devices: { id: 'desktop' },
  notifications: { id: 'fuzz-missing' },
  usage: { deviceId: 'fuzz-dev' },
  cron: { id: 'usage-scan' },
  metrics: { key: 'fuzz.metric' },
  machines: { id: 'fuzz-machine' },
  sessions: { id: 'ses-000000000000' },
  accounts: { id: 'fuzz-account' },
  approvals: { id: 'fuzz-approval' },
};
const fill = (path: string, method: string) => path.replace(/\{(\w+)\}/g, (_, name: string) => (name === 'deviceId' && method === 'GET' ? 'desktop' : EXISTING_PARAMS[path.split('/')[2]!]![name]!));

/** What JSON Schema cannot say: values refused by a refinement, by property name. */
const REFINED: Record<string, readonly unknown[]> = {
  source_ip: ['999.1.1.1', 'localhost', '1.2.3', '::g', ' 1.2.3.4'],
  tailscale_ip: ['300.1.1.1', 'phone', ''],
  webhook_url: ['not a url', 'http//x', '', '://'],
  channels: [['speech', 'speech'], ['speech', 'sound', 'webhook', 'speech']],
  sound: ['', '../x.wav', '.hidden', 'a/b.wav', 'a\\b.wav'],
  message: ['   ', '\t\n'],
  title: ['   '],
  voice: ['  '],
  model: ['a b', ''],
  timestamp: ['yesterday', '2026-13-45'],
  at: ['yesterday', '', 9e15, 1e300],
  // Schedules croner refuses, zones that do not exist.
  schedule: ['', '* * * *', '61 * * * *', '0 0 30 2 *', '@reboot', 'every day', '* * * * * *', '*/0 * * * *'],
  timezone: ['Mars/Base', '', 'UTC+25'],
  // Beside an action, or while commands are off: refused either way.
  command: ['', 'true'],
  action: [{}, { type: 'reboot' }, { type: 'usage.sync', extra: 1 }, { type: 'mode.set', mode: 'party' }, { type: 'notify' }, { type: 'backup', keep: 0 }, { type: 'usage.push', to: 'ftp://x' }],
  // Changes the config file's own schema and rules refuse.
  set: [{ nope: 1 }, { port: 'x' }, { metrics: { max_keys: 0 } }, { default_mode: 'party' }, { obsidian: { url: 'ftp://x' } }, { cron: { timezone: 'Mars/Base' } }, { modes: {} }],
};

const machineMetadata = { host: 'fuzz', platform: 'linux', arch: 'x64', token_api_version: '0.1.0', home_dir: '/home/u', data_dir: '/home/u/.token-api', agents: ['claude'], repos: [] };
const daemonState = { status: 'running', pid: 4242, port: 7777, started_at: '2026-11-23T10:00:00.000Z', managed_sessions: 0 };

const usageRecord = {
  key: 'k-1',
  source: 'claude',
  model: 'claude-sonnet-4-5',
  timestamp: '2026-11-23T10:00:00Z',
  input_tokens: 1,
  output_tokens: 2,
  cache_creation_tokens: 3,
  cache_read_tokens: 4,
};

/**
 * A valid body of each route that takes JSON (by "METHOD template"; a body of several forms, one
 * for each, in the schema's order), and a limit other than body_limit_bytes.
 */
const VALID_BODIES: Record<string, { base: Record<string, unknown> | Record<string, unknown>[]; limit?: number }> = {
  'POST /api/hooks': { base: hookPayload('fuzz-h', 'Stop'), limit: LIMITS.hook },
  'POST /api/codex/notify': { base: { type: 'agent-turn-complete', 'thread-id': 't-1', 'turn-id': '1', cwd: '/home/u', 'input-messages': ['x'] }, limit: LIMITS.hook },
  'POST /api/instances/register': { base: { instance_id: 'fuzz-reg', agent_type: 'claude' } },
  'POST /api/devices/register': { base: { id: 'fuzz-phone', type: 'mobile' } },
  'PATCH /api/devices/{id}': { base: { name: 'Desktop' } },
  'POST /api/notify': { base: { message: 'fuzz says hello' } },
  'POST /api/notify/tts': { base: { message: 'hi' } },
  'POST /api/mode': { base: { mode: 'break' } },
  'POST /api/state': { base: { focus: true } },
  // Records, or the simple form.
  'POST /api/usage/{deviceId}': { base: [{ records: [usageRecord] }, { tokens: 10 }], limit: LIMITS.usage },
  'POST /api/cron/jobs': { base: { name: 'fuzz job', schedule: '@daily', action: { type: 'usage.sync' } } },
  'PUT /api/cron/jobs/{id}': { base: { enabled: true } },
  'POST /api/metrics/{key}': { base: { value: 1 } },
  'PUT /api/config': { base: { set: { metrics: { max_keys: 1000 } } } },
  'POST /api/obsidian/command': { base: { id: 'app:go-back' } },
  // A machine's registration (refused without its token), its documents, a call to it (no such machine).
  'POST /v1/machines': { base: { id: '6f1c2a9e-0000-4000-8000-000000000000', metadata: machineMetadata, daemon_state: daemonState } },
  'PUT /v1/machines/{id}/metadata': { base: { metadata: machineMetadata, expected_version: 1 } },
  'PUT /v1/machines/{id}/daemon-state': { base: { daemon_state: daemonState, expected_version: 1 } },
  'POST /v1/machines/{id}/api': { base: { method: 'GET', path: '/api/mode' } },
  'POST /api/sessions': { base: { repo: 'fuzz-repo' }, limit: SESSION_BODY },
  'PATCH /api/sessions/{id}': { base: { name: 'fuzz' }, limit: SESSION_BODY },
  'POST /api/sessions/{id}/send': { base: { prompt: 'hi' }, limit: SESSION_BODY },
  'POST /api/sessions/{id}/oneshot': { base: { prompt: 'hi' }, limit: SESSION_BODY },
  'POST /api/sessions/{id}/cancel': { base: {}, limit: SESSION_BODY },
  'POST /api/approvals/wait': { base: hookPayload('fuzz-w', 'PermissionRequest', { tool_name: 'Bash', tool_input: { command: 'true' } }), limit: LIMITS.hook },
  'POST /api/approvals/{id}': { base: { behavior: 'allow' } },
};

interface BodyRoute {
  method: string;
  path: string;
  schema: JsonSchema;
  /** Unknown fields are refused. */
  strict: boolean;
  /** A valid body: every generated body is this one made invalid. */
  base: Record<string, unknown>;
  limit: number;
  /** The route reads JSON whatever the Content-Type (the hooks). */
  anyContentType?: boolean;
}

const BODY_ROUTES: BodyRoute[] = ROUTES.flatMap((r) => {
  if (!r.body || !('schema' in r.body)) return [];
  const key = `${r.method.toUpperCase()} ${r.path}`;
  const whole = jsonSchema(r.body.schema);
  const known: (typeof VALID_BODIES)[string] = VALID_BODIES[key] ?? { base: {} };
  const bases = Array.isArray(known.base) ? known.base : [known.base];
  // A body of several forms (a union of objects): each form is spoiled from its own valid body.
  const forms = whole.anyOf && !whole.properties ? whole.anyOf : [whole];
  return forms.map((schema, i) => ({
    method: r.method.toUpperCase(),
    path: fill(r.path, r.method.toUpperCase()),
    schema,
    strict: schema.additionalProperties === false,
    base: bases[i] ?? {},
    limit: known.limit ?? LIMITS.body,
    // The hooks (and the PermissionRequest hook that waits) read JSON whatever the Content-Type.
    anyContentType: r.path === '/api/hooks' || r.path === '/api/approvals/wait',
  }));
});
const HOOK_ROUTE = BODY_ROUTES.find((r) => r.path === '/api/hooks')!;

/** Valid requests that would write rows: the base of framing defects that the HTTP parser must refuse outright. */
const VALID_WRITES: RawRequest[] = [
  ...BODY_ROUTES.map((r) => ({ method: r.method, path: r.path, headers: [['Content-Type', 'application/json']] as [string, string][], body: JSON.stringify(r.base) })),
  { method: 'GET', path: '/?app=youtube' },
  { method: 'GET', path: '/api/check?app=youtube' },
  { method: 'DELETE', path: '/api/instances/claude-fuzz-1' },
];

/** A body object made invalid in one certain way, perhaps with more damage on top. */
function invalidObject(route: BodyRoute): fc.Arbitrary<Record<string, unknown>> {
  const mutations = objectMutations(route.schema, route.base, REFINED);
  // /api/state: at least one of mode and focus.
  if (route.path === '/api/state') mutations.push(fc.constant((o) => void Object.assign(o, { mode: undefined, focus: undefined, minutes: 5 })));
  // A metric's value is any JSON: it is refused only when missing or over metrics.max_value_bytes.
  if (route.path.startsWith('/api/metrics/')) mutations.push(fc.constant((o) => void delete o.value), fc.nat({ max: 2000 }).map((n) => (o) => void (o.value = 'v'.repeat(4100 + n))));
  if (!route.strict) {
    // Kept as they are, so they must not nest without bound.
    mutations.push(fc.integer({ min: 65, max: 500 }).map((d) => (o) => void (o.extra = nested(d, d % 2 ? 'array' : 'object'))));
  }
  return fc.tuple(fc.array(fc.oneof(...mutations), { minLength: 1, maxLength: 3 })).map(([ms]) => {
    const o: Record<string, unknown> = structuredClone(route.base);
    for (const m of ms) m(o);
    return o;
  });
}

/** Bodies that must be refused: invalid objects, other JSON values, broken JSON, deep nesting, over the limit. */
function invalidBody(route: BodyRoute): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 8, arbitrary: invalidObject(route).map((o) => withRawBytes(JSON.stringify(o))) },
    { weight: 1, arbitrary: fc.oneof(fc.array(hostileValue, { maxLength: 4 }), hostileString, fc.integer(), fc.constant(null), fc.boolean()).map((v) => withRawBytes(JSON.stringify(v))) },
    { weight: 2, arbitrary: brokenJson.map((t) => Buffer.from(t, 'utf8')) },
    // Written as text: JSON.stringify itself cannot nest this deep.
    { weight: 1, arbitrary: fc.integer({ min: 65, max: 6000 }).map((d) => Buffer.from(`${JSON.stringify(route.base).slice(0, -1)}${Object.keys(route.base).length ? ',' : ''}"d":${'['.repeat(d)}1${']'.repeat(d)}}`)) },
    { weight: 1, arbitrary: fc.nat({ max: 2000 }).map((n) => Buffer.from(JSON.stringify({ ...route.base, pad: 'x'.repeat(route.limit + n) }))) },
  );
}

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/vnd.api+json', 'Application/JSON'];
const NOT_JSON_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonp', 'json', 'text/json-ish', '*/*'];

/** Whether random bytes happen to be a compressed stream holding JSON (such a body is not malformed). */
function decodesToJson(encoding: string, bytes: Uint8Array): boolean {
  const decode = { gzip: gunzipSync, deflate: inflateSync, br: brotliDecompressSync }[encoding];
  if (!decode) return false;
  try {
    const text = decode(bytes).toString('utf8');
    JSON.parse(text || '{}');
    return true;
  } catch {
    return false;
  }
}

interface Case {
  label: string;
  bytes: Buffer;
  halfClose?: boolean;
}

function caseOf(r: RawRequest, halfClose = false): Case {
  const body = r.body === undefined ? '' : Buffer.isBuffer(r.body) ? r.body.subarray(0, 300).toString('utf8') : r.body.slice(0, 300);
  return { label: `${r.method} ${r.path.slice(0, 300)} ${JSON.stringify(r.headers ?? [])} ${body}`, bytes: requestBytes(r), halfClose };
}

/** Bodies: an invalid body with a JSON type, or a valid body in another media type, or undecodable. */
const bodyCases: fc.Arbitrary<Case> = fc.constantFrom(...BODY_ROUTES).chain((route) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.tuple(invalidBody(route), fc.constantFrom(...JSON_TYPES)).map(([body, type]) => caseOf({ method: route.method, path: route.path, headers: [['Content-Type', type]], body })) },
    ...(route.anyContentType
      ? []
      : [
          {
            weight: 2,
            arbitrary: fc.tuple(fc.constantFrom(...NOT_JSON_TYPES, null), fc.boolean()).map(([type, valid]) =>
              caseOf({ method: route.method, path: route.path, headers: type ? [['Content-Type', type]] : [], body: valid ? JSON.stringify(route.base) : 'a=1&b=2' }),
            ),
          },
          {
            weight: 1,
            arbitrary: fc.tuple(fc.constantFrom('gzip', 'deflate', 'br', 'compress', 'x-unknown', 'gzip, deflate'), fc.uint8Array({ minLength: 1, maxLength: 64 })).filter(([enc, bytes]) => !decodesToJson(enc, bytes)).map(([enc, bytes]) =>
              caseOf({ method: route.method, path: route.path, headers: [['Content-Type', 'application/json'], ['Content-Encoding', enc]], body: Buffer.from(bytes) }),
            ),
          },
        ]),
  ),
);

/** Spool uploads in which no line can be replayed. */
const spoolLine = fc.oneof(
  brokenJson,
  fc.jsonValue({ maxDepth: 2 }).filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)).map((v) => JSON.stringify(v)),
  fc.record({ event_id: notMatching(EVENT_ID, 128), spooled_at: fc.constant(1), query: fc.constant(''), body: fc.constant(hookPayload('fuzz-s', 'Stop')) }).map((l) => withRawBytes(JSON.stringify(l)).toString('utf8')),
  fc.record({ event_id: fc.constant('evt-00000001'), spooled_at: wrongType(['number', 'string']), query: fc.constant(''), body: fc.constant(hookPayload('fuzz-s', 'Stop')) }).map((l) => JSON.stringify(l)),
  fc.record({ event_id: fc.constant('evt-00000002'), spooled_at: fc.constant(1), query: fc.constantFrom('pid=abc', 'nope=1', 'reply=all', 'agent=gpt', `tab_name=${'x'.repeat(201)}`), body: fc.constant(hookPayload('fuzz-s', 'Stop')) }).map((l) => JSON.stringify(l)),
  fc.record({ event_id: fc.constant('evt-00000003'), spooled_at: fc.constant(1), query: fc.constant(''), body: invalidObject(HOOK_ROUTE) }).map((l) => withRawBytes(JSON.stringify(l)).toString('utf8')),
  // The spool's sequence number, when present, is a whole number above 0 (and a safe integer).
  fc.record({ event_id: fc.constant('evt-00000004'), seq: fc.oneof(wrongType(['integer']), fc.constantFrom(0, -1, 2 ** 53)), spooled_at: fc.constant(1), query: fc.constant(''), body: fc.constant(hookPayload('fuzz-s', 'Stop')) }).map((l) => JSON.stringify(l)),
);
const spoolCases: fc.Arbitrary<Case> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.array(spoolLine, { minLength: 1, maxLength: 5 }), fc.constantFrom('\n', '\r\n')).map(([lines, eol]) => caseOf({ method: 'POST', path: '/api/hooks/spool', headers: [['Content-Type', 'application/x-ndjson']], body: lines.map((l) => l.replace(/[\r\n]/g, ' ')).join(eol) })) },
  { weight: 1, arbitrary: fc.nat({ max: 1000 }).map((n) => caseOf({ method: 'POST', path: '/api/hooks/spool', body: `${JSON.stringify({ event_id: 'evt-00000009', spooled_at: 1, query: '', body: { ...hookPayload('fuzz-s', 'Stop'), pad: 'x'.repeat(LIMITS.spool + n) } })}\n` })) },
);

// ---- queries ----

/** Percent-encodes every byte but the unreserved ones (raw-byte markers become their bytes). */
function pctValue(s: string): string {
  return [...stringBytes(s)].map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/** Not an integer from min to max, as the query coerces it (Number(), so "0x10" and " 5" would be numbers). */
const notIntegerIn = (min: number, max: number) =>
  fc.oneof(fc.constantFrom('', 'abc', '1.5', '0', '-1', '1e3', '1e30', '0x10', ' 5', 'Infinity', 'NaN', '99999999999999999999', '1001', '201', '2147483648'), hostileString).filter((v) => {
    const n = Number(v);
    return !(Number.isInteger(n) && n >= min && n <= max);
  });
const notInteger = notIntegerIn(1, 1000);
const notTime = fc.oneof(fc.constantFrom('', 'yesterday', '2026-13-45', '2026-11-23T25:00:00Z', '99999999999999999', '-1', 'NaN', '1e400'), hostileString).filter((s) => {
  const ms = /^\d{10,16}$/.test(s) ? Number(s) : Date.parse(s);
  return !Number.isFinite(ms) || Math.abs(ms) > 8.64e15 || s.length > 40;
});
const notZone = fc.oneof(fc.constantFrom('Mars/Olympus', 'UTC+25', 'Europe/', '../etc', 'utc '), hostileString).filter((z) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: z });
    return z.length > 64;
  } catch {
    return true;
  }
});
const notApp = fc.oneof(notMatching(/^[\p{L}\p{N} ._+&'-]+$/u, 200), fc.constantFrom('', '   ', 'a'.repeat(201), 'you/tube', 'app\u0000')).filter((s) => {
  const t = s.trim();
  return t.length === 0 || t.length > 200 || !/^[\p{L}\p{N} ._+&'-]+$/u.test(t);
});

interface QueryRoute {
  method: string;
  path: string;
  params: Record<string, fc.Arbitrary<string>>;
  body?: string;
}

const USAGE_DIMENSIONS = ['device', 'day', 'model', 'instance', 'session', 'project', 'source', 'week', 'month'];
/** What JSON Schema cannot say of a query parameter (times, time zones, the group_by list), by name. */
const QUERY_REFINED: Record<string, fc.Arbitrary<string>> = {
  since: notTime,
  until: notTime,
  before: notTime,
  timezone: notZone,
  // The vault's: a search of blanks, a day that does not exist.
  q: fc.constantFrom('   ', '\t'),
  date: fc.constantFrom('2026-13-01', '2026-02-30', '2026-11-23T00:00:00Z'),
  group_by: notEnum(['device', 'day', 'model', 'instance', 'session', 'project', 'hour', 'none', '']).filter((s) => s.split(',').some((d) => !USAGE_DIMENSIONS.includes(d.trim()))),
};

/** Values a query parameter refuses: from its schema (an integer's range, a string's rules), and its refinements. */
function badQueryValues(name: string, p: JsonSchema): fc.Arbitrary<string>[] {
  // The app is trimmed first: what the pattern refuses may be fine trimmed.
  if (name === 'app') return [notApp];
  const bs = branchesOf(p);
  if (bs.length === 1 && bs[0]!.type === 'integer') return [notIntegerIn(integerRange(bs[0]!).min, integerRange(bs[0]!).max)];
  return [...hostileStrings(p), ...(QUERY_REFINED[name] ? [QUERY_REFINED[name]!] : [])];
}

const QUERY_ROUTES: QueryRoute[] = ROUTES.filter((r) => r.query).map((r) => {
  const method = r.method.toUpperCase();
  const path = fill(r.path, method);
  const query = jsonSchema(r.query!);
  const params = Object.fromEntries(Object.entries(query.properties ?? {}).map(([name, p]) => [name, fc.oneof(...badQueryValues(name, p))]));
  const body = r.path === '/api/hooks' ? hookPayload('fuzz-q', 'Stop') : BODY_ROUTES.find((b) => b.method === method && b.path === path)?.base;
  return { method, path, params, ...(body ? { body: JSON.stringify(body) } : {}) };
});

const queryCases: fc.Arbitrary<Case> = fc.constantFrom(...QUERY_ROUTES).chain((route) => {
  const known = Object.keys(route.params);
  const unknownParam = fc.tuple(fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), unicodeEdge, fc.constantFrom('__proto__', 'constructor[prototype][x]', 'a[b]', 'LIMIT', 'app ', 'limit[]')).filter((k) => !known.includes(k)), hostileString).map(([k, v]) => `${pctValue(k)}=${pctValue(v)}`);
  const options: fc.Arbitrary<string>[] = [unknownParam];
  if (known.length > 0) {
    options.push(fc.constantFrom(...known).chain((k) => route.params[k]!.map((v) => `${k}=${pctValue(v)}`)));
    // The same parameter twice is an array, which no parameter takes.
    options.push(fc.constantFrom(...known).map((k) => `${k}=1&${k}=2`));
  }
  // Undecodable or odd query strings, each naming at least one parameter no route takes.
  const raw = fc.constantFrom('%', '%E0%A4%A', '%ED%A0%80=1', '%C0%AF=1', '%FF', '=%00', '&&&%', ';', 'a=1;b=2', '+=+', '%2e%2e%2f=..', '[]=1', '=');
  const query = fc.oneof({ weight: 6, arbitrary: fc.array(fc.oneof(...options), { minLength: 1, maxLength: 3 }).map((ps) => ps.join('&')) }, { weight: 1, arbitrary: raw });
  return query.map((q) => caseOf({ method: route.method, path: `${route.path}?${q}`, ...(route.body ? { headers: [['Content-Type', 'application/json']] as [string, string][], body: route.body } : {}) }));
});

// ---- path parameters ----

const traversal = fc.constantFrom('..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f%2e%2e%2f', '..%5C..%5Cwindows', '%252e%252e%252f', '....%2F%2F', '.%00.', '%00', '%C0%AE%C0%AE%2F', '%E2%80%AE', '%ED%A0%80', '%F0%9F%98', '%', '%ZZ', '..;', '%20', 'a%0Ab', 'a%0D%0AX-Injected:%201');
const unknownId = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,30}$/).filter((s) => !EXISTING.has(s) && s !== '.' && s !== '..');
/** Every route with a path parameter, and the segments its parameter refuses (never empty: the router takes /api/instances/ for /api/instances). */
const PARAM_ROUTES = ROUTES.filter((r) => r.params).map((r) => {
  const [name, p] = Object.entries(jsonSchema(r.params!).properties!)[0]!;
  // An empty segment is another route, so '' is no path value. A schema that refuses only ''
  // (a minimum length, no pattern or maximum) would leave nothing else, and the filter would
  // spin for ever: traversal stands beside the schema's own strings.
  const bad = fc.oneof(...hostileStrings(p).map((a) => a.map(pctValue)), traversal).filter((s) => s !== '');
  return { method: r.method.toUpperCase(), path: r.path.replace(`{${name}}`, '{}'), bad };
});
const pathCases: fc.Arbitrary<Case> = fc
  .constantFrom(...PARAM_ROUTES)
  .chain((route) => fc.tuple(fc.constant(route), fc.oneof({ weight: 3, arbitrary: fc.oneof(traversal, route.bad) }, { weight: 1, arbitrary: unknownId }, { weight: 1, arbitrary: fc.constantFrom('../../etc/passwd', '..//..//', './../x', '.../...') })))
  .map(([{ method, path }, id]) => {
    const withBody = method === 'POST' || method === 'PATCH';
    // A pushed batch to a valid device id must fail on its body.
    const body = path === '/api/usage/{}' ? JSON.stringify({ records: 'none' }) : '{}';
    return caseOf({ method, path: path.replace('{}', id), ...(withBody ? { headers: [['Content-Type', 'application/json']] as [string, string][], body } : {}) });
  });

// ---- methods and unknown paths ----

const ALLOWED: Record<string, string[]> = {
  '/': ['GET'],
  '/health': ['GET'],
  '/api/hooks': ['POST'],
  '/api/hooks/spool': ['POST'],
  '/api/codex/notify': ['POST'],
  '/api/instances': ['GET'],
  '/api/instances/register': ['POST'],
  '/api/instances/claude-fuzz-1': ['GET', 'DELETE'],
  '/api/instances/claude-fuzz-1/heartbeat': ['POST'],
  '/api/devices': ['GET'],
  '/api/devices/register': ['POST'],
  '/api/events': ['GET'],
  '/api/dashboard': ['GET'],
  '/api/notify': ['POST'],
  '/api/notify/tts': ['POST'],
  '/api/notify/sound': ['POST'],
  '/api/notifications': ['GET'],
  '/api/notifications/fuzz-missing': ['GET'],
  '/api/notifications/fuzz-missing/retry': ['POST'],
  '/api/mode': ['GET', 'POST'],
  '/api/state': ['GET', 'POST'],
  '/api/productivity': ['GET'],
  '/api/check': ['GET'],
  '/api/usage': ['GET'],
  '/api/usage/sync': ['PUT'],
  '/api/usage/desktop': ['GET', 'POST'],
  '/api/usage/ccusage': ['POST'],
  '/api/cron/jobs': ['GET', 'POST'],
  '/api/cron/jobs/usage-scan': ['GET', 'PUT', 'DELETE'],
  '/api/cron/jobs/usage-scan/execute': ['POST'],
  '/api/cron/jobs/usage-scan/runs': ['GET'],
  '/api/metrics': ['GET'],
  '/api/metrics/fuzz.metric': ['GET', 'POST', 'DELETE'],
  '/api/config': ['GET', 'PUT'],
  '/api/status': ['GET'],
  '/api/obsidian/commands': ['GET'],
  '/api/obsidian/command': ['POST'],
  '/api/obsidian/eval': ['POST'],
  '/api/vault/note': ['GET'],
  '/api/vault/search': ['GET'],
  '/api/vault/tags': ['GET'],
  '/api/vault/tagged': ['GET'],
  '/api/vault/recent': ['GET'],
  '/api/vault/daily': ['GET'],
  '/v1/machine': ['GET'],
  '/v1/machines': ['GET', 'POST'],
  '/v1/machines/fuzz-machine': ['GET'],
  '/v1/machines/fuzz-machine/metadata': ['PUT'],
  '/v1/machines/fuzz-machine/daemon-state': ['PUT'],
  '/v1/machines/fuzz-machine/api': ['POST'],
  '/v1/machines/fuzz-machine/stop': ['POST'],
};
const KNOWN_ODD_METHODS = ['PATCH', 'PUT', 'DELETE', 'POST', 'GET', 'TRACE', 'PROPFIND', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH', 'PURGE', 'LINK', 'UNLINK', 'REPORT', 'MKACTIVITY', 'CHECKOUT', 'MERGE', 'M-SEARCH', 'NOTIFY', 'SUBSCRIBE', 'UNSUBSCRIBE', 'CONNECT', 'QUERY'];
/** Not methods at all, or words HTTP parsers do not know (HEAD and OPTIONS, which are answered, never). */
const nonsenseMethod = fc.oneof(fc.constantFrom('FOO', 'BREW', 'get', 'Post', 'GETT', 'DELETEX', 'HEAD2', 'G ET', 'ÄNDERN', 'PUT\t'), fc.stringMatching(/^[A-Z]{3,12}$/).filter((m) => m !== 'HEAD' && m !== 'OPTIONS'));
const ROUTE_RES = Object.keys(ALLOWED);
/** The router ignores case and a trailing slash. */
const isRoute = (raw: string) => {
  const p = raw.toLowerCase().replace(/\/+$/, '') || '/';
  return ROUTE_RES.includes(p) || /^\/api\/(instances|notifications|usage)\/[^/]+(\/(heartbeat|retry))?$/.test(p) || /^\/api\/(cron\/jobs|metrics)\/[^/]+(\/(execute|runs))?$/.test(p);
};
const methodCases: fc.Arbitrary<Case> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(...ROUTE_RES).chain((path) =>
      fc.tuple(fc.oneof(fc.constantFrom(...KNOWN_ODD_METHODS.filter((m) => !ALLOWED[path]!.includes(m))), nonsenseMethod), fc.boolean()).map(([method, body]) => {
        const route = BODY_ROUTES.find((r) => r.path === path);
        return caseOf({ method, path, ...(body ? { headers: [['Content-Type', 'application/json']] as [string, string][], body: JSON.stringify(route?.base ?? {}) } : {}) });
      }),
    ),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'), fc.oneof(fc.webPath(), fc.array(fc.stringMatching(/^[a-z0-9._-]{1,12}$/), { minLength: 1, maxLength: 4 }).map((s) => `/api/${s.join('/')}`), fc.constantFrom('/api', '/api/', '//api/instances', '/api/./instances', '/api/instances//', '/.env', '/../../etc/passwd', '/api/%2e%2e/health', '/*', '/api/instances/claude-fuzz-1/heartbeat/x')))
      .filter(([, path]) => path.startsWith('/') && !isRoute(path) && !/[\s#]/.test(path))
      .map(([method, path]) => caseOf({ method, path })),
  },
);

// ---- the HTTP framing itself ----

const badHeader = fc.oneof(
  fc.tuple(fc.constantFrom('X Bad', 'X\u0001', '(x)', 'X-Ü', '', 'X-A\t'), fc.constant('1')),
  fc.tuple(fc.constant('X-Bad'), fc.constantFrom('a\u0000b', 'a\u0001b', 'a\u007fb', 'a\rb', 'a\u000bb')),
  fc.tuple(fc.constant('Content-Length'), fc.constantFrom('abc', '-1', '1.5', '0x10', '1 2', '99999999999999999999')),
);
/** Defects the HTTP parser refuses while reading the head, whatever the request. */
const headDefects: fc.Arbitrary<(r: RawRequest) => Case> = fc.oneof(
  badHeader.map(([k, v]) => (r: RawRequest) => caseOf({ ...r, headers: [...(r.headers ?? []), [k, v]] })),
  // Both Content-Length and Transfer-Encoding, or two different lengths.
  fc.constant((r: RawRequest) => caseOf({ ...r, body: r.body ?? '', headers: [...(r.headers ?? []), ['Transfer-Encoding', 'chunked']] })),
  fc.nat({ max: 5 }).map((n) => (r: RawRequest) => caseOf({ ...r, body: r.body ?? '', headers: [...(r.headers ?? []), ['Content-Length', String(999 + n)]] })),
  fc.constant((r: RawRequest) => caseOf({ ...r, contentLength: null, headers: [...(r.headers ?? []), ['Content-Length', '0'], ['Content-Length', '5']] })),
  fc.constantFrom('HTTP/1.2', 'HTTP/3.0', 'HTTP/9.9', 'HTTP/1.1x', 'HTTP/1', 'http/1.1', 'HTTPS/1.1', 'HTTP/1.1 extra').map((v) => (r: RawRequest) => {
    const c = caseOf(r);
    return { label: `${v} ${c.label}`, bytes: Buffer.from(c.bytes.toString('latin1').replace('HTTP/1.1', v), 'latin1') };
  }),
  fc.nat({ max: 4000 }).map((n) => (r: RawRequest) => caseOf({ ...r, headers: [...(r.headers ?? []), ['X-Huge', 'h'.repeat(17 * 1024 + n)]] })),
  fc.nat({ max: 4000 }).map((n) => (r: RawRequest) => caseOf({ ...r, path: `${r.path}${r.path.includes('?') ? '&' : '?'}pad=${'p'.repeat(17 * 1024 + n)}` })),
);
/**
 * Defects in the body: refused when the body is read. (A route that never reads a body, like a
 * gate check, answers from the head alone, as HTTP servers do; so these go to routes that read one.)
 */
const bodyDefects: fc.Arbitrary<(r: RawRequest) => Case> = fc.oneof(
  fc.constantFrom('ZZ', '-1', 'FFFFFFFFFFFFFFFFFFFF', '1;a=' + 'x'.repeat(20000), '').map((size) => (r: RawRequest) => ({
    label: `${r.method} ${r.path} chunked with size "${size.slice(0, 30)}"`,
    bytes: Buffer.concat([requestBytes({ ...r, body: undefined, contentLength: null, headers: [...(r.headers ?? []), ['Transfer-Encoding', 'chunked']] }), Buffer.from(`${size}\r\n${String(r.body ?? '')}\r\n0\r\n\r\n`)]),
  })),
  fc.constantFrom('gzip', 'identity, chunked, gzip', 'chunked, gzip').map((te) => (r: RawRequest) => caseOf({ ...r, contentLength: null, headers: [...(r.headers ?? []), ['Transfer-Encoding', te]] })),
  // The body ends (the client closes its side) before Content-Length bytes arrived.
  fc.integer({ min: 1, max: 500 }).map((extra) => (r: RawRequest) => caseOf({ ...r, contentLength: Buffer.byteLength(r.body ?? '') + extra }, true)),
);
const garbage: fc.Arbitrary<Case> = fc.oneof(
  fc
    .uint8Array({ minLength: 1, maxLength: 200 })
    .filter((b) => b[0] !== 13 && b[0] !== 10)
    .map((b) => ({ label: `bytes ${Buffer.from(b).toString('hex').slice(0, 100)}`, bytes: Buffer.concat([Buffer.from(b), Buffer.from('\r\n\r\n')]), halfClose: true })),
  fc.constantFrom('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', ' GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /\tx HTTP/1.1\r\nHost: x\r\n\r\n', 'GET / HTTP/1.1\nHost: x\n\n\u0000', 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\n\r\n', 'GET health HTTP/1.1\r\nHost: x\r\n\r\n').map((t) => ({ label: JSON.stringify(t), bytes: Buffer.from(t, 'latin1'), halfClose: true })),
);
const framingCases: fc.Arbitrary<Case> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...VALID_WRITES), headDefects).map(([r, defect]) => defect(r)) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...VALID_WRITES.filter((r) => r.body !== undefined)), bodyDefects).map(([r, defect]) => defect(r)) },
  { weight: 1, arbitrary: garbage.filter((c) => !/^(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS) \//.test(c.bytes.toString('latin1'))) },
  {
    weight: 1,
    // Odd but legal headers on requests that are refused anyway: still a 4xx in the error shape.
    arbitrary: fc.tuple(fc.constantFrom(...QUERY_ROUTES), fc.constantFrom<[string, string]>(['Host', 'evil.example'], ['Host', '[::1'], ['X-Forwarded-For', '1.2.3.4'], ['Authorization', `Bearer ${'t'.repeat(3000)}`], ['Authorization', 'Basic Og=='], ['Cookie', 'a=b; '.repeat(200)], ['X-Token-Api-Ssh-Client', 'x'.repeat(300)], ['Accept', 'text/html'], ['Expect', 'the-unexpected'], ['X-Obs', 'caf\u00e9'])).map(([route, header]) =>
      caseOf({ method: route.method, path: `${route.path}?__fuzz=1`, headers: [header, ...(route.body ? [['Content-Type', 'application/json'] as [string, string]] : [])], body: route.body }),
    ),
  },
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

function assertRefused(a: RawAnswer, c: Case): void {
  const what = `${c.label.slice(0, 600)}\n=> ${a.status} ${a.body.slice(0, 400)}`;
  assert.ok(a.status !== null && a.status >= 400 && a.status < 500, `not a 4xx: ${what}`);
  assert.match(a.headers['content-type'] ?? '', /^application\/json/, `not JSON: ${what}`);
  let body: unknown;
  assert.doesNotThrow(() => (body = JSON.parse(a.body)), `unparsable error body: ${what}`);
  const b = body as Record<string, unknown>;
  assert.ok(b && typeof b === 'object' && !Array.isArray(b), `error body not an object: ${what}`);
  assert.deepEqual(Object.keys(b).filter((k) => !['error', 'message', 'fields'].includes(k)), [], `extra keys: ${what}`);
  assert.match(String(b.error), /^[a-z_]+$/, `error code: ${what}`);
  assert.ok(typeof b.message === 'string' && b.message.length > 0, `message: ${what}`);
  if (b.fields !== undefined) {
    assert.ok(typeof b.fields === 'object' && b.fields !== null && Object.values(b.fields).every((v) => typeof v === 'string'), `fields: ${what}`);
  }
}

describe('bad input: 10,000 hostile requests over raw HTTP to the real server', () => {
  const home = tempHome('token-api-fault-input-');
  const dbFile = join(home.dir, 'token-api.db');
  let server: ServerProcess;
  let port: number;
  let baseline: Record<string, number>;
  let sent = 0;

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
        body_limit_bytes: LIMITS.body,
        hook_body_limit_bytes: LIMITS.hook,
        usage_body_limit_bytes: LIMITS.usage,
        hook_spool_max_bytes: LIMITS.spool,
        sessions: { prompt_max_bytes: LIMITS.prompt },
        // A permission request that got through would be held: not for long.
        approval_timeout_seconds: 1,
      }),
    );
    server = await startServerProcess(home.dir);
    port = Number(new URL(server.url).port);
    // One live instance, so that routes on an existing id are reached past their 404.
    const r = await fetch(`${server.url}/api/hooks`, { method: 'POST', body: JSON.stringify(hookPayload('fuzz-1', 'SessionStart', { source: 'startup' })) });
    assert.equal(r.status, 200);
    baseline = await tableCounts(dbFile);
  });
  after(async () => {
    await server?.kill();
    home.cleanup();
  });

  // The limits above are generous on purpose: thousands of raw exchanges take minutes on a busy
  // two-core machine, and a timeout here would be a failure of the machine, not of the server.
  async function run(name: string, cases: fc.Arbitrary<Case>, numRuns: number): Promise<void> {
    const before = await tableCounts(dbFile);
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        sent += 1;
        const answer = await rawExchange(port, c.bytes, { halfClose: c.halfClose, timeoutMs: 15_000 });
        assertRefused(answer, c);
      }),
      { numRuns },
    );
    assert.equal(server.child.exitCode, null, `the server exited during ${name}:\n${server.stderr()}`);
    assert.deepEqual(await tableCounts(dbFile), before, `rows were written during ${name}`);
  }

  it('invalid bodies on every route that takes one (types, lengths, patterns, unknown fields, broken and deep JSON, limits, media types, encodings)', { timeout: 900_000 }, async () => {
    await run('bodies', bodyCases, 4200);
  });

  it('spool uploads in which no line can be replayed', { timeout: 400_000 }, async () => {
    await run('spool uploads', spoolCases, 600);
  });

  it('invalid, unknown, repeated and undecodable query parameters on every route', { timeout: 600_000 }, async () => {
    await run('queries', queryCases, 2200);
  });

  it('path traversal, unicode and unknown ids in path parameters', { timeout: 400_000 }, async () => {
    await run('path parameters', pathCases, 1000);
  });

  it('methods that do not exist, or not on that path, and unknown paths', { timeout: 400_000 }, async () => {
    await run('methods', methodCases, 800);
  });

  it('broken HTTP framing and bad headers, also around otherwise valid writes', { timeout: 600_000 }, async () => {
    await run('framing', framingCases, 1400);
  });

  it('after all of it the server answers normally, and logged no failed request', async () => {
    assert.ok(sent >= 10_000, `only ${sent} requests were sent`);
    assert.deepEqual(await tableCounts(dbFile), baseline, 'rows were written');
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');
    const hook = await fetch(`${server.url}/api/hooks`, { method: 'POST', body: JSON.stringify(hookPayload('fuzz-1', 'UserPromptSubmit')) });
    assert.equal(hook.status, 200);
    const inst = (await (await fetch(`${server.url}/api/instances/claude-fuzz-1`)).json()) as { state: string };
    assert.equal(inst.state, 'working');
    const events = await fetch(`${server.url}/api/events?limit=1000`);
    assert.equal(events.status, 200);
    const dashboard = await fetch(`${server.url}/api/dashboard?events=200`);
    assert.equal(dashboard.status, 200);
    assert.doesNotMatch(server.stderr(), /request failed|uncaught|unhandled/i);
  });
});
