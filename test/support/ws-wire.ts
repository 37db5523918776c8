// WebSocket on the wire, for fault tests: builds any frame a client could send (wrong flags,
// reserved opcodes, unmasked, lying lengths) and any upgrade request (any method, path and
// headers), and speaks to a server at a given address, so a test sends exactly the bytes it
// means to and sees every frame, close code and HTTP refusal that comes back.
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { parseAnswer, type RawAnswer } from './raw-http.js';

export const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export interface FrameSpec {
  opcode: number;
  payload?: Buffer;
  /** Default true. */
  fin?: boolean;
  /** RSV1..RSV3 as a number from 0 to 7 (RSV1 is 4). */
  rsv?: number;
  /** Clients must mask; default true. */
  masked?: boolean;
  /** The length the header declares, when it should lie about the payload. */
  declaredLength?: bigint;
}

/** The bytes of one frame. */
export function frameBytes(f: FrameSpec): Buffer {
  const payload = f.payload ?? Buffer.alloc(0);
  const masked = f.masked ?? true;
  const len = f.declaredLength ?? BigInt(payload.length);
  const first = ((f.fin ?? true) ? 0x80 : 0) | (((f.rsv ?? 0) & 7) << 4) | (f.opcode & 0x0f);
  const maskBit = masked ? 0x80 : 0;
  let head: Buffer;
  if (len < 126n) head = Buffer.from([first, maskBit | Number(len)]);
  else if (len < 65536n) {
    head = Buffer.from([first, maskBit | 126, 0, 0]);
    head.writeUInt16BE(Number(len), 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = first;
    head[1] = maskBit | 127;
    head.writeBigUInt64BE(len, 2);
  }
  if (!masked) return Buffer.concat([head, payload]);
  const mask = randomBytes(4);
  const body = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) body[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([head, mask, body]);
}

/** A close frame's payload: the code (two bytes) and the reason's bytes. */
export function closePayload(code: number, reason: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return Buffer.concat([b, reason]);
}

export interface UpgradeSpec {
  method?: string;
  path: string;
  /** Sent in this order, as they are (a test that wants a header missing leaves it out). */
  headers: [string, string][];
  /** Bytes sent right after the head. */
  after?: Buffer;
}

/** The headers of a valid handshake, with a fresh key. */
export function handshakeHeaders(host: string, port: number): [string, string][] {
  return [
    ['Host', `${host}:${port}`],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', randomBytes(16).toString('base64')],
    ['Sec-WebSocket-Version', '13'],
  ];
}

export function upgradeBytes(u: UpgradeSpec): Buffer {
  const head = [`${u.method ?? 'GET'} ${u.path} HTTP/1.1`, ...u.headers.map(([k, v]) => `${k}: ${v}`)].join('\r\n');
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), u.after ?? Buffer.alloc(0)]);
}

/** The Sec-WebSocket-Accept a server owes a key (RFC 6455 section 4.2.2). */
export function acceptFor(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

/**
 * Sends `bytes` to host:port and resolves with the answer once it is complete (its
 * Content-Length read, or the connection closed), or at once on a `101 Switching Protocols`
 * (then the connection is dropped: the caller wanted a refusal). Rejects after `timeoutMs`.
 */
export function upgradeExchange(host: string, port: number, bytes: Buffer, timeoutMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to: ${bytes.subarray(0, 300).toString('latin1')}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve(parseAnswer(buf));
    };
    socket.on('connect', () => socket.write(bytes));
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const a = parseAnswer(buf);
      const length = a.headers['content-length'];
      if (a.status === 101 || (length !== undefined && buf.length - end - 4 >= Number(length))) {
        socket.destroy();
        done();
      }
    });
    socket.on('close', done);
  });
}

export interface WireFrame {
  opcode: number;
  fin: boolean;
  payload: Buffer;
}

export interface Closing {
  /** The code of the server's close frame (null for a close frame without one). */
  code: number | null;
  reason: string;
}

export interface WireClient {
  socket: Socket;
  /** Every frame the server sent, in order. */
  frames: WireFrame[];
  write(bytes: Buffer): void;
  /** A masked text frame. */
  sendText(text: string): void;
  /** Resolves with the first frame from `from` on that passes `test`; rejects if the connection ends first. */
  next(test: (f: WireFrame) => boolean, from?: number, timeoutMs?: number): Promise<WireFrame>;
  /** Resolves with the server's close frame, or null when the connection ended without one. */
  closing: Promise<Closing | null>;
  /** Resolves when the TCP connection is closed. */
  ended: Promise<void>;
  isEnded(): boolean;
  destroy(): void;
}

