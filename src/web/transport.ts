// How the page reaches token-api: directly (fetch and WebSocket to the server that served it,
// with its session cookie and X-CSRF-Token), or through a relay (src/web/relay/, loaded only
// there). The data layer (api.ts, feed.ts) asks the transport in use; the views never know.

/** The readable ta_csrf cookie's value, which a cookie session's writes must carry. */
function csrfToken(): string {
  return /(?:^|;\s*)ta_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '';
}
/** A relay or server answer: its status and its body as text. */
export interface Answer {
  status: number;
  text: string;
}

/** The part of a WebSocket the feed uses (a relayed feed stream speaks it too). */
export type FeedSocket = Pick<WebSocket, 'readyState' | 'onopen' | 'onmessage' | 'onclose' | 'send' | 'close'>;

export interface Transport {
  kind: 'direct' | 'relay';
  /** Rejects (a TypeError or an Error) when the server or the relay cannot be reached. */
  request(method: string, path: string, body?: unknown): Promise<Answer>;
  /** The live feed; `query` as /ws takes it (since=…). A managed session's output comes on it too (session-follow.ts). */
  openFeed(query: string): FeedSocket;
}

const wsBase = () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;

export const direct: Transport = {
  kind: 'direct',
  async request(method, path, body) {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (method !== 'GET') {
      headers['X-CSRF-Token'] = csrfToken();
      if (body !== undefined) headers['Content-Type'] = 'application/json';
    }
    const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, text: await res.text() };
  },
  openFeed: (query) => new WebSocket(`${wsBase()}/ws${query ? `?${query}` : ''}`),
};

let current: Transport = direct;
export const transport = (): Transport => current;
export function useTransport(t: Transport): void {
  current = t;
}
