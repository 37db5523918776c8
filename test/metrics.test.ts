// The metrics store over real HTTP and SQLite: values set, read, replaced, deleted; a time to
// live that ends on the injected clock (gone from reads at once, deleted and announced when its
// timer fires); the bounds on keys and sizes, each refusal a 4xx that says why and writes
// nothing; values surviving a restart (and one that expired while down, gone); every change on
// the live feed, and the values in its snapshot.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from './support/clock.js';
import { connectFeed, startFeedServer, type FeedServer } from './support/feed.js';
import { readRows } from './support/sqlite.js';
import { startTestServer, tableCounts, tempHome, type TestServer } from './support/system.js';

const QUIET = { notifications: { speech: { engine: 'none' as const }, sound: { player: 'none' as const } } };

const metricRows = (home: string) => readRows(home, 'SELECT key, value, expires_at FROM metrics ORDER BY key');

describe('metrics over HTTP', () => {
  const home = tempHome();
  const clock = new FakeClock();
  let s: TestServer;
  before(async () => {
    s = await startTestServer(home.dir, { ...QUIET, metrics: { max_keys: 3, max_value_bytes: 64 } }, { clock });
  });
  after(async () => {
    await s.close();
    home.cleanup();
  });

  it('sets, reads, replaces and deletes a value, each change committed before the answer', async () => {
    const set = await s.request('POST', '/api/metrics/phone.battery', { value: 81 });
    assert.equal(set.status, 201);
    assert.deepEqual(set.body, { key: 'phone.battery', value: 81, updated_at: new Date(clock.now()).toISOString(), expires_at: null, created: true });
    assert.deepEqual((await metricRows(home.dir)).map((r) => [r.key, r.value]), [['phone.battery', '81']]);

    const again = await s.request('POST', '/api/metrics/phone.battery', { value: { level: 79, charging: true } });
    assert.equal(again.status, 200);
    assert.equal(again.body.created, false);
    assert.deepEqual((await s.request('GET', '/api/metrics/phone.battery')).body.value, { level: 79, charging: true });
    const list = await s.request('GET', '/api/metrics');
    assert.equal(list.body.count, 1);
    assert.deepEqual(list.body.metrics['phone.battery'].value, { level: 79, charging: true });

    const del = await s.request('DELETE', '/api/metrics/phone.battery');
    assert.equal(del.status, 200);
    assert.deepEqual(del.body.value, { level: 79, charging: true });
    assert.equal((await s.request('GET', '/api/metrics/phone.battery')).status, 404);
    assert.equal((await s.request('DELETE', '/api/metrics/phone.battery')).status, 404);
    assert.deepEqual(await metricRows(home.dir), []);
  });

  it('forgets a value when its time to live ends: at once for reads, then the row', async () => {
    await s.request('POST', '/api/metrics/build.status', { value: 'green', ttl_seconds: 60 });
    assert.equal((await s.request('GET', '/api/metrics/build.status')).body.expires_at, new Date(clock.now() + 60_000).toISOString());
    clock.advance(59_999);
    assert.equal((await s.request('GET', '/api/metrics/build.status')).status, 200);
    clock.advance(1);
    const gone = await s.request('GET', '/api/metrics/build.status');
    assert.equal(gone.status, 404);
    assert.match(gone.body.message, /no metric build\.status/);
    assert.equal((await s.request('GET', '/api/metrics')).body.count, 0);
    await s.system.settle();
    assert.deepEqual(await metricRows(home.dir), []);
  });

  it('a value set again before it expired keeps its new life', async () => {
    await s.request('POST', '/api/metrics/desk.presence', { value: true, ttl_seconds: 10 });
    clock.advance(5_000);
    await s.request('POST', '/api/metrics/desk.presence', { value: true, ttl_seconds: 10 });
    clock.advance(6_000);
    await s.system.settle();
    assert.equal((await s.request('GET', '/api/metrics/desk.presence')).status, 200);
    clock.advance(4_000);
    await s.system.settle();
    assert.equal((await s.request('GET', '/api/metrics/desk.presence')).status, 404);
  });

  it('refuses, in words and writing nothing: a value over the size limit, a key too many, a bad key, no value, a bad time to live', async () => {
    for (const k of ['a', 'b', 'c']) assert.equal((await s.request('POST', `/api/metrics/${k}`, { value: 1 })).status, 201);
    const counts = await tableCounts(s.system);

    const big = await s.request('POST', '/api/metrics/a', { value: 'x'.repeat(100) });
    assert.equal(big.status, 400);
    assert.equal(big.body.error, 'validation_failed');
    assert.match(big.body.fields.value, /^the value is 102 bytes as JSON; expected at most 64 bytes \(metrics\.max_value_bytes/);

    const full = await s.request('POST', '/api/metrics/d', { value: 1 });
    assert.equal(full.status, 409);
    assert.match(full.body.message, /maximum of 3 keys; delete one, or raise metrics\.max_keys/);
    // Replacing a key the store holds is no new key.
    assert.equal((await s.request('POST', '/api/metrics/c', { value: 2 })).status, 200);

    const badKey = await s.request('POST', '/api/metrics/has%20space', { value: 1 });
    assert.equal(badKey.status, 400);
    assert.match(badKey.body.fields.key, /expected a key of letters, digits/);
    const noValue = await s.request('POST', '/api/metrics/e', {});
    assert.equal(noValue.status, 400);
    assert.match(noValue.body.fields.value, /is missing/);
    const badTtl = await s.request('POST', '/api/metrics/a', { value: 1, ttl_seconds: 0 });
    assert.equal(badTtl.status, 400);
    assert.match(badTtl.body.fields.ttl_seconds, /is 0; expected more than 0/);
    const unknown = await s.request('POST', '/api/metrics/a', { value: 1, ttl: 5 });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.fields.ttl, /is not a known field/);

    assert.deepEqual(await tableCounts(s.system), counts);
    assert.equal((await s.request('GET', '/api/metrics/a')).body.value, 1);
  });
});

