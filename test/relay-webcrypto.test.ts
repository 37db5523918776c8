// The page's WebCrypto side of the relay's end-to-end encryption (src/web/relay/e2e.ts) against
// the server's node:crypto side (src/relay/e2e.ts): one key pair on each side agrees on both
// directions' keys, what one seals the other opens, in both directions, and a wrong pairing
// key, counter or clear text opens nothing. WebCrypto here is Node's (the same API a browser
// has); test/web-relay.test.ts runs the page's side in Chromium against a real server.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import * as node from '../src/relay/e2e.js';
import * as web from '../src/web/relay/e2e.js';

describe('relay encryption: WebCrypto (the page) and node:crypto (the server) interoperate', () => {
  const psk = randomBytes(32);
  const request = { headers: { 'content-type': 'application/json' }, body: { mode: 'break', minutes: 5, note: 'Zebra-Quartz ✓' } };

  async function pair(serverPsk: Buffer = psk) {
    const c = await web.ephemeral();
    const s = node.ephemeral();
    const client = await web.sessionKeys({ psk: new Uint8Array(psk), room: 'home', mine: c.privateKey, theirs: s.publicKey, clientPub: c.publicKey, serverPub: s.publicKey });
    const server = node.sessionKeys({ psk: serverPsk, room: 'home', mine: s.privateKey, theirs: c.publicKey, clientPub: c.publicKey, serverPub: s.publicKey });
    return { client, server };
  }

  it('a request sealed by the page opens on the server, and the answer sealed by the server opens in the page', async () => {
    const { client, server } = await pair();
    const sealed = await web.seal(client.c2s, 7, web.requestAad('POST', '/api/mode'), request);
    assert.ok(!sealed.includes('Zebra'));
    assert.deepEqual(node.open(server.c2s, 7, node.requestAad('POST', '/api/mode'), sealed), request);
    const answer = node.seal(server.s2c, 3, node.responseAad(7, 200), { headers: {}, body: '{"mode":"break"}' });
    assert.deepEqual(await web.open(client.s2c, 3, web.responseAad(7, 200), answer), { headers: {}, body: '{"mode":"break"}' });
    // A feed message, and what the page sends on a stream.
    const data = node.seal(server.s2c, 4, node.streamAad('data', 's1'), '{"type":"snapshot"}');
    assert.equal(await web.open(client.s2c, 4, web.streamAad('data', 's1'), data), '{"type":"snapshot"}');
    const sent = await web.seal(client.c2s, 8, web.streamAad('send', 's1'), '{"type":"ping"}');
    assert.equal(node.open(server.c2s, 8, node.streamAad('send', 's1'), sent), '{"type":"ping"}');
  });

  it('the same value, key and counter give the same bytes on both sides', async () => {
    const { client, server } = await pair();
    const fromPage = await web.seal(client.c2s, 1, web.requestAad('GET', '/api/mode'), request);
    assert.equal(node.seal(server.c2s, 1, node.requestAad('GET', '/api/mode'), request), fromPage);
  });

  it('another pairing key, counter, method or status opens nothing', async () => {
    const wrong = await pair(randomBytes(32));
    const sealed = await web.seal(wrong.client.c2s, 0, web.requestAad('POST', '/api/mode'), request);
    assert.throws(() => node.open(wrong.server.c2s, 0, node.requestAad('POST', '/api/mode'), sealed));
    const { client, server } = await pair();
    const ok = await web.seal(client.c2s, 0, web.requestAad('POST', '/api/mode'), request);
    assert.throws(() => node.open(server.c2s, 1, node.requestAad('POST', '/api/mode'), ok));
    assert.throws(() => node.open(server.c2s, 0, node.requestAad('GET', '/api/mode'), ok));
    const answer = node.seal(server.s2c, 0, node.responseAad(0, 200), { body: 'ok' });
    await assert.rejects(web.open(client.s2c, 0, web.responseAad(0, 500), answer));
    await assert.rejects(web.open(client.c2s, 0, web.responseAad(0, 200), answer));
  });
});
