// End-to-end encryption between a relay client and the room's server, so the relay routes
// ciphertext it cannot read. Per connection: both sides send an ephemeral X25519 key; the keys
// come from HKDF-SHA256 over their shared secret, salted with the pairing key both were given
// when paired (so a relay that swaps in its own keys derives nothing useful), one AES-256-GCM
// key per direction with a counter nonce (a replayed or reordered message fails). Method, path
// and status travel in the clear as authenticated data: the relay can audit and refuse writes
// but not change them. node:crypto only; the same construction runs in WebCrypto.
import { createCipheriv, createDecipheriv, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject } from 'node:crypto';

export interface Ephemeral {
  privateKey: KeyObject;
  /** The raw 32-byte public key, base64url. */
  publicKey: string;
}

export interface SessionKeys {
  c2s: Buffer;
  s2c: Buffer;
}

export function ephemeral(): Ephemeral {
  const pair = generateKeyPairSync('x25519');
  return { privateKey: pair.privateKey, publicKey: pair.publicKey.export({ format: 'jwk' }).x! };
}

/** Both directions' keys; the same on each side given its own private key and the other's public one. */
export function sessionKeys(o: { psk: Buffer; room: string; mine: KeyObject; theirs: string; clientPub: string; serverPub: string }): SessionKeys {
  const shared = diffieHellman({ privateKey: o.mine, publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: o.theirs }, format: 'jwk' }) });
  const info = Buffer.concat([Buffer.from(`token-api relay e2e v1|${o.room}|`), Buffer.from(o.clientPub, 'base64url'), Buffer.from(o.serverPub, 'base64url')]);
  const okm = Buffer.from(hkdfSync('sha256', shared, o.psk, info, 64));
  return { c2s: okm.subarray(0, 32), s2c: okm.subarray(32) };
}

function nonce(n: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeBigUInt64BE(BigInt(n), 4);
  return b;
}

/**
 * The authenticated clear text of a request and of its answer. The relay renumbers request
 * ids, so an answer is bound to its request by the request's counter instead.
 */
export const requestAad = (method: string, path: string) => `req|${method}|${path}`;
export const responseAad = (requestN: number, status: number) => `res|${requestN}|${status}`;
/** A feed stream's messages: `data` from the server, `send` from the client. */
export const streamAad = (way: 'data' | 'send', sid: string) => `${way}|${sid}`;

export function seal(key: Buffer, n: number, aad: string, value: unknown): string {
  const c = createCipheriv('aes-256-gcm', key, nonce(n));
  c.setAAD(Buffer.from(aad));
  return Buffer.concat([c.update(JSON.stringify(value)), c.final(), c.getAuthTag()]).toString('base64url');
}

/** The sealed value, or throws when the key, counter or clear text does not match. */
export function open(key: Buffer, n: number, aad: string, data: string): unknown {
  const b = Buffer.from(data, 'base64url');
  if (b.length < 16) throw new Error('sealed message too short');
  const d = createDecipheriv('aes-256-gcm', key, nonce(n));
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(b.subarray(b.length - 16));
  return JSON.parse(Buffer.concat([d.update(b.subarray(0, b.length - 16)), d.final()]).toString('utf8'));
}