describe('metrics across a restart and on the live feed', () => {
  const home = tempHome();
  const clock = new FakeClock();
  let f: FeedServer | null = null;
  after(async () => {
    await f?.close();
    home.cleanup();
  });

  // Pings wait longer than the clock moves here: a client that cannot answer a ping in between is not dropped.
  const file = { ...QUIET, websocket: { ping_seconds: 3600 } };

  it('keeps what was acknowledged, drops what expired while down, and puts every change on the feed', async () => {
    f = await startFeedServer(home.dir, file, { clock });
    await f.post('/api/metrics/phone.battery', { value: 55 });
    await f.post('/api/metrics/short', { value: 'x', ttl_seconds: 30 });
    await f.close();
    clock.advance(60_000);

    f = await startFeedServer(home.dir, file, { clock });
    assert.equal((await f.get('/api/metrics/phone.battery')).body.value, 55);
    assert.equal((await f.get('/api/metrics/short')).status, 404);
    assert.deepEqual((await metricRows(home.dir)).map((r) => r.key), ['phone.battery']);

    const client = await connectFeed(f.wsUrl);
    const snap = await client.next('snapshot');
    assert.deepEqual(Object.keys(snap.metrics ?? {}), ['phone.battery']);
    assert.equal(snap.metrics?.['phone.battery']?.value, 55);

    await f.post('/api/metrics/phone.battery', { value: 54, ttl_seconds: 120 });
    const set = await client.next('metric', (m) => m.change === 'set');
    assert.equal(set.key, 'phone.battery');
    assert.equal(set.metric?.value, 54);
    assert.equal(set.seq, snap.seq + 1);

    clock.advance(120_000);
    const expired = await client.next('metric', (m) => m.change === 'expired');
    assert.equal(expired.key, 'phone.battery');
    assert.equal(expired.metric, null);

    await f.post('/api/metrics/door', { value: 'open' });
    assert.equal((await fetch(`${f.url}/api/metrics/door`, { method: 'DELETE' })).status, 200);
    const deleted = await client.next('metric', (m) => m.change === 'deleted');
    assert.equal(deleted.key, 'door');

    // A snapshot asked for now holds what is left.
    client.send({ type: 'get_snapshot' });
    clock.advance(1000);
    const fresh = await client.next('snapshot', (m) => m.seq > snap.seq);
    assert.deepEqual(fresh.metrics, {});
    await client.close();
  });
});
