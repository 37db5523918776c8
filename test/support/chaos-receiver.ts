// A real HTTP server standing in for a webhook receiver that misbehaves on command: it hangs
// (reads the request and never answers), resets the connection (RST after the headers), drops
// it (closes before reading), answers with an error status, or answers slowly (holds the
// answer until released, then sends it in pieces). It counts, per Idempotency-Key, every
// request it saw and every 2xx answer it finished sending: the deliveries.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type ChaosMode = 'hang' | 'reset' | 'drop' | 'error' | 'busy' | 'slow' | 'ok';

export interface ChaosReceiver {
  url: string;
  mode: ChaosMode;
  /** Requests seen (headers received), per key. */
  seen: Map<string, number>;
  /** 2xx answers sent to the end, per key. */
  delivered: Map<string, number>;
  /** Requests seen in all. */
  arrivals(): number;
  /** Resolves once `n` requests have been seen in all (rejects after 15 s, naming what arrived). */
  waitForArrivals(n: number): Promise<void>;
  /** Answers (200, in pieces) every request held in slow mode. */
  releaseSlow(): Promise<void>;
  /** Destroys the connections of hung requests (the receiver went away mid-request). */
  dropHung(): void;
  close(): Promise<void>;
}

export async function startChaosReceiver(): Promise<ChaosReceiver> {
  const sockets = new Set<Socket>();
  const hung: IncomingMessage[] = [];
  const held: { res: ServerResponse; key: string }[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  let total = 0;

  const count = (m: Map<string, number>, key: string) => m.set(key, (m.get(key) ?? 0) + 1);
  const wake = () => {
    for (const w of waiters.splice(0)) {
      if (total >= w.n) w.resolve();
      else waiters.push(w);
    }
  };

  function answer(res: ServerResponse, key: string, status: number, body: string): void {
    res.on('finish', () => {
      if (status >= 200 && status < 300) count(r.delivered, key);
    });
    res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  const server: Server = createServer((req, res) => {
    const key = String(req.headers['idempotency-key'] ?? '(none)');
    const mode = r.mode;
    if (mode === 'drop') {
      req.socket.destroy();
      return;
    }
    count(r.seen, key);
    total += 1;
    if (mode === 'reset') {
      req.socket.resetAndDestroy();
      wake();
      return;
    }
    req.resume();
    req.on('end', () => {
      wake();
      switch (mode) {
        case 'hang':
          hung.push(req);
          return;
        case 'error':
          return answer(res, key, 500, 'the receiver failed');
        case 'busy':
          return answer(res, key, 429, 'slow down');
        case 'slow':
          held.push({ res, key });
          return;
        default:
          return answer(res, key, 200, 'ok');
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    if (r.mode === 'drop') {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const r: ChaosReceiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    mode: 'ok',
    seen: new Map(),
    delivered: new Map(),
    arrivals: () => total,
    waitForArrivals(n) {
      if (total >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const limit = setTimeout(() => reject(new Error(`the receiver saw ${total} of ${n} requests`)), 15_000);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(limit);
            resolve();
          },
        });
      });
    },
    async releaseSlow() {
      for (const { res, key } of held.splice(0)) {
        res.on('finish', () => count(r.delivered, key));
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('o');
        await new Promise((resolve) => setImmediate(resolve));
        res.end('k');
      }
    },
    dropHung() {
      for (const req of hung.splice(0)) req.socket.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return r;
}
