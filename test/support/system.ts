// Test harness: a real token-api system (real SQLite file in a temporary home) serving its
// request listener and live feed on an ephemeral loopback port, plus small helpers to call it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, type Config, type ConfigFile } from '../../src/config/config.js';
import { createSystem, type System, type SystemOptions } from '../../src/system/system.js';
import { withDatabase } from './sqlite.js';

export function tempHome(prefix = 'token-api-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }) };
}

/**
 * Tests never reach beyond this machine's loopback: a phone's webhook is a local receiver
 * (test/support/phone.ts), never a real address such as a Tailscale one. Throws for any other.
 */
export function assertLoopbackWebhooks(urls: Iterable<string | null | undefined>, where: string): void {
  for (const url of urls) {
    if (!url) continue;
    let host: string;
    try {
      host = new URL(url).hostname;
    } catch {
      continue; // not a URL: never sent anywhere (the server refuses it)
    }
    if (host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host)) continue;
    throw new Error(`${where}: webhook ${url} is beyond loopback; tests send webhooks only to a local receiver (test/support/phone.ts)`);
  }
}

export function testConfig(home: string, file: ConfigFile = {}, env: NodeJS.ProcessEnv = {}): Config {
  assertLoopbackWebhooks((file.devices ?? []).map((d) => d.webhook_url), 'test config');
  // Tests never read the Codex sessions of whoever runs them, unless they point at their own.
  file = { ...file, codex: file.codex ?? { home: join(home, 'codex-home') } };
  writeFileSync(join(home, 'config.json'), JSON.stringify(file));
  return loadConfig({ home }, env);
}

export interface TestServer {
  url: string;
  /** The live feed: ws://…/ws. */
  wsUrl: string;
  system: System;
  config: Config;
  close(): Promise<void>;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; text: string; headers: Headers }>;
  hook(body: Record<string, unknown>, query?: string): Promise<{ status: number; body: any }>;
}

/** `port`: listen there (a server restarted where its clients expect it); else any free port. */
export async function startTestServer(home: string, file: ConfigFile = {}, options: SystemOptions = {}, listen: { port?: number } = {}): Promise<TestServer> {
  const config = testConfig(home, file);
  const system = await createSystem(config, { logger: pino({ level: 'silent' }), processExists: () => true, ...options });
  const server: Server = createServer(system.requestListener);
  system.feed.attach(server);
  await new Promise<void>((resolve) => server.listen(listen.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  system.fleet.listening((server.address() as AddressInfo).port);
  const request: TestServer['request'] = async (method, path, body, headers = {}) => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const res = await fetch(url + path, init);
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed, text, headers: res.headers };
  };
  return {
    url,
    wsUrl: `${url.replace(/^http/, 'ws')}/ws`,
    system,
    config,
    request,
    hook: (body, query = '') => request('POST', `/api/hooks${query}`, body),
    async close() {
      // WebSocket clients first: node:http does not count upgraded sockets as its connections.
      await system.fleet.close();
      await system.feed.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      // A device registered over the API during the test is held to the same rule (a database a
      // fault test broke has nothing to say).
      const webhooks = await withDatabase(config.databaseFile, (db) => db.all<{ target: string | null }>("SELECT DISTINCT target FROM notification_deliveries WHERE channel = 'webhook'")).catch(() => []);
      await system.shutdown();
      assertLoopbackWebhooks(webhooks.map((w) => w.target), 'a webhook delivery of this test');
    },
  };
}

/** Row counts of every table (read from the file), to show that a rejected request wrote nothing. */
export async function tableCounts(system: Pick<System, 'config'>): Promise<Record<string, number>> {
  return withDatabase(system.config.databaseFile, async (db) => {
    const tables = await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
    const out: Record<string, number> = {};
    for (const t of tables) out[t.name] = (await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t.name}`))!.n;
    return out;
  });
}

export function hookPayload(sessionId: string, name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { session_id: sessionId, transcript_path: `/home/u/.claude/projects/p/${sessionId}.jsonl`, cwd: '/home/u/token-api', hook_event_name: name, ...extra };
}
