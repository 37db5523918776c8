// fast-check arbitraries for hostile input: unicode edge cases, strings that break id
// patterns, values of the wrong JSON type, broken JSON, and a way to put raw invalid UTF-8
// bytes (overlong encodings, encoded surrogates, bytes that never occur in UTF-8) inside
// JSON strings, which JSON.stringify alone cannot produce.
import fc from 'fast-check';

/** Strings that trip up parsers, regexes, terminals and SQL. */
export const UNICODE_EDGES = [
  '\ud800', // lone high surrogate
  '\udfff', // lone low surrogate
  'a\ud83d', // emoji cut in half
  '\u0000',
  'a\u0000b',
  '\u202egnp.exe', // right-to-left override
  '\u200f\u200e', // RTL / LTR marks
  '\u200b', // zero-width space
  '\ufeff', // byte order mark
  '\uffff',
  '\u{10ffff}',
  'e\u0301', // combining accent
  '😀',
  '👩‍👩‍👧',
  '\u2028\u2029', // JavaScript line separators
  '\u0085', // next line
  '\u00a0',
  '𝕏',
  '\r\n',
  '\t',
  '\u001b[31m', // terminal escape
  '../..',
  '..\\..\\',
  '%2e%2e%2f',
  '/etc/passwd',
  "'; DROP TABLE events;--",
  '<script>alert(1)</script>',
  '${7*7}',
  '__proto__',
] as const;

/** Markers replaced by raw bytes after serialisation (see withRawBytes). */
const RAW_BYTES: Buffer[] = [
  Buffer.from([0xc0, 0xaf]), // overlong "/"
  Buffer.from([0xe0, 0x80, 0xaf]), // overlong "/", three bytes
  Buffer.from([0xed, 0xa0, 0x80]), // a surrogate encoded in UTF-8
  Buffer.from([0xff, 0xfe]), // never valid in UTF-8
  Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]), // five-byte form
  Buffer.from([0x80]), // lone continuation byte
  Buffer.from([0xf4, 0x90, 0x80, 0x80]), // above U+10FFFF
  Buffer.from([0xc3]), // truncated sequence
];
const marker = (i: number) => `\u0001RAW${i}\u0001`;

export const rawByteMarker = fc.integer({ min: 0, max: RAW_BYTES.length - 1 }).map(marker);

/** JSON text -> bytes, with each raw-byte marker (as JSON.stringify escaped it) replaced by its bytes. */
export function withRawBytes(json: string): Buffer {
  const parts = json.split(/\\u0001RAW(\d)\\u0001/);
  return Buffer.concat(parts.map((p, i) => (i % 2 === 1 ? RAW_BYTES[Number(p)]! : Buffer.from(p, 'utf8'))));
}

/** A string's UTF-8 bytes, with raw-byte markers (unescaped) replaced by their bytes. */
export function stringBytes(s: string): Buffer {
  const parts = s.split(/\u0001RAW(\d)\u0001/);
  return Buffer.concat(parts.map((p, i) => (i % 2 === 1 ? RAW_BYTES[Number(p)]! : Buffer.from(p, 'utf8'))));
}

export const unicodeEdge = fc.constantFrom(...UNICODE_EDGES);

/** Any string, with a bias towards the hostile ones. */
export const hostileString = fc.oneof(
  { weight: 3, arbitrary: unicodeEdge },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 8 }), unicodeEdge, rawByteMarker, fc.string({ maxLength: 8 })).map((p) => p.join('')) },
  { weight: 1, arbitrary: fc.nat({ max: 3000 }).map((n) => 'A'.repeat(n)) },
);

/** Arrays or objects nested `depth` levels. */
export function nested(depth: number, kind: 'array' | 'object'): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
  return v;
}

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
  fc.tuple(fc.integer({ min: 65, max: 400 }), fc.constantFrom('array', 'object') as fc.Arbitrary<'array' | 'object'>).map(([d, k]) => nested(d, k)),
);

export type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'null' | 'array' | 'object';

/** A value whose JSON type is none of `accepts`. */
export function wrongType(accepts: readonly JsonType[]): fc.Arbitrary<unknown> {
  const options: fc.Arbitrary<unknown>[] = [];
  if (!accepts.includes('string')) options.push(hostileString, fc.constantFrom('1', 'true', 'null', ''));
  if (!accepts.includes('number') && !accepts.includes('integer')) options.push(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));
  if (accepts.includes('integer') && !accepts.includes('number')) options.push(fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)));
  if (!accepts.includes('boolean')) options.push(fc.boolean());
  if (!accepts.includes('null')) options.push(fc.constant(null));
  if (!accepts.includes('array')) options.push(fc.array(hostileValue, { maxLength: 3 }));
  if (!accepts.includes('object')) options.push(fc.dictionary(fc.string({ maxLength: 6 }), hostileValue, { maxKeys: 3 }));
  return fc.oneof(...options);
}

