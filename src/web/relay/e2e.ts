// The relay's end-to-end construction (src/relay/e2e.ts) in WebCrypto, for the page: an
// ephemeral X25519 key per connection, both directions' AES-256-GCM keys from HKDF-SHA256 over
// the shared secret salted with the pairing key, counter nonces, the clear method, path and
// status as authenticated data. The same bytes as node:crypto's side (test/relay-webcrypto.test.ts
// checks one against the other). WebCrypto exists only on https and localhost pages.
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

export function toB64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromB64url(text: string): Uint8Array<ArrayBuffer> {
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export interface WebEphemeral {
  privateKey: CryptoKey;
  /** The raw 32-byte public key, base64url. */
  publicKey: string;
}

export interface WebSessionKeys {
  c2s: CryptoKey;
  s2c: CryptoKey;
}

export async function ephemeral(): Promise<WebEphemeral> {
  const pair = (await crypto.subtle.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as CryptoKeyPair;
  return { privateKey: pair.privateKey, publicKey: toB64url(new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey))) };
}

/** Both directions' keys, as src/relay/e2e.ts derives them. */
export async function sessionKeys(o: { psk: Uint8Array<ArrayBuffer>; room: string; mine: CryptoKey; theirs: string; clientPub: string; serverPub: string }): Promise<WebSessionKeys> {
  const theirs = await crypto.subtle.importKey('raw', fromB64url(o.theirs), { name: 'X25519' }, false, []);
  const shared = await crypto.subtle.deriveBits({ name: 'X25519', public: theirs }, o.mine, 256);
  const ikm = await crypto.subtle.importKey('raw', shared, 'HKDF', false, ['deriveBits']);
  const head = utf8.encode(`token-api relay e2e v1|${o.room}|`);
  const info = new Uint8Array([...head, ...fromB64url(o.clientPub), ...fromB64url(o.serverPub)]);
  const okm = new Uint8Array(await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: o.psk, info }, ikm, 512));
  const aes = (raw: Uint8Array<ArrayBuffer>) => crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
  return { c2s: await aes(okm.slice(0, 32)), s2c: await aes(okm.slice(32)) };
}

function nonce(n: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(12);
  new DataView(b.buffer).setBigUint64(4, BigInt(n));
  return b;
}

export const requestAad = (method: string, path: string) => `req|${method}|${path}`;
export const responseAad = (requestN: number, status: number) => `res|${requestN}|${status}`;
export const streamAad = (way: 'data' | 'send', sid: string) => `${way}|${sid}`;

export async function seal(key: CryptoKey, n: number, aad: string, value: unknown): Promise<string> {
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce(n), additionalData: utf8.encode(aad), tagLength: 128 }, key, utf8.encode(JSON.stringify(value)));
  return toB64url(new Uint8Array(sealed));
}

/** The sealed value; rejects when the key, counter or clear text does not match. */
export async function open(key: CryptoKey, n: number, aad: string, data: string): Promise<unknown> {
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce(n), additionalData: utf8.encode(aad), tagLength: 128 }, key, fromB64url(data));
  return JSON.parse(fromUtf8.decode(plain)) as unknown;
}
