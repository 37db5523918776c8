// The page's calls to the HTTP API: JSON in and out, through the transport in use (direct,
// with the session cookie and X-CSRF-Token; or a relay). A refusal becomes an ApiFailure
// carrying the API's { error, message, fields }.
import { signal } from '@preact/signals';
import type { ApiError } from './shared.js';
import { transport } from './transport.js';

/** Set when the server says the session is gone (401): the page shows the login form. */
export const needsLogin = signal(false);

/** Why this page may not change anything (a read-only relay token), or null: write controls are disabled with it. */
export const readOnly = signal<string | null>(null);

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
  }
}

type Query = Record<string, string | number | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: { status: number; text: string };
  try {
    res = await transport().request(method, path, body);
  } catch (err) {
    if (err instanceof ApiFailure) throw err;
    throw new ApiFailure(0, 'offline', transport().kind === 'relay' ? 'the relay or token-api cannot be reached; try again when it is back' : 'token-api cannot be reached; try again when it is back');
  }
  const { text } = res;
  const ok = res.status >= 200 && res.status < 300;
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!ok) {
    const e = (json ?? {}) as Partial<ApiError>;
    if (res.status === 401) needsLogin.value = true;
    throw new ApiFailure(res.status, e.error ?? 'http_error', e.message ?? `token-api answered ${res.status}`, e.fields ?? {});
  }
  return json as T;
}

export const getJson = <T>(path: string, query?: Query) => call<T>('GET', withQuery(path, query));
export const postJson = <T>(path: string, body?: unknown) => call<T>('POST', path, body);
export const deleteJson = <T>(path: string) => call<T>('DELETE', path);

/** A failure in words for the page: the API's message, with the fields it names. */
export function failureText(err: unknown): string {
  if (err instanceof ApiFailure) {
    const fields = Object.entries(err.fields).map(([k, v]) => `${k} ${v}`);
    return fields.length > 0 ? `${err.message} (${fields.join('; ')})` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}
