// The page when a relay served it (index.html carries <meta name="token-api-relay">; main.tsx
// loads this chunk only then): it asks once for a pairing code (tapi1:…, from `token-api relay
// pair`, or the #pair= fragment its QR code opens, taken out of the address at once) or a client
// token, learns the token's room and role from the relay (GET /v1/relay/whoami), keeps them in
// this browser's localStorage until "Log out" forgets them (docs/web.md says why), and runs the
// app over the relay transport. A read-only token disables every write control, saying why.
import { render } from 'preact';
import { ApiFailure, failureText, readOnly } from '../api.js';
import { useTransport } from '../transport.js';
import { RelayLogin } from './login.js';
import { relayTransport, type RelayCredentials } from './transport.js';

const KEY = 'token-api:relay';

export interface RelayModeDeps {
  root: HTMLElement;
  /** Shows the app and starts the feed over the transport in use. */
  showApp(onLogout: () => void, onRefused: () => void): void;
  stopFeed(): void;
  forgetLastState(): void;
}

interface Whoami {
  room: string;
  name: string;
  role: 'read-only' | 'admin';
  expires_at: string | null;
}

function kept(): RelayCredentials | null {
  try {
    const c = JSON.parse(localStorage.getItem(KEY) ?? 'null') as RelayCredentials | null;
    return c && typeof c.token === 'string' && typeof c.room === 'string' ? c : null;
  } catch {
    return null;
  }
}

function keep(c: RelayCredentials | null): void {
  try {
    if (c) localStorage.setItem(KEY, JSON.stringify(c));
    else localStorage.removeItem(KEY);
  } catch {
    // A private window may refuse: the page then asks again next time.
  }
}

/** A pairing code (`tapi1:` + base64url JSON, as src/relay/pairings.ts writes it), or null. */
export function decodePairingCode(text: string): RelayCredentials | null {
  const t = text.trim();
  if (!t.startsWith('tapi1:')) return null;
  try {
    const d = JSON.parse(atob(t.slice(6).replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
    const ok = typeof d.r === 'string' && typeof d.t === 'string' && typeof d.p === 'string' && typeof d.k === 'string' && /^[A-Za-z0-9_-]{43}$/.test(d.k);
    return ok ? { room: d.r as string, token: d.t as string, pairing: { id: d.p as string, psk: d.k as string } } : null;
  } catch {
    return null;
  }
}

/** The pairing code a `relay pair` QR code opens the page with (#pair=…), out of the address bar. */
function takePairFragment(): string | null {
  const m = /^#pair=(tapi1:[A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!m) return null;
  history.replaceState(null, '', location.pathname + location.search);
  return m[1]!;
}

/** What the relay says of a client token; an ApiFailure (401) when it is unknown, expired or revoked. */
async function whoami(token: string): Promise<Whoami> {
  const res = await fetch('/v1/relay/whoami', { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
  const body = (await res.json().catch(() => ({}))) as Partial<Whoami> & { error?: string; message?: string };
  if (!res.ok) throw new ApiFailure(res.status, body.error ?? 'http_error', `the relay refused this token: ${body.message ?? res.status}`);
  return body as Whoami;
}

/** Credentials from what the person pasted: a pairing code, or a client token (its room asked of the relay). */
export async function credentialsFrom(text: string): Promise<RelayCredentials> {
  const t = text.trim();
  if (t.startsWith('tapi1:')) {
    const c = decodePairingCode(t);
    if (!c) throw new Error('that pairing code is damaged: copy the whole tapi1: line that token-api relay pair printed');
    return c;
  }
  if (!/^[A-Za-z0-9_.-]{10,200}$/.test(t)) throw new Error('paste a pairing code (tapi1:…) or a client token (tar_…)');
  return { room: (await whoami(t)).room, token: t };
}

export async function bootRelay(d: RelayModeDeps): Promise<void> {
  const showLogin = (problem: string | null) => {
    d.stopFeed();
    readOnly.value = null;
    render(<RelayLogin problem={problem} done={(c) => void start(c)} parse={credentialsFrom} />, d.root);
  };
  const forget = () => {
    keep(null);
    d.forgetLastState();
    showLogin(null);
  };
  async function start(c: RelayCredentials): Promise<void> {
    let who: Whoami | null = null;
    try {
      who = await whoami(c.token);
    } catch (err) {
      // Refused: ask again. Unreachable: show what was known and keep trying.
      if (err instanceof ApiFailure) {
        keep(null);
        return showLogin(failureText(err));
      }
    }
    if (who && who.room !== c.room) return showLogin(`this client token belongs to room ${who.room}, not ${c.room}`);
    keep(c);
    readOnly.value = who?.role === 'read-only' ? `read-only: the relay token ${who.name} may look, not change anything (an admin token may)` : null;
    useTransport(relayTransport(c, { onUnauthorized: () => showLogin('The relay ended this token (revoked or expired); paste another.') }));
    d.showApp(forget, () =>
      void whoami(c.token).catch((err: unknown) => {
        if (err instanceof ApiFailure) showLogin(failureText(err));
      }),
    );
  }
  const fragment = takePairFragment();
  const fromFragment = fragment ? decodePairingCode(fragment) : null;
  if (fragment && !fromFragment) return showLogin('the pairing code in the link is damaged; scan it again or paste the tapi1: line');
  const c = fromFragment ?? kept();
  if (!c) return showLogin(null);
  await start(c);
}
