// The server's side of the relay on its own: a relay that stops answering pings (a half-open
// connection after NAT or sleep) is left and connected to again, on the test's clock; a relay
// that refuses the server key is retried with backoff, never in a tight loop.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { WebSocketServer } from 'ws';
import { startRelayConnector } from '../src/relay/connector.js';
import { FakeClock } from './support/clock.js';

const logger = pino({ level: 'silent' });

async function silentRelay(o: { refuse?: boolean } = {}) {
  const server = createServer();
  // autoPong off: the socket stays open and says nothing, as a half-open one would.
  const wss = new WebSocketServer({ noServer: true, autoPong: false });
  let connections = 0;
  let attempts = 0;
  server.on('upgrade', (req, socket, head) => {
    attempts += 1;
    if (o.refuse) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, () => (connections += 1));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    attempts: () => attempts,
    close: () => new Promise<void>((resolve) => {
      for (const c of wss.clients) c.terminate();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

describe('relay connector', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of closers) await c();
  });

  it('leaves a relay that does not answer its ping within an interval and connects again', async () => {
    const relay = await silentRelay();
    closers.push(relay.close);
    const clock = new FakeClock();
    const c = startRelayConnector({ url: relay.url, room: 'home', serverKey: 'k', clock, logger, heartbeatMs: 1000, random: () => 0, pairing: () => undefined, run: async () => ({ status: 200, headers: {}, body: '' }) });
    closers.push(() => c.stop());
    await c.connected();
    assert.equal(relay.connections(), 1);
    clock.advance(1000); // ping
    assert.equal(c.status().connected, true);
    clock.advance(1000); // no pong: gone
    await until(() => clock.pending() === 2); // the heartbeat's timer and the reconnect's
    assert.equal(c.status().connected, false);
    clock.advance(0); // the reconnect (jitter 0)
    await until(() => relay.connections() === 2);
    await c.connected();
  });

  it('a refused handshake is retried with growing, jittered delays', async () => {
    const relay = await silentRelay({ refuse: true });
    closers.push(relay.close);
    const clock = new FakeClock();
    const c = startRelayConnector({ url: relay.url, room: 'home', serverKey: 'wrong', clock, logger, random: () => 1, pairing: () => undefined, run: async () => ({ status: 200, headers: {}, body: '' }) });
    closers.push(() => c.stop());
    // The heartbeat's timer and, once a try has failed, the next try's.
    const retrying = () => clock.pending() === 2;
    await until(() => relay.attempts() === 1 && retrying());
    // With jitter at its top: 1 s, then 2 s, then 4 s.
    for (const [delay, attempt] of [[1000, 2], [2000, 3], [4000, 4]] as const) {
      clock.advance(delay - 1);
      assert.equal(relay.attempts(), attempt - 1, `not before ${delay} ms`);
      clock.advance(1);
      await until(() => relay.attempts() === attempt && retrying());
    }
  });
});