/** A string that does not match `pattern`: an allowed string spoiled by a character the pattern refuses, empty, or too long. */
export function notMatching(pattern: RegExp, longest: number): fc.Arbitrary<string> {
  const spoilers = fc.oneof(unicodeEdge, fc.constantFrom('/', ' ', '%', '\\', '#', '?', '&', '=', '"', "'", '<', '*', '\u0000', '\n', '..%2F', '%00'), rawByteMarker);
  return fc
    .oneof(
      fc.tuple(fc.stringMatching(/^[a-z0-9]{0,10}$/), spoilers, fc.stringMatching(/^[a-z0-9]{0,10}$/)).map((p) => p.join('')),
      fc.constant(''),
      fc.nat({ max: 50 }).map((n) => 'a'.repeat(longest + 1 + n)),
      hostileString,
    )
    .filter((s) => !pattern.test(s));
}

/** JSON text that is not valid JSON. */
export const brokenJson: fc.Arbitrary<string> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ v })).chain((t) => fc.integer({ min: 1, max: t.length - 1 }).map((n) => t.slice(0, n))),
  fc.constantFrom(
    '{',
    '{"a":1,}',
    "{'a':1}",
    '{a:1}',
    '{"a":NaN}',
    '{"a":Infinity}',
    '{"a":1}/*c*/',
    '{"a":1} {"b":2}',
    '{"a":"\u0000"}',
    '{"a":"\\x41"}',
    '{"a":"\\ud800',
    '{"a":01}',
    '{"a":.5}',
    '{"a":+1}',
    '\ufeff{"a":',
    'null null',
    '{"a"::1}',
    '[1,2',
    'undefined',
    '{"a":tru}',
    ')]}\'\n{}',
  ),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }).filter((s) => {
    try {
      JSON.parse(s);
      return false;
    } catch {
      return true;
    }
  }),
);

/** A JSON Schema as z.toJSONSchema writes one: the parts hostile values are derived from. */
export interface JsonSchema {
  type?: JsonType | JsonType[];
  anyOf?: JsonSchema[];
  enum?: readonly unknown[];
  const?: unknown;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean | JsonSchema;
}

const ALL_TYPES: JsonType[] = ['string', 'number', 'integer', 'boolean', 'null', 'array', 'object'];

/** The alternatives a value may match (nested anyOf flattened). */
export function branchesOf(s: JsonSchema): JsonSchema[] {
  return s.anyOf ? s.anyOf.flatMap(branchesOf) : [s];
}

function typesOf(b: JsonSchema): JsonType[] {
  if (b.type) return Array.isArray(b.type) ? b.type : [b.type];
  const fixed = b.const !== undefined ? [b.const] : b.enum;
  if (fixed) return [...new Set(fixed.map((v) => (v === null ? 'null' : typeof v === 'number' ? 'number' : (typeof v as JsonType))))];
  return ALL_TYPES; // {}: anything
}

/** The one branch of a type, or null when there are several (a value bad for one may suit another). */
function only(bs: JsonSchema[], type: JsonType): JsonSchema | null {
  const of = bs.filter((b) => typesOf(b).includes(type));
  return of.length === 1 ? of[0]! : null;
}

/** The lowest and highest whole numbers a numeric schema takes. */
export function integerRange(b: JsonSchema): { min: number; max: number } {
  const min = b.minimum ?? (b.exclusiveMinimum !== undefined ? Math.floor(b.exclusiveMinimum) + 1 : Number.MIN_SAFE_INTEGER);
  const max = b.maximum ?? (b.exclusiveMaximum !== undefined ? Math.ceil(b.exclusiveMaximum) - 1 : Number.MAX_SAFE_INTEGER);
  return { min, max };
}

/** Strings outside an enum: hostile ones, and the allowed ones upper-cased or with a leading space. */
export function notEnum(values: readonly unknown[]): fc.Arbitrary<string> {
  const words = values.filter((v): v is string => typeof v === 'string');
  return fc.oneof(hostileString, fc.constantFrom(...words.map((v) => v.toUpperCase()), ...words.map((v) => ` ${v}`))).filter((s) => !values.includes(s));
}

/** The strings a value of this schema can never be (its string rules alone: a query parameter's). */
export function hostileStrings(schema: JsonSchema): fc.Arbitrary<string>[] {
  const bs = branchesOf(schema);
  const strings = bs.filter((b) => typesOf(b).includes('string'));
  const out: fc.Arbitrary<string>[] = [];
  if (strings.length > 0 && strings.every((b) => b.maxLength !== undefined)) {
    const max = Math.max(...strings.map((b) => b.maxLength!));
    out.push(fc.tuple(fc.nat({ max: 300 }), fc.constantFrom('x', 'é', '😀')).map(([n, c]) => c.repeat(max + 1 + n)));
  }
  const refusesEmpty = (b: JsonSchema) => (b.minLength ?? 0) > 0 || (b.pattern !== undefined && !new RegExp(b.pattern, 'u').test('')) || (b.enum !== undefined && !b.enum.includes('')) || (b.const !== undefined && b.const !== '');
  if (strings.length > 0 && strings.every(refusesEmpty)) out.push(fc.constant(''));
  const str = only(bs, 'string');
  if (str?.pattern !== undefined && str.enum === undefined && str.const === undefined) out.push(notMatching(new RegExp(str.pattern, 'u'), str.maxLength ?? 200));
  if (str?.enum !== undefined) out.push(notEnum(str.enum));
  return out;
}

