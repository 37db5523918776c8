// A real HTTP server standing in for the phone's webhook receiver: it can be down (not
// listening, so connections are refused) and come back up on the same port (one chosen below
// the ephemeral range, so nothing else takes it meanwhile), answers with a
// chosen status, and records every POST it received with its Idempotency-Key.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  key: string | undefined;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface Phone {
  url: string;
  received: Received[];
  /** Status to answer with (default 200). */
  status: number;
  up(): Promise<void>;
  down(): Promise<void>;
  /** Resolves once `n` POSTs have been received in all (fails after 15 s, so a missing one is reported rather than hanging). */
  waitFor(n: number): Promise<void>;
}

/**
 * Listens on `port`, or first on a free port below the kernel's ephemeral range (32768 and up),
 * where no port 0 listener nor outgoing connection is given one: a phone that goes down and
 * comes back finds its port still free, even with other tests running.
 */
async function listenSteady(s: Server, port: number): Promise<number> {
  const listen = (p: number) =>
    new Promise<boolean>((resolve, reject) => {
      const failed = (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(false) : reject(err));
      s.once('error', failed);
      s.listen(p, '127.0.0.1', () => {
        s.off('error', failed);
        resolve(true);
      });
    });
  if (port !== 0) {
    if (await listen(port)) return port;
    throw new Error(`the phone's port ${port} was taken while it was down`);
  }
  for (let i = 0; i < 100; i++) {
    const p = 20_000 + Math.floor(Math.random() * 12_000);
    if (await listen(p)) return (s.address() as AddressInfo).port;
  }
  throw new Error('no free port between 20000 and 32000 for the phone');
}

export async function startPhone(): Promise<Phone> {
  let server: Server | null = null;
  let port = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const phone: Phone = {
    url: '',
    received: [],
    status: 200,
    async up() {
      if (server) return;
      const s = createServer((req, res) => {
        let text = '';
        req.setEncoding('utf8');
        req.on('data', (d: string) => (text += d));
        req.on('end', () => {
          let body: Record<string, unknown> = {};
          try {
            body = JSON.parse(text) as Record<string, unknown>;
          } catch {
            body = { unparsed: text };
          }
          phone.received.push({ key: req.headers['idempotency-key'] as string | undefined, headers: req.headers, body });
          res.writeHead(phone.status, { 'content-type': 'text/plain' });
          res.end(phone.status >= 400 ? `refused with ${phone.status}` : 'ok');
          for (const w of waiters.splice(0)) {
            if (phone.received.length >= w.n) w.resolve();
            else waiters.push(w);
          }
        });
      });
      port = await listenSteady(s, port);
      phone.url = `http://127.0.0.1:${port}/notify`;
      server = s;
    },
    async down() {
      const s = server;
      server = null;
      if (!s) return;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    },
    waitFor(n) {
      if (phone.received.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const limit = setTimeout(() => reject(new Error(`the phone received ${phone.received.length} of ${n} notifications`)), 15_000);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(limit);
            resolve();
          },
        });
      });
    },
  };
  await phone.up();
  return phone;
}

/** How many times each Idempotency-Key arrived. */
export function countByKey(received: readonly Received[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of received) m.set(r.key ?? '(none)', (m.get(r.key ?? '(none)') ?? 0) + 1);
  return m;
}
