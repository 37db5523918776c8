// In-process requests against a real system (real SQLite file): the peer address given is the
// one auth judges (beyond loopback a request needs the API token, as over a socket), JSON and
// text bodies reach the routes, answers come back whole with status and headers, and a bad
// body is answered 400 in the API's error shape without a row written.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { runInProcess } from '../src/http/in-process.js';
import { startTestServer, tableCounts, tempHome, type TestServer } from './support/system.js';

describe('in-process requests', () => {
  const home = tempHome();
  let s: TestServer;
  let token: string;
  before(async () => {
    s = await startTestServer(home.dir);
    token = readFileSync(s.config.tokenFile, 'utf8').trim();
  });
  after(async () => {
    await s.close();
    home.cleanup();
  });

  it('a peer beyond loopback without the token is refused 401, as over a socket', async () => {
    const r = await runInProcess(s.system.requestListener, { method: 'GET', path: '/api/mode', remoteAddress: '198.51.100.7' });
    assert.equal(r.status, 401);
    assert.equal(JSON.parse(r.body).error, 'unauthorized');
  });

  it('with the token, a GET answers like the same request over HTTP', async () => {
    const r = await runInProcess(s.system.requestListener, { method: 'GET', path: '/api/mode', headers: { Authorization: `Bearer ${token}` }, remoteAddress: '198.51.100.7' });
    const over = await s.request('GET', '/api/mode');
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type']!, /application\/json/);
    assert.deepEqual(JSON.parse(r.body), over.body);
  });

  it('a JSON body changes state, seen afterwards over HTTP; loopback as the peer needs no token', async () => {
    const modes = (await s.request('GET', '/api/mode')).body;
    const target = modes.mode === 'break' ? 'off' : 'break';
    const r = await runInProcess(s.system.requestListener, { method: 'POST', path: '/api/mode', body: { mode: target }, remoteAddress: '127.0.0.1' });
    assert.equal(r.status, 200, r.body);
    assert.equal((await s.request('GET', '/api/mode')).body.mode, target);
  });

  it('a malformed body is a 400 with fields, and nothing is written', async () => {
    const before = await tableCounts(s.system);
    const r = await runInProcess(s.system.requestListener, {
      method: 'POST',
      path: '/api/mode',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: '{"mode": 42}',
      remoteAddress: '198.51.100.7',
    });
    assert.equal(r.status, 400);
    const body = JSON.parse(r.body);
    assert.equal(body.error, 'validation_failed');
    assert.ok(body.fields, 'names the fields');
    await s.system.settle();
    assert.deepEqual(await tableCounts(s.system), before);
  });

  it('an unknown path is the API 404, and a caller cannot pose as another host or length', async () => {
    const r = await runInProcess(s.system.requestListener, { method: 'GET', path: '/api/nothing-here', headers: { host: 'evil.example', 'content-length': '99' }, remoteAddress: '127.0.0.1' });
    assert.equal(r.status, 404);
    assert.equal(JSON.parse(r.body).error, 'not_found');
  });
});
