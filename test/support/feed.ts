// Test harness for the live feed: the real server wiring (startServer: Koa, the feed on the
// same http.Server) on a loopback port in a temporary home, and a WebSocket client that
// checks every message against the shared schemas and lets a test wait for one.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import pino from 'pino';
import WebSocket from 'ws';
import type { ConfigFile } from '../../src/config/config.js';
import { serverMessageSchema, STREAM_TYPES, type ServerMessage } from '../../src/protocol/feed.js';
import { startServer, type RunningServer } from '../../src/system/server.js';
import type { SystemOptions } from '../../src/system/system.js';
import { tableCounts, testConfig } from './system.js';

export interface FeedServer {
  url: string;
  wsUrl: string;
  port: number;
  running: RunningServer;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  counts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export async function startFeedServer(home: string, file: ConfigFile = {}, options: SystemOptions = {}, port = 0): Promise<FeedServer> {
  const config = { ...testConfig(home, file), port };
  const running = await startServer(config, { logger: pino({ level: 'silent' }), processExists: () => true, ...options });
  const url = running.url;
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(url + path, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed as any };
  };
  return {
    url,
    wsUrl: `${url.replace(/^http/, 'ws')}/ws`,
    port: running.port,
    running,
    post: (path, body, headers) => call('POST', path, body, headers),
    get: (path, headers) => call('GET', path, undefined, headers),
    counts: () => tableCounts(running.system),
    close: async () => {
      await running.close();
    },
  };
}

export interface TestFeedClient {
  ws: WebSocket;
  messages: ServerMessage[];
  /** Resolves with the first message (from the start) matching, waiting for it if needed. */
  next<T extends ServerMessage['type']>(type: T, match?: (m: Extract<ServerMessage, { type: T }>) => boolean): Promise<Extract<ServerMessage, { type: T }>>;
  /** Messages received after the `from`-th, of a type. */
  ofType<T extends ServerMessage['type']>(type: T, from?: number): Extract<ServerMessage, { type: T }>[];
  send(m: unknown): void;
  /**
   * Resolves once every stream message the server published before now has arrived: a ping's
   * pong is sent after the fan-out already scheduled (both on the server's event loop, in order).
   */
  sync(): Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

export function connectFeed(url: string, opts: WebSocket.ClientOptions = {}): Promise<TestFeedClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts);
    const messages: ServerMessage[] = [];
    const waiters: { test: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];
    let onClosed: (v: { code: number; reason: string }) => void = () => undefined;
    let syncs = 0;
    const closed = new Promise<{ code: number; reason: string }>((r) => (onClosed = r));
    ws.on('message', (data, isBinary) => {
      assert.equal(isBinary, false, 'the feed sends text frames');
      const raw = JSON.parse(data.toString());
      const parsed = serverMessageSchema.safeParse(raw);
      assert.ok(parsed.success, `a message outside the protocol: ${data.toString().slice(0, 300)} ${parsed.success ? '' : JSON.stringify(parsed.error.issues.slice(0, 3))}`);
      messages.push(parsed.data);
      for (const w of [...waiters]) {
        if (w.test(parsed.data)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(parsed.data);
        }
      }
    });
    ws.on('close', (code, reason) => onClosed({ code, reason: reason.toString() }));
    ws.on('error', (err) => reject(err));
    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode, body: body ? JSON.parse(body) : null, headers: res.headers })));
    });
    ws.on('open', () =>
      resolve({
        ws,
        messages,
        next(type, match = () => true) {
          const test = (m: ServerMessage) => m.type === type && match(m as never);
          const found = messages.find(test);
          if (found) return Promise.resolve(found as never);
          return new Promise((r) => waiters.push({ test, resolve: r as (m: ServerMessage) => void }));
        },
        ofType(type, from = 0) {
          return messages.slice(from).filter((m) => m.type === type) as never;
        },
        send: (m) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)),
        async sync() {
          const id = `sync-${(syncs += 1)}`;
          ws.send(JSON.stringify({ type: 'ping', id }));
          await new Promise<ServerMessage>((r) => waiters.push({ test: (m) => m.type === 'pong' && m.id === id, resolve: r }));
        },
        closed,
        async close() {
          if (ws.readyState === WebSocket.CLOSED) return;
          ws.close();
          await closed;
        },
      }),
    );
  });
}

/** Stream messages only (what carries seq in order), in arrival order. */
export function streamOf(messages: ServerMessage[]): ServerMessage[] {
  return messages.filter((m) => (STREAM_TYPES as readonly string[]).includes(m.type));
}

/** Seqs of stream messages must follow one another with no gap. */
export function assertConsecutive(messages: ServerMessage[], from: number): void {
  let expected = from + 1;
  for (const m of streamOf(messages)) {
    assert.equal(m.seq, expected, `seq ${m.seq} where ${expected} was due (${m.type})`);
    expected += 1;
  }
}
