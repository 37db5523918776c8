// Reads a few fields of a JSON object line, skipping everything else (message content, tool
// inputs) without decoding or parsing it: the bulk of a transcript is text no usage report
// needs. The line is scanned as a one-byte (latin1) view of its bytes, where positions are
// byte offsets and every JSON delimiter is itself (UTF-8 never uses ASCII bytes inside a
// multi-byte character); values that are read are decoded from the bytes as UTF-8. Skipping
// walks the structure and jumps over strings, so a line whose structure is broken (a torn
// line) is refused, as JSON.parse would.

/** A field's value as offsets [start, end) into the line. */
export interface Span {
  start: number;
  end: number;
}

/** A line: its bytes, where it starts in them, and its latin1 view (same offsets, from 0). */
export interface Line {
  buf: Buffer;
  offset: number;
  text: string;
}

export function lineOf(buf: Buffer, start: number, end: number): Line {
  return { buf, offset: start, text: buf.toString('latin1', start, end) };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJ = 0x7b;
const CLOSE_OBJ = 0x7d;
const OPEN_ARR = 0x5b;
const CLOSE_ARR = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

function ws(t: string, i: number): number {
  while (i < t.length && isSpace(t.charCodeAt(i))) i += 1;
  return i;
}

/** Index just past the string that opens at `i` (a quote), or -1. */
function skipString(t: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const q = t.indexOf('"', j);
    if (q === -1) return -1;
    let k = q - 1;
    while (t.charCodeAt(k) === BACKSLASH) k -= 1;
    if ((q - 1 - k) % 2 === 0) return q + 1;
    j = q + 1;
  }
}

/** Index just past the value that starts at `i`, or -1 when the structure is broken. */
export function skipValue(t: string, i: number): number {
  i = ws(t, i);
  if (i >= t.length) return -1;
  const b = t.charCodeAt(i);
  if (b === QUOTE) return skipString(t, i);
  if (b === OPEN_OBJ || b === OPEN_ARR) {
    // Nested containers by depth; strings are jumped over whole.
    let depth = 0;
    let j = i;
    while (j < t.length) {
      const c = t.charCodeAt(j);
      if (c === QUOTE) {
        j = skipString(t, j);
        if (j === -1) return -1;
        continue;
      }
      if (c === OPEN_OBJ || c === OPEN_ARR) depth += 1;
      else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
        depth -= 1;
        if (depth === 0) return j + 1;
      }
      j += 1;
    }
    return -1;
  }
  // A number, true, false or null: up to the next delimiter.
  let j = i;
  while (j < t.length) {
    const c = t.charCodeAt(j);
    if (c === COMMA || c === CLOSE_OBJ || c === CLOSE_ARR || isSpace(c)) break;
    j += 1;
  }
  return j > i ? j : -1;
}

/**
 * Finds the wanted keys of the object at [start, end) of the line: for wanted[k], its value
 * is at [out[2k], out[2k+1]) (-1 when absent; the last of a repeated key wins, as in
 * JSON.parse). False when those bytes are not one complete object.
 */
export function objectFields(line: Line, start: number, end: number, wanted: readonly string[], out: Int32Array): boolean {
  const t = line.text;
  out.fill(-1);
  let i = ws(t, start);
  if (t.charCodeAt(i) !== OPEN_OBJ) return false;
  i = ws(t, i + 1);
  if (t.charCodeAt(i) === CLOSE_OBJ) return ws(t, i + 1) >= end;
  for (;;) {
    if (t.charCodeAt(i) !== QUOTE) return false;
    const keyEnd = skipString(t, i);
    if (keyEnd === -1 || keyEnd > end) return false;
    const keyLen = keyEnd - i - 2;
    let slot = -1;
    for (let k = 0; k < wanted.length; k += 1) {
      const name = wanted[k]!;
      if (name.length === keyLen && t.startsWith(name, i + 1)) {
        slot = k;
        break;
      }
    }
    i = ws(t, keyEnd);
    if (t.charCodeAt(i) !== COLON) return false;
    const valueStart = ws(t, i + 1);
    const valueEnd = skipValue(t, valueStart);
    if (valueEnd === -1 || valueEnd > end) return false;
    if (slot !== -1) {
      out[2 * slot] = valueStart;
      out[2 * slot + 1] = valueEnd;
    }
    i = ws(t, valueEnd);
    const c = t.charCodeAt(i);
    if (c === COMMA) {
      i = ws(t, i + 1);
      continue;
    }
    if (c === CLOSE_OBJ) return ws(t, i + 1) >= end;
    return false;
  }
}

function isAscii(t: string, start: number, end: number): boolean {
  for (let i = start; i < end; i += 1) if (t.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** The value at [start, end) decoded (small values only: strings, numbers, usage objects); undefined when absent. */
export function valueOf(line: Line, start: number, end: number): unknown {
  if (start < 0) return undefined;
  const t = line.text;
  // ASCII bytes read the same in latin1 and UTF-8: no need to decode them again.
  const text = isAscii(t, start, end) ? t.slice(start, end) : line.buf.toString('utf8', line.offset + start, line.offset + end);
  const first = t.charCodeAt(start);
  if (first === QUOTE && text.indexOf('\\') === -1) return text.slice(1, -1);
  if (first === 0x74 && text === 'true') return true;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isObjectAt(line: Line, start: number): boolean {
  return start >= 0 && line.text.charCodeAt(start) === OPEN_OBJ;
}
