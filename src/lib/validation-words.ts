// Validation errors in plain words, one formatter for every refusal (HTTP answers, the live
// feed, spool lines, the config file): each issue says what was wrong and what is expected,
// "is 0; expected more than 0". A schema's own message (or its description) is the
// expectation; zod's default wording ("Invalid input: expected string, received undefined")
// is replaced here, for the whole process, by the same kind of phrase.
import { z } from 'zod';

type RawIssue = z.core.$ZodRawIssue;
type Issue = z.core.$ZodIssue;

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a JSON object',
  array: 'a list',
  null: 'null',
  date: 'a date',
  bigint: 'a whole number',
  record: 'a JSON object',
  tuple: 'a list',
};

const FORMAT_WORDS: Record<string, string> = {
  url: 'a URL',
  email: 'an email address',
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
  uuid: 'a UUID',
  datetime: 'an ISO 8601 date and time',
  date: 'a date (YYYY-MM-DD)',
  regex: 'text in the expected form',
};

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

function description(schema: unknown): string | undefined {
  if (!schema || typeof schema !== 'object') return undefined;
  return z.globalRegistry.get(schema as z.core.$ZodType)?.description;
}

function bound(issue: { origin?: string; inclusive?: boolean }, n: number | bigint, side: 'min' | 'max'): string {
  const num = Number(n);
  switch (issue.origin) {
    case 'string':
      if (side === 'min') return num === 1 ? 'text that is not empty' : `at least ${plural(num, 'character')}`;
      return `at most ${plural(num, 'character')}`;
    case 'array':
    case 'set':
      if (side === 'min') return num === 1 ? 'at least one item' : `at least ${plural(num, 'item')}`;
      return `at most ${plural(num, 'item')}`;
    default:
      if (side === 'min') return issue.inclusive === false ? `more than ${num}` : `at least ${num}`;
      return issue.inclusive === false ? `less than ${num}` : `at most ${num}`;
  }
}

/** What a value should have been, for an issue whose schema gave no message of its own. */
export function expectationOf(issue: RawIssue): string {
  const described = description(issue.inst) ?? description(issue.schema);
  switch (issue.code) {
    case 'invalid_type':
      return described ?? TYPE_WORDS[issue.expected] ?? String(issue.expected);
    case 'too_small':
      return bound(issue, issue.minimum, 'min');
    case 'too_big':
      return bound(issue, issue.maximum, 'max');
    case 'invalid_value':
      return issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      return described ?? FORMAT_WORDS[issue.format] ?? `a valid ${issue.format}`;
    case 'not_multiple_of':
      return `a multiple of ${String(issue.divisor)}`;
    case 'unrecognized_keys': {
      const shape = (issue.inst as { shape?: Record<string, unknown> } | undefined)?.shape;
      const known = shape ? Object.keys(shape) : [];
      return known.length > 0 ? `one of ${known.join(', ')}` : 'no fields';
    }
    case 'invalid_union': {
      const branches = (issue.errors ?? []).map((list) => list[0]?.message).filter((m): m is string => Boolean(m));
      return described ?? ([...new Set(branches)].join(' or ') || 'one of the accepted forms');
    }
    case 'invalid_key':
      return 'valid keys';
    case 'invalid_element':
      return 'valid items';
    default:
      return described ?? 'a valid value';
  }
}

// Every schema in the process: zod's default messages become expectations (see above).
z.config({ customError: (issue) => expectationOf(issue) });

/** A value as it can be quoted in a sentence, kept short. */
function quoted(value: unknown): string {
  if (typeof value === 'string') {
    const cut = value.length > 40 ? `${value.slice(0, 39)}…` : value;
    return JSON.stringify(cut);
  }
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function kindOf(value: unknown): string {
  if (typeof value === 'string') return `text (${quoted(value)})`;
  if (typeof value === 'number') return `a number (${value})`;
  if (typeof value === 'boolean') return String(value);
  return quoted(value);
}

/** What was wrong with the value (the issue's input must have been reported). */
function problemOf(issue: Issue): string {
  const input = issue.input;
  if (input === undefined) return 'is missing';
  switch (issue.code) {
    case 'invalid_type':
      return `is ${kindOf(input)}`;
    case 'too_small':
    case 'too_big': {
      const over = issue.code === 'too_big';
      if (typeof input === 'string') return input.length === 0 ? 'is empty' : `is too ${over ? 'long' : 'short'} (${plural(Array.from(input).length, 'character')})`;
      if (Array.isArray(input)) return input.length === 0 ? 'is empty' : `has ${plural(input.length, 'item')}`;
      return `is ${quoted(input)}`;
    }
    default:
      return `is ${quoted(input)}`;
  }
}

/**
 * A custom issue whose message is a whole statement ("minutes needs a mode") rather than what
 * is expected: `ctx.addIssue({ code: 'custom', message, params: WHOLE })`.
 */
export const WHOLE = { whole: true } as const;

/** One issue in words: "is 0; expected more than 0", or a custom issue's whole statement. */
export function issueWords(issue: Issue): string {
  if (issue.code === 'custom' && (issue.params as { whole?: boolean } | undefined)?.whole) return issue.message;
  if (!('input' in issue)) return `is not valid; expected ${issue.message}`;
  return `${problemOf(issue)}; expected ${issue.message}`;
}

/** zod issues -> { "path.to.field": "is 0; expected more than 0" }; unknown fields each by name. */
export function fieldsInWords(error: z.ZodError, prefix?: string): Record<string, string> {
  // No prototype: a field a client names `__proto__` is reported like any other.
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const issue of error.issues) {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      const known = issue.message.startsWith('one of ') ? issue.message.slice(7).split(', ') : [];
      for (const k of issue.keys) {
        const near = closest(k, known);
        fields[[path, k].filter(Boolean).join('.')] = `is not a known field; expected ${issue.message}${near ? ` (did you mean ${near}?)` : ''}`;
      }
      continue;
    }
    fields[path || '(root)'] ??= issueWords(issue);
  }
  return fields;
}

/** Edit distance of two short words (insertions, deletions, substitutions, swaps). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidate a mistyped word most likely meant (within two edits, and not most of the word), or null. */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best !== null && bestD <= Math.min(2, Math.floor(best.length / 2)) ? best : null;
}

/** safeParse with the input of every issue kept, so the words can say what was wrong. */
export function parseInWords<S extends z.ZodType>(schema: S, value: unknown): z.ZodSafeParseResult<z.output<S>> {
  return schema.safeParse(value, { reportInput: true });
}

/** "query parameter app is missing; expected …", up to three fields, one sentence each. */
export function sentenceOfFields(fields: Record<string, string>, noun: string): string {
  const names = Object.keys(fields);
  const said = names.slice(0, 3).map((name) => (name === '(root)' ? `the ${noun.split(' ')[0]} ${fields[name]}` : `${noun} ${name} ${fields[name]}`));
  const more = names.length > 3 ? ` (and ${names.length - 3} more: see fields)` : '';
  return said.map((s, i) => (i === 0 ? s : s.charAt(0).toUpperCase() + s.slice(1))).join('. ') + more;
}
