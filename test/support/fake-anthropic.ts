// A fake Anthropic Messages API on 127.0.0.1 for driving the real Claude Code CLI offline
// (ANTHROPIC_BASE_URL). It speaks the real protocol: POST /v1/messages answered as streamed
// server-sent events (or one JSON message when the request does not ask for a stream), and
// /v1/messages/count_tokens. What each response holds (text, tool_use blocks, usage) is
// decided by a script: a queue of replies and/or a function of the request; every request is
// recorded, with the usage billed for it, so a test can compare what was spent with what
// token-api counted.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

export type FakeBlock = { type: 'text'; text: string } | { type: 'tool_use'; name: string; input: Record<string, unknown>; id?: string };

/** One response of the model. */
export interface FakeReply {
  content: FakeBlock[];
  /** Default: `tool_use` when a block is a tool call, else `end_turn`. */
  stop_reason?: 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence';
  usage?: Partial<FakeUsage>;
  model?: string;
  /** Answer with this HTTP status and an error body instead (an overloaded API, say). */
  status?: number;
  /** Stream the first text delta, then hold the stream open until the client goes (a turn to interrupt). */
  hang?: boolean;
}

/** What the CLI sent, as the script sees it. */
export interface FakeRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: {
    model?: string;
    stream?: boolean;
    system?: unknown;
    tools?: { name: string }[];
    messages?: { role: string; content: unknown }[];
    [key: string]: unknown;
  };
}

export interface Recorded extends FakeRequest {
  /** The reply given (null for count_tokens and other endpoints). */
  reply: FakeReply | null;
  /** The message id and usage billed, as the stream reported them. */
  messageId: string | null;
  usage: FakeUsage | null;
  model: string | null;
  /** A `hang` reply: set once the client closed the stream before its end. */
  abandoned?: boolean;
}

/** Decides a reply; return undefined to take the next one from the queue (or the default). */
export type Responder = (req: FakeRequest, index: number) => FakeReply | undefined;

export interface FakeAnthropic {
  url: string;
  requests: Recorded[];
  /** Replies handed out in order to /v1/messages requests the responder leaves alone. */
  queue: FakeReply[];
  responder: Responder | null;
  /** Given when neither the responder nor the queue has anything: a short text. */
  fallback: FakeReply;
  /** The /v1/messages requests that were answered with a model reply. */
  messages(): Recorded[];
  /** Usage billed in all, summed over every reply. */
  billed(): FakeUsage;
  close(): Promise<void>;
}

const DEFAULT_USAGE: FakeUsage = { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };

export const text = (t: string, usage?: Partial<FakeUsage>): FakeReply => ({ content: [{ type: 'text', text: t }], ...(usage ? { usage } : {}) });
export const toolUse = (name: string, input: Record<string, unknown>, usage?: Partial<FakeUsage>): FakeReply => ({
  content: [{ type: 'tool_use', name, input }],
  ...(usage ? { usage } : {}),
});

/** The last user message's text (string content or its text blocks), to let a script react to a prompt. */
export function lastUserText(req: FakeRequest): string {
  const msgs = req.body.messages ?? [];
  for (let i = msgs.length - 1; i >= 0; i--) {
    const m = msgs[i]!;
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) {
      return m.content
        .map((b: { type?: string; text?: string; content?: unknown }) => (b.type === 'text' ? (b.text ?? '') : b.type === 'tool_result' ? JSON.stringify(b.content ?? '') : ''))
        .join('\n');
    }
    return '';
  }
  return '';
}

/** True when the last user message carries a tool result (the model is being told how a tool went). */
export function isToolResult(req: FakeRequest): boolean {
  const last = req.body.messages?.at(-1);
  return Array.isArray(last?.content) && (last.content as { type?: string }[]).some((b) => b.type === 'tool_result');
}

