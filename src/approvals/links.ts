// One-time approve/deny links for a phone notification: a token naming the approval, the
// behaviour and an expiry, signed with HMAC-SHA256 under a secret kept in the data directory
// (created once, mode 0600). The approval's state makes a link single use (a second decision
// is a 409, a request that is over a 410); the signature makes it unforgeable.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Behavior } from '../machines/approval-context.js';

export interface LinkClaim {
  approvalId: string;
  behavior: Behavior;
  /** Epoch milliseconds after which the link is refused. */
  expiresAt: number;
}

export type LinkCheck = { ok: true; claim: LinkClaim } | { ok: false; reason: string };

/** Reads the secret, or creates it (32 random bytes, hex, mode 0600). */
export function loadLinkSecret(file: string): Buffer {
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{64}$/.test(text)) return Buffer.from(text, 'hex');
  }
  const secret = randomBytes(32);
  writeFileSync(file, `${secret.toString('hex')}\n`, { mode: 0o600 });
  return secret;
}

export function createLinkSigner(secret: Buffer) {
  const mac = (payload: string) => createHmac('sha256', secret).update(payload).digest();
  return {
    sign(c: LinkClaim): string {
      const payload = Buffer.from(JSON.stringify([c.approvalId, c.behavior, Math.ceil(c.expiresAt / 1000), randomBytes(6).toString('base64url')])).toString('base64url');
      return `${payload}.${mac(payload).toString('base64url')}`;
    },
    verify(token: string, now: number): LinkCheck {
      const [payload, sig, extra] = token.split('.');
      if (!payload || !sig || extra !== undefined) return { ok: false, reason: 'the link is malformed' };
      const want = mac(payload);
      const got = Buffer.from(sig, 'base64url');
      if (got.length !== want.length || !timingSafeEqual(got, want)) return { ok: false, reason: 'the link is not signed by this server' };
      let fields: unknown;
      try {
        fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        return { ok: false, reason: 'the link is malformed' };
      }
      if (!Array.isArray(fields) || typeof fields[0] !== 'string' || (fields[1] !== 'allow' && fields[1] !== 'deny') || typeof fields[2] !== 'number') return { ok: false, reason: 'the link is malformed' };
      const claim: LinkClaim = { approvalId: fields[0], behavior: fields[1], expiresAt: fields[2] * 1000 };
      if (now > claim.expiresAt) return { ok: false, reason: 'the link has expired' };
      return { ok: true, claim };
    },
  };
}

export type LinkSigner = ReturnType<typeof createLinkSigner>;
