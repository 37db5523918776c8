// The dashboard's actions over the HTTP API: set the mode (for a while), turn focus on or off,
// mark an instance stopped, answer its permission request, read an instance's recent events and
// whether speech and sound work, and managed sessions: list, start, prompt, cancel, stop, read
// their output. Each answers a typed result with the server's own message on failure (or the
// relay's, such as a read-only token's 403), so the dashboard can say what went wrong in a line.
// Requests go over the transport it is given (direct, or through a relay).
import { z } from 'zod';
import { approvalViewSchema, eventItemSchema, type FeedEvent } from '../protocol/feed.js';
import type { LocalOutputs } from './store.js';
import type { Transport } from './transport.js';
import { outputLines, sessionItemSchema, type SessionItem } from './session-data.js';

export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: string };

const eventsAnswer = z.looseObject({ events: z.array(eventItemSchema) });
const approvalListAnswer = z.looseObject({ approvals: z.array(approvalViewSchema) });
const output = z.looseObject({ available: z.boolean(), problem: z.string().nullable() });
const healthAnswer = z.looseObject({ notifications: z.looseObject({ speech: output, sound: output }) });

export function createApiClient(transport: Pick<Transport, 'request'>) {
  async function call(method: string, path: string, body?: unknown): Promise<ApiResult<unknown>> {
    let res: { status: number; body: string };
    try {
      res = await transport.request(method, path, body);
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
    let parsed: unknown = null;
    try {
      parsed = res.body ? JSON.parse(res.body) : null;
    } catch {
      parsed = null;
    }
    if (res.status < 200 || res.status >= 300) {
      const message = parsed && typeof parsed === 'object' && typeof (parsed as { message?: unknown }).message === 'string' ? (parsed as { message: string }).message : res.body.slice(0, 200);
      return { ok: false, error: `${res.status}: ${message}` };
    }
    return { ok: true, value: parsed };
  }

  return {
    /** `minutes`: a timer, after which the mode returns to the one before; none: until changed. */
    setMode: (mode: string, minutes?: number) => call('POST', '/api/mode', minutes === undefined ? { mode } : { mode, minutes }),
    setFocus: (focus: boolean) => call('POST', '/api/state', { focus }),
    stopInstance: (id: string) => call('DELETE', `/api/instances/${encodeURIComponent(id)}`),
    /** Answers the newest permission request an instance waits on; the approval, or null when it waits on none. */
    async decidePermission(instanceId: string, behavior: 'allow' | 'deny'): Promise<ApiResult<{ tool: string; summary: string } | null>> {
      const r = await call('GET', `/api/approvals?state=pending&instance=${encodeURIComponent(instanceId)}&limit=1`);
      if (!r.ok) return r;
      const parsed = approvalListAnswer.safeParse(r.value);
      if (!parsed.success) return { ok: false, error: 'GET /api/approvals answered in an unexpected shape' };
      const a = parsed.data.approvals[0];
      if (!a) return { ok: true, value: null };
      const d = await call('POST', `/api/approvals/${encodeURIComponent(a.id)}`, { behavior });
      return d.ok ? { ok: true, value: { tool: a.tool_name, summary: a.summary } } : d;
    },
    /** Whether speech and sound work on the server's machine. */
    async outputs(): Promise<ApiResult<LocalOutputs>> {
      const r = await call('GET', '/health');
      if (!r.ok) return r;
      const parsed = healthAnswer.safeParse(r.value);
      if (!parsed.success) return { ok: false, error: 'GET /health answered in an unexpected shape' };
      const { speech, sound } = parsed.data.notifications;
      return { ok: true, value: { speech: { available: speech.available, problem: speech.problem }, sound: { available: sound.available, problem: sound.problem } } };
    },
    async sessions(): Promise<ApiResult<SessionItem[]>> {
      const r = await call('GET', '/api/sessions');
      if (!r.ok) return r;
      const parsed = z.looseObject({ sessions: z.array(sessionItemSchema) }).safeParse(r.value);
      return parsed.success ? { ok: true, value: parsed.data.sessions } : { ok: false, error: 'GET /api/sessions answered in an unexpected shape' };
    },
    async repos(): Promise<ApiResult<string[]>> {
      const r = await call('GET', '/api/repos');
      if (!r.ok) return r;
      const parsed = z.looseObject({ repos: z.array(z.looseObject({ name: z.string() })) }).safeParse(r.value);
      return parsed.success ? { ok: true, value: parsed.data.repos.map((x) => x.name) } : { ok: false, error: 'GET /api/repos answered in an unexpected shape' };
    },
    startSession: (repo: string, prompt?: string) => call('POST', '/api/sessions', prompt === undefined ? { repo } : { repo, prompt }),
    sendPrompt: (id: string, prompt: string) => call('POST', `/api/sessions/${encodeURIComponent(id)}/send`, { prompt }),
    cancelSession: (id: string) => call('POST', `/api/sessions/${encodeURIComponent(id)}/cancel`),
    stopSession: (id: string) => call('DELETE', `/api/sessions/${encodeURIComponent(id)}`),
    /** A session's stored output (its first 1000 messages) as lines, and the seq of the last message read (0: none), to follow it from on the feed. */
    async sessionOutput(id: string): Promise<ApiResult<{ lines: string[]; after: number }>> {
      const r = await call('GET', `/api/sessions/${encodeURIComponent(id)}?limit=1000`);
      if (!r.ok) return r;
      const parsed = z.looseObject({ output: z.looseObject({ messages: z.array(z.looseObject({ seq: z.number().nullable(), kind: z.string(), message: z.record(z.string(), z.unknown()) })) }) }).safeParse(r.value);
      if (!parsed.success) return { ok: false, error: 'the session answered in an unexpected shape' };
      const messages = parsed.data.output.messages;
      return { ok: true, value: { lines: outputLines(messages), after: messages.reduce((m, x) => Math.max(m, x.seq ?? 0), 0) } };
    },
    async instanceEvents(id: string, limit = 20): Promise<ApiResult<FeedEvent[]>> {
      const r = await call('GET', `/api/events?instance=${encodeURIComponent(id)}&limit=${limit}`);
      if (!r.ok) return r;
      const parsed = eventsAnswer.safeParse(r.value);
      return parsed.success ? { ok: true, value: parsed.data.events } : { ok: false, error: 'the event log answered in an unexpected shape' };
    },
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
