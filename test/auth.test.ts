// Callers beyond loopback: the policy as a table, the token file (0600, created once, kept,
// repaired), 401s that change nothing (remote address injected, and for real through this
// machine's own non-loopback interface where it has one), and `token-api token`.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { authorize, createAuthPolicy, type RequestFacts } from '../src/http/auth.js';
import { ensureTokenFile, TokenFileError } from '../src/http/token-file.js';
import { startServer } from '../src/system/server.js';
import pino from 'pino';
import { FakeClock } from './support/clock.js';
import { runCli } from './support/process.js';
import { startTestServer, tableCounts, tempHome, testConfig, type TestServer } from './support/system.js';

const TOKEN = 'a-test-token-of-sufficient-length';

/** The status of a request sent with exactly these headers (fetch will not send a Host of one's choosing). */
function rawStatus(base: string, path: string, headers: Record<string, string>, method = 'GET', body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(base + path, { method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('access policy', () => {
  const policy = createAuthPolicy({ token: TOKEN, gateCheckNetworks: ['127.0.0.0/8', '::1/128', '100.64.0.0/10'] });
  const ask = (remoteAddress: string, method: string, path: string, authorization?: string) => authorize(policy, { remoteAddress, method, path, authorization } satisfies RequestFacts);
  const cases: [string, string, string, string | undefined, string][] = [
    ['127.0.0.1', 'POST', '/api/mode', undefined, 'loopback'],
    ['::1', 'POST', '/api/hooks', undefined, 'loopback'],
    ['::ffff:127.0.0.1', 'GET', '/api/instances', undefined, 'loopback'],
    ['100.102.92.24', 'GET', '/api/check', undefined, 'check_network'],
    ['::ffff:100.102.92.24', 'GET', '/', undefined, 'check_network'],
    ['100.102.92.24', 'HEAD', '/api/check', undefined, 'check_network'],
    ['100.102.92.24', 'POST', '/api/mode', undefined, 'refused'],
    ['100.102.92.24', 'GET', '/api/instances', undefined, 'refused'],
    ['100.102.92.24', 'GET', '/api/events', undefined, 'refused'],
    ['100.102.92.24', 'POST', '/api/check', undefined, 'refused'],
    ['100.128.0.1', 'GET', '/api/check', undefined, 'refused'],
    ['192.168.1.20', 'GET', '/api/check', undefined, 'refused'],
    ['192.168.1.20', 'GET', '/api/check', `Bearer ${TOKEN}`, 'token'],
    ['192.168.1.20', 'POST', '/api/mode', `Bearer ${TOKEN}`, 'token'],
    ['192.168.1.20', 'POST', '/api/mode', `bearer   ${TOKEN}  `, 'token'],
    ['192.168.1.20', 'POST', '/api/mode', `Bearer ${TOKEN}x`, 'refused'],
    ['192.168.1.20', 'POST', '/api/mode', `Basic ${TOKEN}`, 'refused'],
    ['192.168.1.20', 'POST', '/api/mode', TOKEN, 'refused'],
    ['192.168.1.20', 'POST', '/api/mode', 'Bearer', 'refused'],
    ['fd00::2', 'DELETE', '/api/instances/x', undefined, 'refused'],
  ];
  for (const [addr, method, path, auth, want] of cases) {
    it(`${method} ${path} from ${addr}${auth ? ` with "${auth.slice(0, 12)}…"` : ''}: ${want}`, () => {
      const d = ask(addr, method, path, auth);
      if (want === 'refused') {
        assert.equal(d.ok, false);
        assert.match((d as { reason: string }).reason, /token-api token/);
      } else assert.deepEqual(d, { ok: true, via: want });
    });
  }
});

describe('requests from web pages of another origin', () => {
  const policy = createAuthPolicy({ token: TOKEN, gateCheckNetworks: ['127.0.0.0/8'] });
  const base = { remoteAddress: '127.0.0.1', method: 'POST', path: '/api/hooks', authorization: undefined, host: '127.0.0.1:7777' };

  it('are refused with 403 whatever the address or token; same-origin pages and clients without Origin are not', () => {
    for (const origin of ['http://evil.example', 'null', 'http://127.0.0.1:8080', 'http://localhost:7777', 'not a url']) {
      const d = authorize(policy, { ...base, origin });
      assert.equal(d.ok, false, origin);
      assert.equal((d as { status: number }).status, 403, origin);
      assert.equal(authorize(policy, { ...base, origin, authorization: `Bearer ${TOKEN}` }).ok, false, `${origin} with the token`);
    }
    assert.deepEqual(authorize(policy, { ...base, origin: 'http://127.0.0.1:7777' }), { ok: true, via: 'loopback' });
    assert.deepEqual(authorize(policy, base), { ok: true, via: 'loopback' });
  });

  it('a DNS name pointed at this machine (DNS rebinding) gets no loopback exemption: its page sends a matching Origin, so only the token lets it in', () => {
    const rebound = { ...base, host: 'rebind.attacker.example:7777', origin: 'http://rebind.attacker.example:7777' };
    const d = authorize(policy, rebound);
    assert.equal(d.ok, false);
    assert.equal((d as { status: number }).status, 401);
    assert.match((d as { reason: string }).reason, /only localhost and IP addresses/);
    // a same-origin GET carries no Origin at all
    assert.equal(authorize(policy, { ...base, method: 'GET', path: '/api/events', host: 'rebind.attacker.example:7777' }).ok, false);
    assert.deepEqual(authorize(policy, { ...rebound, authorization: `Bearer ${TOKEN}` }), { ok: true, via: 'token' });
    // gate checks stay open to the configured networks whatever the name (a phone asks by MagicDNS name)
    assert.deepEqual(authorize(policy, { ...base, method: 'GET', path: '/api/check', host: 'desktop.tail1234.ts.net:7777' }), { ok: true, via: 'check_network' });
    for (const host of ['127.0.0.1:7777', 'localhost:7777', 'LOCALHOST', 'localhost.:7777', 'app.localhost:7777', '[::1]:7777', '10.0.0.5:7777', undefined]) {
      assert.deepEqual(authorize(policy, { ...base, host, origin: undefined }), { ok: true, via: 'loopback' }, String(host));
    }
  });

  it('over HTTP (a hook sent as text/plain, which needs no preflight) and the WebSocket feed: 403, nothing written', async () => {
    const home = tempHome();
    const s = await startTestServer(home.dir);
    try {
      const counts = await tableCounts(s.system);
      const evil = { origin: 'http://evil.example', 'content-type': 'text/plain' };
      const hook = await s.request('POST', '/api/hooks', JSON.stringify({ session_id: 'csrf', hook_event_name: 'UserPromptSubmit' }), evil);
      assert.equal(hook.status, 403, hook.text);
      assert.equal(hook.body.error, 'forbidden');
      assert.equal((await s.request('POST', '/api/mode', { mode: 'break' }, { origin: 'http://evil.example' })).status, 403);
      assert.equal((await s.request('GET', '/api/instances', undefined, { origin: 'http://evil.example' })).status, 403);
      assert.equal((await s.request('GET', '/api/check?app=youtube', undefined, { origin: 'http://evil.example' })).status, 403);
      const ws = await new Promise<number>((resolve) => {
        const req = httpRequest(`${s.url}/ws`, {
          headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', origin: 'http://evil.example' },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('upgrade', () => resolve(101));
        req.end();
      });
      assert.equal(ws, 403);
      await s.system.settle();
      assert.deepEqual(await tableCounts(s.system), counts);
      // The same requests from a page of token-api's own origin go through.
      const own = await s.request('POST', '/api/hooks', { session_id: 'own', hook_event_name: 'SessionStart' }, { origin: s.url });
      assert.equal(own.status, 200);
      // A page on a name rebound to 127.0.0.1: same origin as far as the browser knows, refused here.
      const port = new URL(s.url).port;
      const countsBefore = await tableCounts(s.system);
      const rebound = await rawStatus(s.url, '/api/events', { host: `rebind.attacker.example:${port}` });
      assert.equal(rebound, 401);
      const hookRebound = await rawStatus(s.url, '/api/hooks', { host: `rebind.attacker.example:${port}`, origin: `http://rebind.attacker.example:${port}`, 'content-type': 'text/plain' }, 'POST', JSON.stringify({ session_id: 'rebind', hook_event_name: 'SessionStart' }));
      assert.equal(hookRebound, 401);
      await s.system.settle();
      assert.deepEqual(await tableCounts(s.system), countsBefore);
    } finally {
      await s.close();
      home.cleanup();
    }
  });
});

describe('the token file', () => {
  it('is created once with mode 0600 and read back the same', () => {
    const h = tempHome();
    const file = join(h.dir, 'token');
    const first = ensureTokenFile(file);
    assert.equal(first.created, true);
    assert.match(first.token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const again = ensureTokenFile(file);
    assert.deepEqual(again, { token: first.token, created: false, repairedMode: false });
    chmodSync(file, 0o644);
    assert.equal(ensureTokenFile(file).repairedMode, true);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    writeFileSync(file, 'short\n');
    assert.throws(() => ensureTokenFile(file), (e: Error) => e instanceof TokenFileError && /does not hold a token/.test(e.message));
    h.cleanup();
  });

  it('`token-api token` prints the token the server uses', async () => {
    const h = tempHome();
    // Every request comes from another host here, so only the token lets one through.
    const srv = await startTestServer(h.dir, {}, { peerAddress: () => '192.0.2.50' });
    const r = await runCli(['token', '--home', h.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, readFileSync(join(h.dir, 'token'), 'utf8'));
    assert.equal((await srv.request('GET', '/api/instances', undefined, { authorization: `Bearer ${r.stdout.trim()}` })).status, 200);
    assert.equal((await srv.request('GET', '/api/instances', undefined, { authorization: 'Bearer not-the-token-not-the-token' })).status, 401);
    const help = await runCli(['token', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Authorization: Bearer/);
    await srv.close();
    h.cleanup();
  });
});

describe('requests from beyond loopback', () => {
  const home = tempHome();
  const clock = new FakeClock();
  let s: TestServer;
  let token: string;
  after(async () => {
    await s?.close();
    home.cleanup();
  });

  // The remote address is injected from a test header: the policy sees another host.
  const peer = (req: IncomingMessage) => (req.headers['x-test-peer'] as string | undefined) ?? req.socket.remoteAddress;
  const from = (addr: string, extra: Record<string, string> = {}) => ({ 'x-test-peer': addr, ...extra });

  it('needs the token to change or read anything but gate checks; a 401 changes nothing', async () => {
    // No local process exists: an instance whose pid were taken as this machine's would be stopped.
    s = await startTestServer(home.dir, {}, { peerAddress: peer, clock, processExists: () => false });
    token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
    const before = (await s.request('GET', '/api/state')).body;
    const counts = await tableCounts(s.system);
    for (const [method, path, body] of [
      ['POST', '/api/mode', { mode: 'break' }],
      ['POST', '/api/state', { focus: true }],
      ['POST', '/api/hooks', { session_id: 'x', hook_event_name: 'UserPromptSubmit' }],
      ['POST', '/api/instances/register', { instance_id: 'phone-1' }],
      ['GET', '/api/instances', undefined],
      ['GET', '/api/events', undefined],
    ] as const) {
      for (const headers of [from('192.0.2.50'), from('100.100.1.1'), from('192.0.2.50', { authorization: 'Bearer wrong-token-wrong-token' })]) {
        const r = await s.request(method, path, body, headers);
        assert.equal(r.status, 401, `${method} ${path} ${JSON.stringify(headers)}: ${r.text}`);
        assert.equal(r.body.error, 'unauthorized');
        assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="token-api"');
      }
    }
    await s.system.settle();
    assert.deepEqual(await tableCounts(s.system), counts);
    assert.deepEqual((await s.request('GET', '/api/state')).body, before);
  });

  it('with the right token, the same requests go through', async () => {
    const r = await s.request('POST', '/api/mode', { mode: 'break' }, from('192.0.2.50', { authorization: `Bearer ${token}` }));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.mode, 'break');
    const list = await s.request('GET', '/api/instances', undefined, from('192.0.2.50', { authorization: `Bearer ${token}` }));
    assert.equal(list.status, 200);
    // a laptop's hook, with the token: taken, and its pid is not one of this machine's
    const hook = await s.request('POST', '/api/hooks?pid=4242', { session_id: 'laptop-1', hook_event_name: 'SessionStart' }, from('192.0.2.50', { authorization: `Bearer ${token}` }));
    assert.equal(hook.status, 200, hook.text);
    assert.equal(hook.body.instance.pid, 4242);
    clock.advance(s.config.processCheckMs);
    await s.system.settle();
    const after = await s.request('GET', `/api/instances/${hook.body.instance.id}`);
    assert.equal(after.body.status, 'active', 'the process monitor does not check a pid of another machine');
  });

  it('gate checks need no token from loopback and Tailscale, and do elsewhere', async () => {
    await s.request('POST', '/api/mode', { mode: 'work_silence' });
    const phone = from('100.102.92.24');
    assert.equal((await s.request('GET', '/?app=youtube', undefined, phone)).text, 'blocked');
    const c = await s.request('GET', '/api/check?app=youtube', undefined, phone);
    assert.equal(c.status, 200);
    assert.equal(c.body.allowed, false);
    assert.equal((await s.request('GET', '/?app=youtube', undefined, from('192.0.2.50'))).status, 401);
    assert.equal((await s.request('GET', '/api/check?app=youtube', undefined, from('192.0.2.50', { authorization: `Bearer ${token}` }))).status, 200);
    assert.equal((await s.request('GET', '/api/productivity', undefined, phone)).status, 401);
    await s.system.settle();
    const checks = (await s.request('GET', '/api/events?type=gate.check&limit=3')).body.events;
    assert.deepEqual(
      checks.map((e: { details: { remote_address: string } }) => e.details.remote_address),
      ['192.0.2.50', '100.102.92.24', '100.102.92.24'],
    );
  });
});

describe('for real, through a non-loopback interface of this machine', () => {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  it('401 without the token, 200 with it; checks open to a configured network', { skip: address ? false : 'this machine has no non-loopback IPv4 address' }, async () => {
    const h = tempHome();
    const config = { ...testConfig(h.dir, { gate_check_networks: [`${address}/32`] }), host: '0.0.0.0', port: 0 };
    const server = await startServer(config, { logger: pino({ level: 'silent' }), processExists: () => true });
    try {
      const base = `http://${address}:${server.port}`;
      const token = readFileSync(join(h.dir, 'token'), 'utf8').trim();
      const post = (headers: Record<string, string> = {}) =>
        fetch(`${base}/api/mode`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ mode: 'off' }) });
      const refused = await post();
      assert.equal(refused.status, 401);
      assert.equal(((await refused.json()) as { error: string }).error, 'unauthorized');
      assert.equal((await post({ authorization: 'Bearer not-the-token-not-the-token' })).status, 401);
      const modeNow = async () => ((await (await fetch(`http://127.0.0.1:${server.port}/api/mode`)).json()) as { mode: string }).mode;
      assert.equal(await modeNow(), 'work_silence');
      assert.equal((await post({ authorization: `Bearer ${token}` })).status, 200);
      assert.equal(await modeNow(), 'off');
      const check = await fetch(`${base}/?app=youtube`);
      assert.equal(check.status, 200);
      assert.equal(await check.text(), 'allowed');
      assert.equal((await fetch(`${base}/api/instances`)).status, 401);
      // loopback needs nothing
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/api/instances`)).status, 200);
    } finally {
      await server.close();
      h.cleanup();
    }
  });
});
