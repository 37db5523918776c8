// Whatever a client sends to the mode, state and gate endpoints, the answer is never a 5xx,
// and a refused change changes nothing (property-based, with fast-check, over real HTTP).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { startTestServer, tableCounts, tempHome, type TestServer } from './support/system.js';

describe('mode, state and gate endpoints under arbitrary input', () => {
  const home = tempHome();
  let s: TestServer;
  before(async () => {
    s = await startTestServer(home.dir, { state_variables: { volume: { type: 'number', default: 3, min: 0, max: 10 } } });
  });
  after(async () => {
    await s.close();
    home.cleanup();
  });

  it('any query string on the gate endpoints: 200 or 400, never 5xx', async () => {
    const raw = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 60 }).map((x) => encodeURIComponent(x)),
      fc.constantFrom('app=%', 'app=%E0%A4%A', 'app=a%00b', 'app=', 'app', 'app=a&app=b', 'app[]=x', 'app[x]=1', '&&&', 'app=%2F..%2F', 'app=+'),
    );
    await fc.assert(
      fc.asyncProperty(raw, fc.constantFrom('/', '/api/check'), async (query, path) => {
        const res = await fetch(`${s.url}${path}?${query.replace(/#/g, '%23')}`).catch(() => null);
        if (res === null) return; // a string fetch itself refuses to send
        await res.arrayBuffer();
        assert.ok(res.status === 200 || res.status === 400, `${path}?${query}: ${res.status}`);
      }),
      { numRuns: 300 },
    );
  });

  it('any JSON body to POST /api/state and /api/mode: never 5xx; a 400 changes nothing', async () => {
    const value = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }));
    const body = fc.oneof(
      fc.record({ mode: fc.oneof(fc.constantFrom('break', 'off', 'work_music', 'nap'), value), minutes: value, focus: value, volume: value }, { requiredKeys: [] }),
      fc.dictionary(fc.string({ maxLength: 8 }), value, { maxKeys: 4 }),
      fc.jsonValue(),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('/api/state', '/api/mode'), async (b, path) => {
        // What an earlier, accepted change set going (the mode change's notification) lands first.
        await s.system.settle();
        const before = (await s.request('GET', '/api/state')).body;
        const counts = await tableCounts(s.system);
        const r = await s.request('POST', path, JSON.stringify(b));
        assert.ok(r.status < 500, `${path} ${JSON.stringify(b)}: ${r.status} ${r.text}`);
        if (r.status !== 200) {
          assert.equal(r.status, 400, r.text);
          assert.deepEqual((await s.request('GET', '/api/state')).body, before);
          assert.deepEqual(await tableCounts(s.system), counts);
        }
      }),
      { numRuns: 300 },
    );
  });
});
