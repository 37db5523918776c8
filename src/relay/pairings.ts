// Pairings of this server with relay clients (`token-api relay pair`): a pairing id, the
// 32-byte pairing key the client got in the QR code, the role it was paired with and the
// client token minted for it. Kept in `$TOKEN_API_HOME/relay-pairings.json` (mode 0600),
// written whole through a temporary file; the connector reads it when a client opens a session.
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { relayRoleSchema, type RelayRole } from '../protocol/relay.js';

const pairingSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9]{8,32}$/),
  name: z.string().max(64),
  role: relayRoleSchema,
  psk: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  token_id: z.string().max(64),
  created_at: z.string(),
});
const fileSchema = z.strictObject({ pairings: z.array(pairingSchema) });

export type Pairing = z.infer<typeof pairingSchema>;

export function readPairings(file: string): Pairing[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const parsed = fileSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${file} is not a pairings file of this token-api; move it away and pair again`);
  return parsed.data.pairings;
}

function writePairings(file: string, pairings: Pairing[]): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ pairings }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export function newPairing(o: { name: string; role: RelayRole; tokenId: string; now: string }): Pairing {
  return { id: randomBytes(8).toString('hex'), name: o.name, role: o.role, psk: randomBytes(32).toString('base64url'), token_id: o.tokenId, created_at: o.now };
}

export function addPairing(file: string, p: Pairing): void {
  writePairings(file, [...readPairings(file), p]);
}

/** Removes a pairing by id; the removed one, or null. */
export function removePairing(file: string, id: string): Pairing | null {
  const all = readPairings(file);
  const gone = all.find((p) => p.id === id) ?? null;
  if (gone) writePairings(file, all.filter((p) => p !== gone));
  return gone;
}

/** What the QR code carries: where the relay is, the room, the client token and the pairing key. */
export interface PairingCode {
  url: string;
  room: string;
  token: string;
  pairing: string;
  psk: string;
  /** sha256 of the relay's certificate when it is self-signed (hex), so the client can pin it. */
  fingerprint?: string;
}

const PREFIX = 'tapi1:';
const codeSchema = z.strictObject({ u: z.string().max(2048), r: z.string().max(64), t: z.string().max(200), p: z.string().max(32), k: z.string().length(43), f: z.string().regex(/^[0-9a-f]{64}$/).optional() });

export function encodePairingCode(c: PairingCode): string {
  return PREFIX + Buffer.from(JSON.stringify({ u: c.url, r: c.room, t: c.token, p: c.pairing, k: c.psk, ...(c.fingerprint ? { f: c.fingerprint } : {}) })).toString('base64url');
}

export function decodePairingCode(text: string): PairingCode | null {
  const t = text.trim();
  if (!t.startsWith(PREFIX)) return null;
  try {
    const parsed = codeSchema.safeParse(JSON.parse(Buffer.from(t.slice(PREFIX.length), 'base64url').toString('utf8')));
    if (!parsed.success) return null;
    const d = parsed.data;
    return { url: d.u, room: d.r, token: d.t, pairing: d.p, psk: d.k, ...(d.f ? { fingerprint: d.f } : {}) };
  } catch {
    return null;
  }
}
