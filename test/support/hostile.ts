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
