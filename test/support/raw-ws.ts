// A WebSocket client on a bare TCP socket, for what a well-behaved library will not do: stop
// reading (a slow client whose buffers fill up) and read again later. It performs the real
// handshake and parses the server's (unmasked) frames itself.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export interface RawFrame {
  opcode: number;
  payload: Buffer;
}

export interface RawClient {
  socket: Socket;
  frames: RawFrame[];
  /** Text frames parsed as JSON. */
  texts(): any[];
  pause(): void;
  resume(): void;
  /** Sends a text frame (masked, as clients must). */
  send(text: string): void;
  /** Resolves when a frame satisfying `test` has been read. */
  until(test: (f: RawFrame) => boolean): Promise<void>;
  ended: Promise<void>;
}

function maskedFrame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len]) : Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff]);
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([head, mask, body]);
}

export function rawConnect(port: number, path = '/ws'): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const key = randomBytes(16).toString('base64');
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const frames: RawFrame[] = [];
    const waiters: { test: (f: RawFrame) => boolean; resolve: () => void }[] = [];
    let onEnded: () => void = () => undefined;
    const ended = new Promise<void>((r) => (onEnded = r));
    socket.on('close', () => onEnded());
    socket.on('error', () => undefined);

    function parseFrames(): void {
      for (;;) {
        if (buf.length < 2) return;
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
        const f = { opcode, payload: buf.subarray(off, off + len) };
        buf = buf.subarray(off + len);
        frames.push(f);
        // Pings are answered as they are read (so not while paused), as any client does.
        if (opcode === 9) socket.write(maskedFrame(0xa, f.payload));
        for (const w of [...waiters]) {
          if (w.test(f)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve();
          }
        }
      }
    }

    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.subarray(0, end).toString();
        buf = buf.subarray(end + 4);
        if (!head.startsWith('HTTP/1.1 101')) {
          reject(new Error(`handshake refused: ${head.split('\r\n')[0]}`));
          socket.destroy();
          return;
        }
        upgraded = true;
        resolve({
          socket,
          frames,
          texts: () => frames.filter((f) => f.opcode === 1).map((f) => JSON.parse(f.payload.toString())),
          send: (text) => socket.write(maskedFrame(0x1, Buffer.from(text))),
          pause: () => socket.pause(),
          resume: () => socket.resume(),
          until(test) {
            if (frames.some(test)) return Promise.resolve();
            return new Promise((r) => waiters.push({ test, resolve: r }));
          },
          ended,
        });
      }
      parseFrames();
    });
    socket.on('connect', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
  });
}
