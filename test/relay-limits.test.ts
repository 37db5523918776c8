// The relay's checks, on real sockets over loopback with the relay's time in the test's hands:
// the rate limit (a token bucket that refills as the clock moves), a token that expires while
// its socket is open, a frame over the size limit, frames of the wrong shape, a server that
// does not answer in time or is not there, another room's token, read-only writes, and
// minting a token over HTTP with a wrong key or body. Each refusal writes nothing but its
// audit row. The room's server is the real connector; its `run` stands in for token-api.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { startRelayConnector, type RelayConnector, type RelayedRequest } from '../src/relay/connector.js';
import { startRelay, type RunningRelay } from '../src/relay/server.js';
import { openRelayStore, type RelayStore } from '../src/relay/store.js';
import { systemClock } from '../src/lib/clock.js';
import { FakeClock } from './support/clock.js';
import { rawClient } from './support/relay.js';
import { tempHome } from './support/system.js';

const logger = pino({ level: 'silent' });

describe('relay limits and refusals', () => {
  const home = tempHome('token-api-relay-limits-');
  const clock = new FakeClock();
  let store: RelayStore;
  let relay: RunningRelay;
  let connector: RelayConnector;
  const ran: RelayedRequest[] = [];
  let admin = '';
  let reader = '';
  let otherRoom = '';

  before(async () => {
    store = await openRelayStore({ home: home.dir, clock });
    const room = await store.addRoom('home');
    await store.addRoom('work');
    admin = (await store.addToken({ room: 'home', name: 'laptop', role: 'admin', expiresInMs: 3_600_000 })).token;
    reader = (await store.addToken({ room: 'home', name: 'phone', role: 'read-only', expiresInMs: null })).token;
    otherRoom = (await store.addToken({ room: 'work', name: 'desk', role: 'admin', expiresInMs: null })).token;
    relay = await startRelay({ store, clock, logger, limits: { ratePerSecond: 1, burst: 5, maxFrameBytes: 4096, requestTimeoutMs: 30_000 } }, { port: 0, host: '127.0.0.1' });
    connector = startRelayConnector({
      url: relay.url,
      room: 'home',
      serverKey: room!.serverKey,
      // Its reconnects and pings run on real time: the relay's clock is the one moved here.
      clock: systemClock,
      logger,
      pairing: () => undefined,
      run: (r) => {
        ran.push(r);
        // A request token-api never answers, to see the relay's deadline.
        if (r.path === '/slow') return new Promise(() => undefined);
        return Promise.resolve({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ method: r.method, path: r.path, body: r.body ?? null }) });
      },
    });
    await connector.connected();
  });

  after(async () => {
    await connector.stop();
    await relay.close();
    await store.close();
    home.cleanup();
  });

  async function open(token: string, room = 'home') {
    const c = await rawClient(relay.url, room, token);
    assert.ok('ws' in c, `the relay accepted the client: ${JSON.stringify(c)}`);
    return c;
  }

  const audited = async (what: string) => {
    await store.flushAudit();
    return (await store.recentAudit('home', 1000)).filter((r) => r.what === what);
  };

  it('rate-limits each client token with a bucket that refills as time passes: 429 with retry-after, then allowed again', async () => {
    const c = await open(admin);
    for (let i = 0; i < 8; i++) c.ws.send(JSON.stringify({ t: 'req', id: `a${i}`, method: 'GET', path: `/api/instances/${i}` }));
    const first = await Promise.all(Array.from({ length: 8 }, () => c.next()));
    assert.deepEqual(first.map((f) => f.status).sort(), [200, 200, 200, 200, 200, 429, 429, 429]);
    const limited = first.find((f) => f.status === 429);
    assert.equal(limited.headers['retry-after'], '1');
    assert.equal(JSON.parse(limited.body).error, 'rate_limited');
    // Each answer belongs to its request, whatever the order.
    for (const f of first.filter((f) => f.status === 200)) assert.equal(JSON.parse(f.body).path, `/api/instances/${f.id.slice(1)}`);
    clock.advance(2000);
    for (let i = 0; i < 3; i++) c.ws.send(JSON.stringify({ t: 'req', id: `b${i}`, method: 'GET', path: '/api/mode' }));
    const second = await Promise.all(Array.from({ length: 3 }, () => c.next()));
    assert.deepEqual(second.map((f) => f.status).sort(), [200, 200, 429]);
    assert.ok((await audited('rate_limited')).length >= 4);
    c.ws.close();
    clock.advance(60_000); // a full bucket for the next case
  });

  it('a read-only token may only read: a write is 403 at the relay, never run, and audited', async () => {
    const c = await open(reader);
    const before = ran.length;
    c.ws.send(JSON.stringify({ t: 'req', id: 'w', method: 'POST', path: '/api/mode', body: { mode: 'break' } }));
    const f = await c.next();
    assert.equal(f.status, 403);
    assert.match(JSON.parse(f.body).message, /read-only/);
    c.ws.send(JSON.stringify({ t: 'req', id: 'r', method: 'GET', path: '/api/mode' }));
    assert.equal((await c.next()).status, 200);
    assert.equal(ran.length, before + 1);
    assert.equal(ran.at(-1)!.method, 'GET');
    const refused = await audited('refused');
    assert.equal(refused.at(0)?.method, 'POST');
    assert.equal(refused.at(0)?.status, 403);
    c.ws.close();
  });

  it('a frame of the wrong shape gets an error naming the field and the socket stays open', async () => {
    const c = await open(admin);
    c.ws.send(JSON.stringify({ t: 'req', id: 'x1', method: 'FETCH', path: '/api/mode' }));
    const f = await c.next();
    assert.equal(f.t, 'error');
    assert.equal(f.id, 'x1');
    assert.equal(f.error, 'bad_frame');
    assert.match(f.message, /method/);
    c.ws.send('not json');
    assert.equal((await c.next()).error, 'bad_frame');
    c.ws.send(JSON.stringify({ t: 'req', id: 'x2', method: 'GET', path: '/api/mode' }));
    assert.equal((await c.next()).status, 200);
    c.ws.close();
  });

  it('a frame over the size limit closes that socket with 1009; the relay serves others on', async () => {
    const c = await open(admin);
    const before = ran.length;
    c.ws.send(JSON.stringify({ t: 'req', id: 'big', method: 'POST', path: '/api/mode', body: 'x'.repeat(8192) }));
    assert.equal((await c.closed).code, 1009);
    assert.equal(ran.length, before, 'nothing reached the server');
    const d = await open(admin);
    d.ws.send(JSON.stringify({ t: 'req', id: 'ok', method: 'GET', path: '/api/mode' }));
    assert.equal((await d.next()).status, 200);
    d.ws.close();
  });

  it('a request the server does not answer in time is 504, audited', async () => {
    const c = await open(admin);
    c.ws.send(JSON.stringify({ t: 'req', id: 's', method: 'POST', path: '/slow' }));
    await waitFor(() => ran.some((r) => r.path === '/slow'));
    clock.advance(30_000);
    const f = await c.next();
    assert.equal(f.status, 504);
    assert.equal(JSON.parse(f.body).error, 'timeout');
    assert.ok((await audited('write')).some((r) => r.path === '/slow' && r.status === 504));
    c.ws.close();
  });

  it('a token that expires while its socket is open is refused on its next frame (close 4401) and on the next handshake (401)', async () => {
    const short = await store.addToken({ room: 'home', name: 'short', role: 'admin', expiresInMs: 60_000 });
    const c = await open(short.token);
    c.ws.send(JSON.stringify({ t: 'req', id: 'e1', method: 'GET', path: '/api/mode' }));
    assert.equal((await c.next()).status, 200);
    clock.advance(60_000);
    c.ws.send(JSON.stringify({ t: 'req', id: 'e2', method: 'GET', path: '/api/mode' }));
    assert.deepEqual(await c.closed, { code: 4401, reason: 'token expired' });
    const again = await rawClient(relay.url, 'home', short.token);
    assert.ok('refused' in again);
    assert.equal(again.refused, 401);
    assert.match(again.body.message, /expired/);
  });

  it('handshakes: no token, an unknown one or another room\'s is refused in the error shape; a bad room name is 400', async () => {
    const unknown = await rawClient(relay.url, 'home', 'tar_nonsense');
    assert.ok('refused' in unknown && unknown.refused === 401 && unknown.body.error === 'unauthorized');
    const other = await rawClient(relay.url, 'home', otherRoom);
    assert.ok('refused' in other && other.refused === 403 && /another room/.test(other.body.message));
    const badRoom = await rawClient(relay.url, 'Home!', admin);
    assert.ok('refused' in badRoom && badRoom.refused === 400 && badRoom.body.error === 'validation_failed');
    await store.flushAudit();
    const refusals = (await store.recentAudit(null, 1000)).filter((r) => r.what === 'client_refused');
    assert.ok(refusals.some((r) => r.status === 403 && r.room === 'home'));
  });

  it('minting a token over HTTP needs the room\'s server key and a valid body; a refusal adds no token', async () => {
    const count = async () => (await store.tokens('home')).length;
    const n = await count();
    const wrongKey = await fetch(`${relay.url}/v1/relay/tokens?room=home`, { method: 'POST', headers: { authorization: 'Bearer tas_wrong' }, body: JSON.stringify({ name: 'x', role: 'admin', expires: '1d' }) });
    assert.equal(wrongKey.status, 401);
    const badBody = await fetch(`${relay.url}/v1/relay/tokens?room=home`, { method: 'POST', headers: { authorization: `Bearer ${(await store.addRoom('spare'))!.serverKey}` }, body: '{}' });
    assert.equal(badBody.status, 401, 'the key of another room does not open this one');
    const room = await store.addRoom('mint');
    const invalid = await fetch(`${relay.url}/v1/relay/tokens?room=mint`, { method: 'POST', headers: { authorization: `Bearer ${room!.serverKey}` }, body: JSON.stringify({ name: 'x', role: 'owner', expires: 'soon' }) });
    assert.equal(invalid.status, 400);
    const body = (await invalid.json()) as any;
    assert.equal(body.error, 'validation_failed');
    assert.deepEqual(Object.keys(body.fields).sort(), ['expires', 'role']);
    assert.equal((await store.tokens('mint')).length, 0);
    const ok = await fetch(`${relay.url}/v1/relay/tokens?room=mint`, { method: 'POST', headers: { authorization: `Bearer ${room!.serverKey}` }, body: JSON.stringify({ name: 'phone', role: 'read-only', expires: '1d' }) });
    assert.equal(ok.status, 201);
    assert.match(((await ok.json()) as any).token, /^tar_/);
    assert.equal((await store.tokens('mint')).length, 1);
    assert.equal(await count(), n);
  });

  it('a browser\'s token as a subprotocol: answered with the relay\'s subprotocol alone (never the token); an unknown one is 401; whoami names a token\'s room and role', async () => {
    const { WebSocket } = await import('ws');
    const url = `${relay.url.replace(/^http/, 'ws')}/v1/relay/client?room=home`;
    const ws = new WebSocket(url, ['tapi-relay.v1', `tapi-token.${reader}`]);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    assert.equal(ws.protocol, 'tapi-relay.v1');
    ws.send(JSON.stringify({ t: 'req', id: 'sp', method: 'GET', path: '/api/mode' }));
    const answer = await new Promise<any>((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()))));
    assert.equal(answer.status, 200);
    ws.close();
    const refused = await new Promise<number>((resolve) => {
      const bad = new WebSocket(url, ['tapi-relay.v1', 'tapi-token.tar_notatokenofthisrelay']);
      bad.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      bad.once('open', () => resolve(101));
    });
    assert.equal(refused, 401);
    const who = await fetch(`${relay.url}/v1/relay/whoami`, { headers: { authorization: `Bearer ${reader}` } });
    assert.equal(who.status, 200);
    const body = (await who.json()) as any;
    assert.deepEqual([body.room, body.name, body.role, body.expires_at], ['home', 'phone', 'read-only', null]);
    for (const headers of [{}, { authorization: 'Bearer tar_notatokenofthisrelay' }] as Record<string, string>[]) {
      const r = await fetch(`${relay.url}/v1/relay/whoami`, { headers });
      assert.equal(r.status, 401);
      assert.equal(((await r.json()) as any).error, 'unauthorized');
    }
  });

  it('with the room\'s server away, requests are 503 at once', async () => {
    const c = await open(otherRoom, 'work');
    c.ws.send(JSON.stringify({ t: 'req', id: 'o', method: 'GET', path: '/api/mode' }));
    const f = await c.next();
    assert.equal(f.status, 503);
    assert.equal(JSON.parse(f.body).error, 'server_offline');
    c.ws.close();
  });
});

async function waitFor(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}
