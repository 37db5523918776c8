// The page's login beyond loopback: asks the server how this browser is let in, logs in with
// the API token or the one-time code a `token-api web link` URL carries in its fragment
// (#code=…, dropped from the address at once so it is never kept or shared), and logs out.
import { ApiFailure, getJson, postJson } from './api.js';
import type { WebLoginBody } from './shared.js';

export type SessionState = { ok: true; via: string } | { ok: false; offline: boolean };

export async function checkSession(): Promise<SessionState> {
  try {
    const s = await getJson<{ via: string }>('/api/web/session');
    return { ok: true, via: s.via };
  } catch (err) {
    return { ok: false, offline: !(err instanceof ApiFailure) || err.status === 0 };
  }
}

export const login = (body: WebLoginBody) => postJson<{ via: string; expires_at: string }>('/api/web/login', body);
export const logout = () => postJson<null>('/api/web/logout');

/** The one-time code of a login link, taken out of the address bar. */
export function takeLinkCode(): string | null {
  const code = /^#code=([A-Za-z0-9_-]+)$/.exec(location.hash)?.[1] ?? null;
  if (code) history.replaceState(null, '', location.pathname + location.search);
  return code;
}