/**
 * Opens a WebSocket connection with a correct handshake (its accept checked) at host:port,
 * and reads the server's frames. Pings are answered; a close frame is answered with one
 * echoing its code, then the connection is ended, as RFC 6455 asks of a client.
 */
export function openWire(o: { host: string; port: number; path: string; headers?: [string, string][] }): Promise<WireClient> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: o.host, port: o.port });
    const headers = handshakeHeaders(o.host, o.port);
    const key = headers.find(([k]) => k === 'Sec-WebSocket-Key')![1];
    let buf = Buffer.alloc(0);
    let upgraded = false;
    let ended = false;
    const frames: WireFrame[] = [];
    const waiters = new Set<() => void>();
    let onClosing: (c: Closing | null) => void = () => undefined;
    const closing = new Promise<Closing | null>((r) => (onClosing = r));
    let onEnded: () => void = () => undefined;
    const endedP = new Promise<void>((r) => (onEnded = r));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      ended = true;
      onClosing(null);
      onEnded();
      for (const w of [...waiters]) w();
      if (!upgraded) reject(new Error(`connection closed during the handshake: ${buf.subarray(0, 300).toString('latin1')}`));
    });

    function parseFrames(): void {
      for (;;) {
        if (buf.length < 2) return;
        const fin = (buf[0]! & 0x80) !== 0;
        const opcode = buf[0]! & 0x0f;
        let len = buf[1]! & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          off = 10;
        }
        if (buf.length < off + len) return;
        const f: WireFrame = { opcode, fin, payload: buf.subarray(off, off + len) };
        buf = buf.subarray(off + len);
        frames.push(f);
        if (opcode === OP.ping && socket.writable) socket.write(frameBytes({ opcode: OP.pong, payload: f.payload }));
        if (opcode === OP.close) {
          const code = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null;
          onClosing({ code, reason: f.payload.subarray(2).toString('utf8') });
          if (socket.writable) socket.end(frameBytes({ opcode: OP.close, payload: code === null ? undefined : closePayload(code) }));
        }
        for (const w of [...waiters]) w();
      }
    }

    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const answer = parseAnswer(buf.subarray(0, end + 4));
        if (answer.status !== 101 || answer.headers['sec-websocket-accept'] !== acceptFor(key)) {
          socket.destroy();
          reject(new Error(`handshake refused: ${buf.subarray(0, 400).toString('latin1')}`));
          return;
        }
        buf = buf.subarray(end + 4);
        upgraded = true;
        resolve({
          socket,
          frames,
          write: (bytes) => {
            if (socket.writable) socket.write(bytes);
          },
          sendText(text) {
            if (socket.writable) socket.write(frameBytes({ opcode: OP.text, payload: Buffer.from(text, 'utf8') }));
          },
          next(test, from = 0, timeoutMs = 15_000) {
            return new Promise((res, rej) => {
              const timer = setTimeout(() => {
                waiters.delete(check);
                rej(new Error(`no such frame within ${timeoutMs} ms`));
              }, timeoutMs);
              function check(): void {
                const found = frames.slice(from).find(test);
                if (found || ended) {
                  clearTimeout(timer);
                  waiters.delete(check);
                  if (found) res(found);
                  else rej(new Error(`the connection ended first (${frames.filter((f) => f.opcode === OP.close).map((f) => `close ${f.payload.length >= 2 ? f.payload.readUInt16BE(0) : ''} ${f.payload.subarray(2).toString()}`).join('') || 'no close frame'})`));
                }
              }
              waiters.add(check);
              check();
            });
          },
          closing,
          ended: endedP,
          isEnded: () => ended,
          destroy: () => socket.destroy(),
        });
      }
      parseFrames();
    });
    socket.on('connect', () => socket.write(upgradeBytes({ path: o.path, headers: [...headers, ...(o.headers ?? [])] })));
  });
}

/** A server frame as JSON (text frames only). */
export function frameJson(f: WireFrame): Record<string, unknown> | null {
  if (f.opcode !== OP.text) return null;
  try {
    return JSON.parse(f.payload.toString('utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}
