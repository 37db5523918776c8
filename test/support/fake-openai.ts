// A fake OpenAI Responses API on 127.0.0.1 for driving the real Codex CLI offline (a model
// provider in its config.toml with `base_url` here and `wire_api = "responses"`). It speaks the
// protocol as Codex 0.171 uses it: POST /v1/responses with `stream: true`, answered with
// server-sent events (response.created, response.output_item.added/done for an assistant
// message or a function call, text deltas, response.completed with usage). What each response
// holds is decided by a script from the request; every request is recorded with the usage
// billed for it, so a test can compare what was spent with what token-api counted.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeOpenAIUsage {
  input_tokens: number;
  /** Of input_tokens, those read from the prompt cache (usage.input_tokens_details.cached_tokens). */
  cached_tokens: number;
  output_tokens: number;
}

/** One response of the model: an assistant message, or a call of one of Codex's function tools. */
export type FakeOpenAIReply =
  | { kind: 'message'; text: string; usage?: Partial<FakeOpenAIUsage> }
  | { kind: 'function_call'; name: string; arguments: Record<string, unknown>; usage?: Partial<FakeOpenAIUsage> };

/** A Responses API input item, as Codex sends its conversation. */
export interface InputItem {
  type?: string;
  role?: string;
  content?: { type?: string; text?: string }[];
  call_id?: string;
  name?: string;
  output?: unknown;
  [key: string]: unknown;
}

export interface FakeOpenAIRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: { model?: string; stream?: boolean; input?: InputItem[]; tools?: { type?: string; name?: string }[]; [key: string]: unknown };
}

export interface OpenAIRecorded extends FakeOpenAIRequest {
  reply: FakeOpenAIReply | null;
  responseId: string | null;
  usage: FakeOpenAIUsage | null;
}

export type OpenAIResponder = (req: FakeOpenAIRequest, index: number) => FakeOpenAIReply;

export interface FakeOpenAI {
  /** The provider's base_url (ends in /v1). */
  url: string;
  requests: OpenAIRecorded[];
  /** The /v1/responses requests answered with a reply. */
  responses(): OpenAIRecorded[];
  /** Usage billed in all, summed over every reply. */
  billed(): FakeOpenAIUsage;
  close(): Promise<void>;
}

const DEFAULT_USAGE: FakeOpenAIUsage = { input_tokens: 10, cached_tokens: 0, output_tokens: 5 };

export const say = (text: string, usage?: Partial<FakeOpenAIUsage>): FakeOpenAIReply => ({ kind: 'message', text, ...(usage ? { usage } : {}) });
/** A call of Codex's shell tool (`exec_command` in 0.171: `{ cmd }`). */
export const shell = (cmd: string, usage?: Partial<FakeOpenAIUsage>): FakeOpenAIReply => ({ kind: 'function_call', name: 'exec_command', arguments: { cmd }, ...(usage ? { usage } : {}) });

/** The text of the last user message in the conversation (Codex's own context messages included). */
export function lastUserText(req: FakeOpenAIRequest): string {
  const items = req.body.input ?? [];
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i]!;
    if (it.type === 'message' && it.role === 'user') return (it.content ?? []).map((c) => c.text ?? '').join('\n');
  }
  return '';
}

/** The output of the function call the conversation ends with (the model is being told how a tool went), or null. */
export function functionOutput(req: FakeOpenAIRequest): string | null {
  const last = req.body.input?.at(-1);
  if (last?.type !== 'function_call_output') return null;
  return typeof last.output === 'string' ? last.output : JSON.stringify(last.output);
}

/** Every text of the conversation's messages (user and assistant), in order. */
export function conversationTexts(req: FakeOpenAIRequest): string[] {
  return (req.body.input ?? []).filter((i) => i.type === 'message').flatMap((i) => (i.content ?? []).map((c) => c.text ?? ''));
}

function sse(res: ServerResponse, type: string, data: Record<string, unknown>): void {
  res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
}

function writeStream(res: ServerResponse, reply: FakeOpenAIReply, responseId: string, model: string, usage: FakeOpenAIUsage): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const response = { id: responseId, object: 'response', model, status: 'in_progress', output: [] as unknown[] };
  sse(res, 'response.created', { response });
  sse(res, 'response.in_progress', { response });
  let item: Record<string, unknown>;
  if (reply.kind === 'message') {
    const id = `msg_${randomUUID().replaceAll('-', '')}`;
    item = { type: 'message', id, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: reply.text, annotations: [] }] };
    sse(res, 'response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } });
    sse(res, 'response.content_part.added', { item_id: id, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
    sse(res, 'response.output_text.delta', { item_id: id, output_index: 0, content_index: 0, delta: reply.text });
    sse(res, 'response.output_text.done', { item_id: id, output_index: 0, content_index: 0, text: reply.text });
    sse(res, 'response.content_part.done', { item_id: id, output_index: 0, content_index: 0, part: { type: 'output_text', text: reply.text, annotations: [] } });
  } else {
    const id = `fc_${randomUUID().replaceAll('-', '')}`;
    item = { type: 'function_call', id, call_id: `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`, name: reply.name, arguments: JSON.stringify(reply.arguments), status: 'completed' };
    sse(res, 'response.output_item.added', { output_index: 0, item: { ...item, arguments: '', status: 'in_progress' } });
    sse(res, 'response.function_call_arguments.done', { item_id: id, output_index: 0, arguments: item.arguments });
  }
  sse(res, 'response.output_item.done', { output_index: 0, item });
  sse(res, 'response.completed', {
    response: {
      ...response,
      status: 'completed',
      output: [item],
      usage: {
        input_tokens: usage.input_tokens,
        input_tokens_details: { cached_tokens: usage.cached_tokens },
        output_tokens: usage.output_tokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: usage.input_tokens + usage.output_tokens,
      },
    },
  });
  res.end();
}

export async function startFakeOpenAI(opts: { responder: OpenAIResponder }): Promise<FakeOpenAI> {
  const requests: OpenAIRecorded[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      let body: FakeOpenAIRequest['body'] = {};
      try {
        body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as FakeOpenAIRequest['body']) : {};
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { type: 'invalid_request_error', message: 'body is not JSON' } }));
        return;
      }
      const rec: OpenAIRecorded = { path, headers: req.headers, body, reply: null, responseId: null, usage: null };
      requests.push(rec);
      if (req.method !== 'POST' || path !== '/v1/responses' || body.stream !== true) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { type: 'not_found', message: `the fake serves only streamed POST /v1/responses, not ${req.method} ${path}` } }));
        return;
      }
      const reply = opts.responder(rec, requests.filter((r) => r.path === '/v1/responses').length - 1);
      rec.reply = reply;
      rec.responseId = `resp_${randomUUID().replaceAll('-', '')}`;
      rec.usage = { ...DEFAULT_USAGE, ...reply.usage };
      writeStream(res, reply, rec.responseId, body.model ?? 'unknown', rec.usage);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const responses = () => requests.filter((r) => r.reply !== null);
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    responses,
    billed() {
      const sum: FakeOpenAIUsage = { input_tokens: 0, cached_tokens: 0, output_tokens: 0 };
      for (const r of responses()) {
        sum.input_tokens += r.usage!.input_tokens;
        sum.cached_tokens += r.usage!.cached_tokens;
        sum.output_tokens += r.usage!.output_tokens;
      }
      return sum;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
