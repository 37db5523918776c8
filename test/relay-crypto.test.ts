// The end-to-end construction of the relay (src/relay/e2e.ts): both ends derive the same keys
// from their ephemeral X25519 keys and the pairing key; a relay that swaps in keys of its own
// (without the pairing key) derives others and can open nothing; the clear method and path
// are authenticated (a relay turning a POST into a GET is caught); a counter used again fails.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ephemeral, open, requestAad, responseAad, seal, sessionKeys } from '../src/relay/e2e.js';

describe('relay end-to-end encryption', () => {
  const psk = randomBytes(32);
  const c = ephemeral();
  const s = ephemeral();
  const client = sessionKeys({ psk, room: 'home', mine: c.privateKey, theirs: s.publicKey, clientPub: c.publicKey, serverPub: s.publicKey });
  const server = sessionKeys({ psk, room: 'home', mine: s.privateKey, theirs: c.publicKey, clientPub: c.publicKey, serverPub: s.publicKey });
  const request = { headers: { 'content-type': 'application/json' }, body: { name: 'Zebra-Quartz-4711' } };

  it('both ends derive the same two keys, one per direction', () => {
    assert.deepEqual(client.c2s, server.c2s);
    assert.deepEqual(client.s2c, server.s2c);
    assert.notDeepEqual(client.c2s, client.s2c);
  });

  it('a sealed request opens on the server and its ciphertext holds none of its plaintext', () => {
    const data = seal(client.c2s, 0, requestAad('POST', '/api/devices/register'), request);
    assert.ok(!Buffer.from(data, 'base64url').includes('Zebra'));
    assert.ok(!data.includes('Zebra'));
    assert.deepEqual(open(server.c2s, 0, requestAad('POST', '/api/devices/register'), data), request);
  });

  it('a changed method or path, another counter, or the answer of another request does not open', () => {
    const data = seal(client.c2s, 3, requestAad('POST', '/api/mode'), request);
    assert.throws(() => open(server.c2s, 3, requestAad('GET', '/api/mode'), data));
    assert.throws(() => open(server.c2s, 3, requestAad('POST', '/api/instances'), data));
    assert.throws(() => open(server.c2s, 4, requestAad('POST', '/api/mode'), data));
    const answer = seal(server.s2c, 0, responseAad(3, 200), { body: 'ok' });
    assert.throws(() => open(client.s2c, 0, responseAad(2, 200), answer));
    assert.throws(() => open(client.s2c, 0, responseAad(3, 500), answer));
    assert.deepEqual(open(client.s2c, 0, responseAad(3, 200), answer), { body: 'ok' });
  });

  it('a relay in the middle with keys of its own but without the pairing key opens nothing', () => {
    const m = ephemeral();
    const data = seal(client.c2s, 0, requestAad('GET', '/api/mode'), request);
    for (const guess of [randomBytes(32), Buffer.alloc(32)]) {
      const mitm = sessionKeys({ psk: guess, room: 'home', mine: m.privateKey, theirs: c.publicKey, clientPub: c.publicKey, serverPub: m.publicKey });
      assert.throws(() => open(mitm.c2s, 0, requestAad('GET', '/api/mode'), data));
    }
    // Even the pairing key does not help a relay that swapped keys: the client sealed to the server's key.
    const withPsk = sessionKeys({ psk, room: 'home', mine: m.privateKey, theirs: c.publicKey, clientPub: c.publicKey, serverPub: m.publicKey });
    assert.throws(() => open(withPsk.c2s, 0, requestAad('GET', '/api/mode'), data));
  });
});