/**
 * Values that a JSON value of this schema can never be, each derived from one rule of the schema:
 * a JSON type it does not take, a string one longer than maxLength or shorter than minLength, a
 * string the pattern refuses, a word outside the enum, numbers just outside the bounds or not whole,
 * arrays too short, too long or holding a bad item. Rules that apply to one alternative of several
 * (anyOf) are left out: the value might suit another. Refinements (IPs, URLs, trimming) are not in
 * JSON Schema; callers add those by hand.
 */
export function hostileFor(schema: JsonSchema): fc.Arbitrary<unknown>[] {
  const bs = branchesOf(schema);
  const accepts = [...new Set(bs.flatMap(typesOf))];
  const out: fc.Arbitrary<unknown>[] = [];
  if (accepts.length < ALL_TYPES.length) out.push(wrongType(accepts));
  out.push(...hostileStrings(schema));
  const num = only(bs, 'integer') ?? only(bs, 'number');
  if (num && !typesOf(num).includes('string')) {
    const bounds: number[] = [];
    if (num.minimum !== undefined) bounds.push(num.minimum - 1, num.minimum - 1000);
    if (num.exclusiveMinimum !== undefined) bounds.push(num.exclusiveMinimum, num.exclusiveMinimum - 1);
    if (num.maximum !== undefined) bounds.push(num.maximum + 1, num.maximum * 2 + 1);
    if (num.exclusiveMaximum !== undefined) bounds.push(num.exclusiveMaximum);
    if (bounds.length > 0) out.push(fc.constantFrom(...bounds));
    if (typesOf(num).includes('integer') && !accepts.includes('number')) out.push(fc.constant(integerRange(num).min + 0.5));
  }
  const arr = only(bs, 'array');
  if (arr) {
    if ((arr.minItems ?? 0) > 0) out.push(fc.constant([]));
    if (arr.maxItems !== undefined) out.push(fc.constant(Array.from({ length: arr.maxItems + 1 }, () => null)));
    if (arr.items) for (const bad of hostileFor(arr.items)) out.push(bad.map((v) => [v]));
  }
  return out;
}

/** An unknown key: random, unicode, or close to a real one. */
function unknownKey(known: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), unicodeEdge, fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'ID', 'Mode', ' mode')).filter((k) => !known.includes(k));
}

type Mutation = (o: Record<string, unknown>) => void;

/**
 * Ways to make a valid object (`base`) of an object schema invalid, one each: a property set to
 * one of its hostile values (and `extra`, by name: what JSON Schema cannot say), a required
 * property left out, an unknown key where the schema allows none. Nested objects, and the first
 * object of an array of them, are spoiled the same way.
 */
export function objectMutations(schema: JsonSchema, base: Record<string, unknown>, extra: Record<string, readonly unknown[]> = {}): fc.Arbitrary<Mutation>[] {
  const out: fc.Arbitrary<Mutation>[] = [];
  const properties = schema.properties ?? {};
  if (schema.additionalProperties === false) {
    out.push(fc.tuple(unknownKey(Object.keys(properties)), hostileValue).map(([k, v]) => (o) => void Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })));
  }
  for (const [name, p] of Object.entries(properties)) {
    for (const bad of hostileFor(p)) out.push(bad.map((v) => (o) => void (o[name] = v)));
    if (extra[name]?.length) out.push(fc.constantFrom(...extra[name]!).map((v) => (o) => void (o[name] = structuredClone(v))));
    if (schema.required?.includes(name)) out.push(fc.constant((o) => void delete o[name]));
    const obj = only(branchesOf(p), 'object');
    if (obj?.properties) {
      const inner = (base[name] ?? {}) as Record<string, unknown>;
      for (const m of objectMutations(obj, inner, extra)) out.push(m.map((spoil) => (o) => void (o[name] = spoiled(inner, spoil))));
    }
    const arr = only(branchesOf(p), 'array');
    const first = Array.isArray(base[name]) ? (base[name] as unknown[])[0] : undefined;
    if (arr?.items?.properties && first && typeof first === 'object') {
      for (const m of objectMutations(arr.items, first as Record<string, unknown>, extra)) out.push(m.map((spoil) => (o) => void (o[name] = [spoiled(first as Record<string, unknown>, spoil)])));
    }
  }
  return out;
}

function spoiled(base: Record<string, unknown>, m: Mutation): Record<string, unknown> {
  const o = structuredClone(base);
  m(o);
  return o;
}
