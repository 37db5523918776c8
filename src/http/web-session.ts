// Browser sessions beyond loopback: the API token (or a one-time code from `token-api web link`)
// buys a session cookie, `ta_session`, HttpOnly and SameSite=Strict (Secure when the page is
// served over TLS), signed with a key derived from the token: sessions survive restarts, need
// no table, and all end when the token changes. Writes authenticated by the cookie must carry
// X-CSRF-Token, equal to the readable `ta_csrf` cookie (derived from the session). Codes are
// single use, kept in memory, and expire after web.link_minutes.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'ta_session';
export const CSRF_COOKIE = 'ta_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export interface WebSession {
  csrf: string;
  expiresAt: number;
}

export interface WebSessions {
  /** A new session: the cookie values and how long they last. */
  issue(): { session: string; csrf: string; expiresAt: number; maxAgeS: number };
  /** The session a Cookie header carries, when it is valid and not expired. */
  fromCookie(cookieHeader: string | undefined): WebSession | null;
  /** Whether a header value is the session's CSRF token (constant time). */
  csrfMatches(session: WebSession, header: string | undefined): boolean;
  /** A one-time login code. */
  mintCode(): { code: string; expiresAt: number };
  /** True once for a code that was minted and has not expired; false ever after. */
  consumeCode(code: string): boolean;
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function createWebSessions(o: { token: string; now: () => number; sessionMs: number; linkMs: number }): WebSessions {
  const key = createHmac('sha256', o.token).update('token-api web session v1').digest();
  const mac = (s: string) => createHmac('sha256', key).update(s).digest('base64url');
  const codes = new Map<string, number>();
  const prune = () => {
    const t = o.now();
    for (const [c, exp] of codes) if (exp <= t) codes.delete(c);
  };
  return {
    issue() {
      const expiresAt = o.now() + o.sessionMs;
      const body = `v1.${expiresAt}.${randomBytes(16).toString('base64url')}`;
      const session = `${body}.${mac(body)}`;
      return { session, csrf: mac(`csrf:${session}`), expiresAt, maxAgeS: Math.floor(o.sessionMs / 1000) };
    },
    fromCookie(header) {
      const session = cookieValue(header, SESSION_COOKIE);
      if (!session || session.length > 200) return null;
      const parts = session.split('.');
      if (parts.length !== 4 || parts[0] !== 'v1') return null;
      const body = parts.slice(0, 3).join('.');
      if (!same(parts[3]!, mac(body))) return null;
      const expiresAt = Number(parts[1]);
      if (!Number.isSafeInteger(expiresAt) || expiresAt <= o.now()) return null;
      return { csrf: mac(`csrf:${session}`), expiresAt };
    },
    csrfMatches: (s, header) => typeof header === 'string' && header.length > 0 && same(header, s.csrf),
    mintCode() {
      prune();
      const code = randomBytes(24).toString('base64url');
      const expiresAt = o.now() + o.linkMs;
      codes.set(code, expiresAt);
      return { code, expiresAt };
    },
    consumeCode(code) {
      const exp = codes.get(code);
      codes.delete(code);
      return exp !== undefined && exp > o.now();
    },
  };
}

/** A Set-Cookie value: Path=/, SameSite=Strict, HttpOnly unless the page must read it. */
export function setCookie(name: string, value: string, o: { maxAgeS: number; httpOnly: boolean; secure: boolean }): string {
  return `${name}=${value}; Path=/; Max-Age=${o.maxAgeS}; SameSite=Strict${o.httpOnly ? '; HttpOnly' : ''}${o.secure ? '; Secure' : ''}`;
}
