// The relay end to end, every part a real process on loopback with TLS on: `token-api relay
// serve` with a self-signed certificate made here by openssl, `token-api serve` connecting
// to it outbound with its room's server key, and clients (the relay client and the curl-like
// `token-api relay request`). Admin tokens change the server's state, read-only ones only
// read it; a token revoked from the CLI is cut off at once; with a pairing the relay routes
// ciphertext only: neither its database nor its log ever holds the request's body or answer.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectRelayClient, type RelayClient } from '../src/relay/client.js';
import { spawn } from 'node:child_process';
import { CLI, getJson, runCli, startServerProcess, type ServerProcess } from './support/process.js';
import { configureRelay, HAVE_OPENSSL, selfSignedCert, startRelayProcess, type RelayProcess } from './support/relay.js';
import { tempHome } from './support/system.js';

describe('relay end to end (TLS, real processes)', { skip: HAVE_OPENSSL ? false : 'the openssl CLI is missing (.ci/run installs it)' }, () => {
  const dir = tempHome('token-api-relay-e2e-');
  const relayHome = join(dir.dir, 'relay');
  const serverHome = join(dir.dir, 'server');
  let relay: RelayProcess;
  let server: ServerProcess;
  let ca: Buffer;
  let pem: { cert: string; key: string };
  const tokens: Record<'admin' | 'reader', { id: string; token: string }> = { admin: { id: '', token: '' }, reader: { id: '', token: '' } };
  const clients: RelayClient[] = [];

  const cli = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = await runCli(args, env);
    return r;
  };
  const json = async (args: string[]) => {
    const r = await cli([...args, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const client = async (token: string) => {
    const c = await connectRelayClient({ url: relay.url, room: 'home', token, ca });
    clients.push(c);
    return c;
  };

  before(async () => {
    pem = selfSignedCert(dir.dir);
    ca = readFileSync(pem.cert);
    const room = await json(['relay', 'room', 'add', 'home', '--home', relayHome]);
    tokens.admin = await json(['relay', 'token', 'add', '--home', relayHome, '--room', 'home', '--role', 'admin', '--name', 'laptop']);
    tokens.reader = await json(['relay', 'token', 'add', '--home', relayHome, '--room', 'home', '--role', 'read-only', '--name', 'phone', '--expires', '1d']);
    // Trace: the relay logs all it would ever log, and still no plaintext of a sealed request.
    relay = await startRelayProcess(relayHome, ['--tls-cert', pem.cert, '--tls-key', pem.key, '--log-level', 'trace']);
    assert.match(relay.url, /^https:/);
    configureRelay(serverHome, { url: relay.url, room: 'home', serverKey: room.server_key, ca: pem.cert });
    server = await startServerProcess(serverHome);
    // Until the server has connected out, the relay answers 503.
    const c = await client(tokens.reader.token);
    for (;;) {
      const r = await c.request({ method: 'GET', path: '/api/mode' });
      if (r.status !== 503) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  after(async () => {
    for (const c of clients) c.close();
    await server?.kill('SIGTERM');
    await relay?.stop();
    dir.cleanup();
  });

  it('an admin client changes the server\'s state through the relay; the write is audited with its status', async () => {
    const c = await client(tokens.admin.token);
    const r = await c.request({ method: 'POST', path: '/api/mode', headers: { 'content-type': 'application/json' }, body: { mode: 'break', minutes: 5 } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.sealed, false);
    assert.equal(JSON.parse(r.body).mode, 'break');
    assert.equal((await getJson(`${server.url}/api/mode`)).body.mode, 'break');
    const audit = await json(['relay', 'audit', '--home', relayHome, '--room', 'home']);
    assert.ok(audit.some((a: any) => a.what === 'write' && a.method === 'POST' && a.path === '/api/mode' && a.status === 200 && a.client === tokens.admin.id));
    assert.ok(audit.some((a: any) => a.what === 'server_connected'));
    assert.ok(audit.some((a: any) => a.what === 'client_connected' && a.client === tokens.admin.id));
  });

  it('a read-only client reads, and its write is refused before it reaches the server', async () => {
    const c = await client(tokens.reader.token);
    const read = await c.request({ method: 'GET', path: '/api/instances' });
    assert.equal(read.status, 200);
    assert.ok(Array.isArray(JSON.parse(read.body).instances));
    const write = await c.request({ method: 'POST', path: '/api/mode', body: { mode: 'off' } });
    assert.equal(write.status, 403);
    assert.notEqual((await getJson(`${server.url}/api/mode`)).body.mode, 'off');
  });

  it('token-api relay request is curl through the relay: the token from the environment, exit 1 on a refusal', async () => {
    const env = { TOKEN_API_RELAY_TOKEN: tokens.reader.token };
    const caFile = join(dir.dir, 'cert.pem');
    const get = await cli(['relay', 'request', '--url', relay.url, '--room', 'home', '--ca', caFile, '-i', '/api/mode'], env);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /^200\ncontent-type: application\/json/);
    const post = await cli(['relay', 'request', '--url', relay.url, '--room', 'home', '--ca', caFile, '-d', '{"mode":"off"}', '/api/mode'], env);
    assert.equal(post.code, 1);
    assert.match(post.stderr, /answered 403/);
    const untrusted = await cli(['relay', 'request', '--url', relay.url, '--room', 'home', '/api/mode'], env);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /self-signed certificate/);
  });

  it('a token revoked from the CLI is cut off: its live socket closes with 4401 and it cannot connect again', async () => {
    const victim = await json(['relay', 'token', 'add', '--home', relayHome, '--room', 'home', '--role', 'admin', '--name', 'lost-phone']);
    const c = await client(victim.token);
    assert.equal((await c.request({ method: 'GET', path: '/api/mode' })).status, 200);
    const revoked = await cli(['relay', 'token', 'revoke', victim.id, '--home', relayHome]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.deepEqual(await c.closed, { code: 4401, reason: 'token revoked' });
    await assert.rejects(connectRelayClient({ url: relay.url, room: 'home', token: victim.token, ca }), /refused the connection \(401\): revoked client token/);
    const other = await client(tokens.admin.token);
    assert.equal((await other.request({ method: 'GET', path: '/api/mode' })).status, 200, 'other tokens are untouched');
  });

  it('paired end to end: the request and answer are sealed, and the relay\'s database and log never hold their plaintext', async () => {
    const paired = await json(['relay', 'pair', '--home', serverHome, '--role', 'admin', '--name', 'tablet']);
    assert.match(paired.code, /^tapi1:/);
    const codeFile = join(dir.dir, 'pairing');
    writeFileSync(codeFile, `${paired.code}\n`, { mode: 0o600 });
    const secret = 'Zebra-Quartz-4711';
    // The code pins the relay's self-signed certificate: no --ca needed.
    const r = await cli(['relay', 'request', '--pairing-file', codeFile, '-i', '-d', JSON.stringify({ id: 'tablet-e2e', name: secret, type: 'mobile' }), '/api/devices/register']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^20[01] \(end-to-end encrypted\)/);
    assert.ok(r.stdout.includes(secret), 'the answer came back whole');
    const devices = (await getJson(`${server.url}/api/devices`)).body.devices;
    assert.ok(devices.some((d: any) => d.id === 'tablet-e2e' && d.name === secret));
    // What the relay keeps: the route, never the content.
    const audit = await json(['relay', 'audit', '--home', relayHome]);
    assert.ok(audit.some((a: any) => a.what === 'write' && a.path === '/api/devices/register' && a.client === paired.token_id));
    const files = readdirSync(relayHome, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    assert.ok(files.some((f) => f.name === 'relay.db') && files.some((f) => f.name === 'relay.log'));
    for (const f of files) assert.ok(!readFileSync(join(f.parentPath, f.name)).includes(secret), `${f.name} holds no plaintext`);
    assert.ok(!relay.output().includes(secret));
  });

  it('the live feed is forwarded: a snapshot first, then each change as it is committed; a read-only token may follow it', async () => {
    const reader = await client(tokens.reader.token);
    const messages: any[] = [];
    let arrived: () => void = () => undefined;
    const feed = reader.openFeed('types=mode', (text) => {
      messages.push(JSON.parse(text));
      arrived();
    });
    const until = async (pred: () => boolean) => {
      while (!pred()) await new Promise<void>((resolve) => (arrived = resolve));
    };
    await until(() => messages.length > 0);
    assert.equal(messages[0].type, 'snapshot');
    const admin = await client(tokens.admin.token);
    assert.equal((await admin.request({ method: 'POST', path: '/api/mode', body: { mode: 'work_music' } })).status, 200);
    await until(() => messages.some((m) => m.type === 'mode' && m.mode.mode === 'work_music'));
    // The feed's own requests travel on the stream too.
    feed.send(JSON.stringify({ type: 'ping' }));
    await until(() => messages.some((m) => m.type === 'pong'));
    feed.end();
    assert.equal((await feed.ended).code, 1000);
    const bad = reader.openFeed('since=yesterday', () => undefined);
    const ended = await bad.ended;
    assert.equal(ended.code, 4400);
    assert.match(ended.reason, /since/);
  });

  it('a paired client\'s feed stream is sealed too', async () => {
    const paired = await json(['relay', 'pair', '--home', serverHome, '--role', 'read-only', '--name', 'watch']);
    const code = JSON.parse(Buffer.from(paired.code.slice('tapi1:'.length), 'base64url').toString());
    const c = await connectRelayClient({ url: relay.url, room: 'home', token: code.t, ca, pairing: { id: code.p, psk: code.k } });
    clients.push(c);
    const first = await new Promise<any>((resolve) => c.openFeed('', (text) => resolve(JSON.parse(text))));
    assert.equal(first.type, 'snapshot');
    assert.ok(Array.isArray(first.instances));
  });

  it('a pairing code pins the relay\'s self-signed certificate: a code naming another certificate is refused', async () => {
    const paired = await json(['relay', 'pair', '--home', serverHome, '--role', 'read-only']);
    const code = JSON.parse(Buffer.from(paired.code.slice('tapi1:'.length), 'base64url').toString());
    assert.match(code.f, /^[0-9a-f]{64}$/);
    const forged = Buffer.from(JSON.stringify({ ...code, f: 'ab'.repeat(32) })).toString('base64url');
    const codeFile = join(dir.dir, 'forged');
    writeFileSync(codeFile, `tapi1:${forged}\n`);
    const r = await cli(['relay', 'request', '--pairing-file', codeFile, '/api/mode']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not the one in the pairing code/);
  });

  it('token-api relay feed prints the live feed one JSON message a line, and stops cleanly on SIGINT', async () => {
    const paired = await json(['relay', 'pair', '--home', serverHome, '--role', 'read-only', '--name', 'terminal']);
    const codeFile = join(dir.dir, 'feed-pairing');
    writeFileSync(codeFile, `${paired.code}\n`, { mode: 0o600 });
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'relay', 'feed', '--pairing-file', codeFile, '--types', 'mode'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const first = await new Promise<any>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))));
      });
      child.once('exit', (code) => reject(new Error(`relay feed exited with ${code}`)));
    });
    assert.equal(first.type, 'snapshot');
    const code = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    assert.equal(await code, 0);
  });

  it('a pairing key the server does not know gets no session', async () => {
    const paired = await json(['relay', 'pair', '--home', serverHome, '--role', 'read-only']);
    const code = JSON.parse(Buffer.from(paired.code.slice('tapi1:'.length), 'base64url').toString());
    await assert.rejects(
      connectRelayClient({ url: relay.url, room: 'home', token: code.t, ca, pairing: { id: 'ffffffffffffffff', psk: code.k } }),
      /refused the encrypted session: unknown pairing/,
    );
    // The right pairing id with the wrong key: the session opens, but nothing sealed with it is accepted.
    const wrong = await connectRelayClient({ url: relay.url, room: 'home', token: code.t, ca, pairing: { id: code.p, psk: Buffer.alloc(32, 7).toString('base64url') } });
    clients.push(wrong);
    const r = await wrong.request({ method: 'GET', path: '/api/mode' });
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).error, 'e2e_failed');
  });

  it('a relay killed with SIGKILL and started again keeps its rooms and tokens, and the server connects again by itself', async () => {
    const port = new URL(relay.url).port;
    await relay.stop('SIGKILL');
    relay = await startRelayProcess(relayHome, ['--tls-cert', pem.cert, '--tls-key', pem.key, '--port', port]);
    assert.equal(new URL(relay.url).port, port);
    const c = await client(tokens.admin.token);
    // Until the server's backoff brings it back (at most 10 s), the room answers 503.
    let status = 503;
    while (status === 503) {
      status = (await c.request({ method: 'GET', path: '/api/mode' })).status;
      if (status === 503) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(status, 200);
    assert.equal((await c.request({ method: 'POST', path: '/api/mode', body: { mode: 'work_silence' } })).status, 200);
  });
});
