// Reads what a transcript gained since a stored cursor, as a stream of chunks: a 1 GB file
// never sits in memory. Only lines holding one of the given markers are decoded and handed
// on (the others are skipped as bytes). A last line without its newline is handed on only if
// it is already complete JSON; otherwise the cursor stays before it and it is read again
// next time. A file that shrank, or whose first bytes changed, is read again from the start.
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';

/** Where reading a file stopped, and how to recognise that the file is still the same one. */
export interface FileCursor {
  /** Bytes consumed: everything before this offset has been handed on. */
  offset: number;
  size: number;
  mtimeMs: number;
  /** "<length>:<sha256 prefix>" of the file's first bytes when it was last read. */
  head: string;
}

export interface ReadOptions {
  /** Only lines containing one of these byte strings are decoded. */
  markers: readonly Buffer[];
  /** Called with each complete line that holds a marker, in file order, as bytes [start, end) of `buf` (valid during the call only). */
  onLine(buf: Buffer, start: number, end: number): void;
  /**
   * Called after each chunk with the offset consumed so far; awaiting it pauses reading, so
   * the caller can persist what it collected (backpressure).
   */
  onChunk?(consumed: number, bytesRead: number): Promise<void> | void;
  /** Called once before reading, with where reading starts (0 after a restart). */
  onStart?(info: { restarted: boolean; from: number; size: number; mtimeMs: number; head: string }): void;
  chunkBytes?: number;
  signal?: AbortSignal;
}

export interface ReadOutcome {
  cursor: FileCursor;
  /** The file was read again from the start (truncated or replaced). */
  restarted: boolean;
  bytesRead: number;
}

const HEAD_BYTES = 1024;
const NEWLINE = 0x0a;
/** A line longer than this is skipped rather than buffered (no usage line comes close). */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** Read buffers are reused: a fresh megabyte per file would pile up outside the JS heap until a GC. */
const spare: Buffer[] = [];

function takeBuffer(size: number): Buffer {
  const i = spare.findIndex((b) => b.length === size);
  return i >= 0 ? spare.splice(i, 1)[0]! : Buffer.allocUnsafe(size);
}

function giveBack(buf: Buffer): void {
  if (spare.length < 4) spare.push(buf);
}

function headOf(bytes: Buffer): string {
  return `${bytes.length}:${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}`;
}

async function readHead(fh: FileHandle, size: number, prev: FileCursor | null): Promise<{ same: boolean; head: string }> {
  const len = Math.min(HEAD_BYTES, size);
  const buf = Buffer.alloc(len);
  if (len > 0) await fh.read(buf, 0, len, 0);
  const head = headOf(buf);
  if (!prev) return { same: true, head };
  const prevLen = Number(prev.head.split(':')[0]);
  if (!Number.isInteger(prevLen) || prevLen > len) return { same: false, head };
  return { same: headOf(buf.subarray(0, prevLen)) === prev.head, head };
}

/** Finds the next line (from `from`, before `end`) holding any marker; positions are cached per marker. */
class MarkerScanner {
  private next: number[];
  constructor(
    private readonly data: Buffer,
    private readonly markers: readonly Buffer[],
  ) {
    this.next = markers.map(() => -2);
  }

  /** [lineStart, lineEnd) of the next marked line at or after `from`, ending at or before `end`. */
  find(from: number, lineFloor: number, end: number): [number, number] | null {
    let hit = -1;
    for (let i = 0; i < this.markers.length; i += 1) {
      let p = this.next[i]!;
      if (p !== -1 && p < from) p = this.data.indexOf(this.markers[i]!, from);
      this.next[i] = p;
      if (p !== -1 && p < end && (hit === -1 || p < hit)) hit = p;
    }
    if (hit === -1) return null;
    const nl = this.data.lastIndexOf(NEWLINE, hit);
    const start = nl < lineFloor ? lineFloor : nl + 1;
    let stop = this.data.indexOf(NEWLINE, hit);
    if (stop === -1 || stop > end) stop = end;
    return [start, stop];
  }
}

function emitMarked(data: Buffer, from: number, end: number, markers: readonly Buffer[], onLine: ReadOptions['onLine']): void {
  const scanner = new MarkerScanner(data, markers);
  let pos = from;
  while (pos < end) {
    const found = scanner.find(pos, from, end);
    if (!found) return;
    const [start, stop] = found;
    if (stop > start) onLine(data, start, stop);
    pos = stop + 1;
  }
}

function hasMarker(data: Buffer, markers: readonly Buffer[]): boolean {
  return markers.some((m) => data.includes(m));
}

function isCompleteJson(text: string): boolean {
  const t = text.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) return false;
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads `path` from `prev` (or from the start) to its end. Resolves null when the file does
 * not exist (any more).
 */
export async function readNewLines(path: string, prev: FileCursor | null, o: ReadOptions): Promise<ReadOutcome | null> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return null;
    const { same, head } = await readHead(fh, st.size, prev);
    let restarted = false;
    let start = prev?.offset ?? 0;
    if (prev && (!same || st.size < prev.offset)) {
      start = 0;
      restarted = true;
    }
    o.onStart?.({ restarted, from: start, size: st.size, mtimeMs: Math.trunc(st.mtimeMs), head });
    const chunkBytes = o.chunkBytes ?? 1024 * 1024;
    const buf = takeBuffer(chunkBytes);
    try {
      /** Pieces of a line that spans chunks. */
      let carry: Buffer[] = [];
      let carryBytes = 0;
      let skippingLongLine = false;
      let pos = start;
      let consumed = start;
      let bytesRead = 0;
      for (;;) {
        if (o.signal?.aborted) break;
        const { bytesRead: n } = await fh.read(buf, 0, chunkBytes, pos);
        if (n === 0) break;
        bytesRead += n;
        const chunk = buf.subarray(0, n);
        const lastNl = chunk.lastIndexOf(NEWLINE);
        if (lastNl === -1) {
          pos += n;
          if (skippingLongLine) continue;
          carryBytes += n;
          if (carryBytes > MAX_LINE_BYTES) {
            carry = [];
            carryBytes = 0;
            skippingLongLine = true;
          } else carry.push(Buffer.from(chunk));
          continue;
        }
        let data: Buffer;
        let from = 0;
        if (skippingLongLine) {
          data = chunk;
          from = chunk.indexOf(NEWLINE) + 1;
          skippingLongLine = false;
        } else if (carry.length > 0) {
          data = Buffer.concat([...carry, chunk]);
        } else data = chunk;
        const end = data.length - (n - lastNl);
        emitMarked(data, from, end, o.markers, o.onLine);
        const rest = chunk.subarray(lastNl + 1);
        carry = rest.length > 0 ? [Buffer.from(rest)] : [];
        carryBytes = rest.length;
        pos += n;
        consumed = pos - carryBytes;
        if (o.onChunk) await o.onChunk(consumed, bytesRead);
      }
      if (!skippingLongLine && carryBytes > 0 && !o.signal?.aborted) {
        const tail = Buffer.concat(carry);
        // A torn last line is not complete JSON yet: leave it for next time.
        if (hasMarker(tail, o.markers) && isCompleteJson(tail.toString('utf8'))) {
          o.onLine(tail, 0, tail.length);
          consumed = pos;
        }
      }
      return { cursor: { offset: consumed, size: Math.max(st.size, pos), mtimeMs: Math.trunc(st.mtimeMs), head }, restarted, bytesRead };
    } finally {
      giveBack(buf);
    }
  } finally {
    await fh.close();
  }
}
