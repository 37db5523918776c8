// Machine tokens: `tam_` and 32 random bytes (base64url), shown once by `token-api machines add`;
// the hub keeps only their sha256, which is enough for a random 256-bit secret (slow hashes
// such as scrypt are for passwords people choose).
import { createHash, randomBytes } from 'node:crypto';

export const MACHINE_TOKEN_PREFIX = 'tam_';

export function newMachineToken(): { token: string; sha256: string; prefix: string } {
  const token = MACHINE_TOKEN_PREFIX + randomBytes(32).toString('base64url');
  return { token, sha256: hashToken(token), prefix: token.slice(0, MACHINE_TOKEN_PREFIX.length + 4) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function isMachineToken(token: string | null): token is string {
  return token !== null && token.startsWith(MACHINE_TOKEN_PREFIX) && token.length < 200;
}
