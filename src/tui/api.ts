// The dashboard's actions over the HTTP API: set the mode, turn focus on or off, mark an
// instance stopped, read an instance's recent events. Each answers a typed result with the
// server's own message on failure, so the dashboard can say what went wrong in a line.
import { z } from 'zod';
import { eventItemSchema, type FeedEvent } from '../http/feed-messages.js';

export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: string };

const eventsAnswer = z.looseObject({ events: z.array(eventItemSchema) });

export function createApiClient(o: { baseUrl: string; token?: string; timeoutMs?: number }) {
  const base = o.baseUrl.replace(/\/+$/, '');

  async function call(method: string, path: string, body?: unknown): Promise<ApiResult<unknown>> {
    const headers: Record<string, string> = {};
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      const res = await fetch(base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
      });
      const text = await res.text();
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = null;
      }
      if (!res.ok) {
        const message = parsed && typeof parsed === 'object' && typeof (parsed as { message?: unknown }).message === 'string' ? (parsed as { message: string }).message : text.slice(0, 200);
        return { ok: false, error: `${res.status}: ${message}` };
      }
      return { ok: true, value: parsed };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      if (e.name === 'TimeoutError') return { ok: false, error: 'token-api did not answer in time' };
      if (e.cause?.code === 'ECONNREFUSED') return { ok: false, error: 'token-api is not reachable' };
      return { ok: false, error: e.message };
    }
  }

  return {
    setMode: (mode: string) => call('POST', '/api/mode', { mode }),
    setFocus: (focus: boolean) => call('POST', '/api/state', { focus }),
    stopInstance: (id: string) => call('DELETE', `/api/instances/${encodeURIComponent(id)}`),
    async instanceEvents(id: string, limit = 20): Promise<ApiResult<FeedEvent[]>> {
      const r = await call('GET', `/api/events?instance=${encodeURIComponent(id)}&limit=${limit}`);
      if (!r.ok) return r;
      const parsed = eventsAnswer.safeParse(r.value);
      return parsed.success ? { ok: true, value: parsed.data.events } : { ok: false, error: 'the event log answered in an unexpected shape' };
    },
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
