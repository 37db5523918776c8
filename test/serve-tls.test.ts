// `token-api serve --tls-cert --tls-key`: the API and the live feed over https and wss with a
// self-signed certificate made here by openssl; a client that does not trust it is refused,
// plain http on that port gets no answer, and a certificate with the wrong key stops start-up
// with a clear message.
import assert from 'node:assert/strict';
import { get } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { runCli, startServerProcess, type ServerProcess } from './support/process.js';
import { HAVE_OPENSSL, selfSignedCert } from './support/relay.js';
import { tempHome } from './support/system.js';

function httpsJson(url: string, ca?: Buffer): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    get(url, ca ? { ca } : {}, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    }).on('error', reject);
  });
}

describe('serve over TLS', { skip: HAVE_OPENSSL ? false : 'the openssl CLI is missing (.ci/run installs it)' }, () => {
  const dir = tempHome('token-api-serve-tls-');
  let server: ServerProcess;
  let ca: Buffer;
  let pem: { cert: string; key: string };

  before(async () => {
    pem = selfSignedCert(dir.dir);
    ca = readFileSync(pem.cert);
    server = await startServerProcess(join(dir.dir, 'home'), ['--tls-cert', pem.cert, '--tls-key', pem.key]);
  });

  after(async () => {
    await server?.kill('SIGTERM');
    dir.cleanup();
  });

  it('says it listens on https and answers the API to a client that trusts the certificate', async () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await httpsJson(`${server.url}/api/mode`, ca);
    assert.equal(r.status, 200);
    assert.ok(r.body.modes.includes('break'));
    await assert.rejects(httpsJson(`${server.url}/api/mode`), /self-signed certificate/);
    const plain = await fetch(server.url.replace('https:', 'http:') + '/api/mode').then(
      (res) => res.status,
      (err: Error) => err.message,
    );
    assert.notEqual(plain, 200, 'plain http on the TLS port is not served');
  });

  it('serves the live feed over wss', async () => {
    const ws = new WebSocket(`${server.url.replace('https:', 'wss:')}/ws`, { ca });
    const first = await new Promise<any>((resolve, reject) => {
      ws.once('message', (d) => resolve(JSON.parse(d.toString())));
      ws.once('error', reject);
    });
    ws.close();
    assert.equal(first.type, 'snapshot');
  });

  it('refuses to start with a certificate and a key that do not belong together', async () => {
    const other = selfSignedCert(join(dir.dir, 'home'));
    const r = await runCli(['serve', '--home', join(dir.dir, 'other'), '--port', '0', '--tls-cert', pem.cert, '--tls-key', other.key]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot be used together/);
    const half = await runCli(['serve', '--home', join(dir.dir, 'other'), '--port', '0', '--tls-cert', pem.cert]);
    assert.equal(half.code, 2);
    assert.match(half.stderr, /--tls-cert and --tls-key go together/);
  });
});