function sse(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const t = Buffer.concat(chunks).toString('utf8');
  try {
    const v = JSON.parse(t) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export async function startFakeAnthropic(opts: { responder?: Responder; queue?: FakeReply[] } = {}): Promise<FakeAnthropic> {
  let index = 0;
  const fake: FakeAnthropic = {
    url: '',
    requests: [],
    queue: [...(opts.queue ?? [])],
    responder: opts.responder ?? null,
    fallback: text('Done.'),
    messages: () => fake.requests.filter((r) => r.reply !== null && !r.reply.status),
    billed() {
      const sum: FakeUsage = { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
      for (const r of fake.requests) {
        if (!r.usage) continue;
        sum.input_tokens += r.usage.input_tokens;
        sum.output_tokens += r.usage.output_tokens;
        sum.cache_creation_input_tokens! += r.usage.cache_creation_input_tokens ?? 0;
        sum.cache_read_input_tokens! += r.usage.cache_read_input_tokens ?? 0;
      }
      return sum;
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const body = req.method === 'POST' ? await readJson(req) : {};
    const seen: FakeRequest = { path, headers: req.headers, body };
    if (path === '/v1/messages/count_tokens') {
      fake.requests.push({ ...seen, reply: null, messageId: null, usage: null, model: null });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ input_tokens: 100 }));
      return;
    }
    if (path !== '/v1/messages' || req.method !== 'POST') {
      fake.requests.push({ ...seen, reply: null, messageId: null, usage: null, model: null });
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: `no ${req.method} ${path} here` } }));
      return;
    }
    const reply = fake.responder?.(seen, index) ?? fake.queue.shift() ?? fake.fallback;
    index += 1;
    if (reply.status) {
      fake.requests.push({ ...seen, reply, messageId: null, usage: null, model: null });
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: `scripted ${reply.status}` } }));
      return;
    }
    const usage: FakeUsage = { ...DEFAULT_USAGE, ...reply.usage };
    const model = reply.model ?? (typeof body.model === 'string' ? body.model : 'claude-sonnet-4-5');
    const id = `msg_fake_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    const content = reply.content.map((b) => (b.type === 'tool_use' ? { ...b, id: b.id ?? `toolu_fake_${randomUUID().replace(/-/g, '').slice(0, 20)}` } : b));
    const stopReason = reply.stop_reason ?? (content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn');
    fake.requests.push({ ...seen, reply, messageId: id, usage, model });
    const requestId = `req_fake_${randomUUID().replace(/-/g, '').slice(0, 20)}`;

    if (body.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': requestId });
      res.end(JSON.stringify({ id, type: 'message', role: 'assistant', model, content, stop_reason: stopReason, stop_sequence: null, usage }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'request-id': requestId });
    sse(res, 'message_start', {
      type: 'message_start',
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: usage.input_tokens, cache_creation_input_tokens: usage.cache_creation_input_tokens, cache_read_input_tokens: usage.cache_read_input_tokens, output_tokens: 1 },
      },
    });
    if (reply.hang) {
      const first = content.find((b) => b.type === 'text');
      sse(res, 'content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
      sse(res, 'content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: first?.type === 'text' ? first.text : '' } });
      const recorded = fake.requests[fake.requests.length - 1]!;
      res.on('close', () => (recorded.abandoned = true));
      return;
    }
    content.forEach((b, i) => {
      if (b.type === 'text') {
        sse(res, 'content_block_start', { type: 'content_block_start', index: i, content_block: { type: 'text', text: '' } });
        sse(res, 'content_block_delta', { type: 'content_block_delta', index: i, delta: { type: 'text_delta', text: b.text } });
      } else {
        sse(res, 'content_block_start', { type: 'content_block_start', index: i, content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} } });
        sse(res, 'content_block_delta', { type: 'content_block_delta', index: i, delta: { type: 'input_json_delta', partial_json: JSON.stringify(b.input) } });
      }
      sse(res, 'content_block_stop', { type: 'content_block_stop', index: i });
    });
    sse(res, 'message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } });
    sse(res, 'message_stop', { type: 'message_stop' });
    res.end();
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: String(err) } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
