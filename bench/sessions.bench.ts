// Managed sessions, against the real token-api process on loopback with the fake `claude`
// (test/support/fake-claude.mjs, which answers at once). (1) From POST /api/sessions/{id}/send
// to the first output message of that turn on /ws/sessions/{id}: target p99 under 50 ms.
// (2) 20 sessions typing 1 MB/s in all (stream_event deltas, 50 lines a second each), one
// WebSocket client per session keeping up: every delta arrives, and the server's peak RSS
// stays under 300 MB.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { peakRssMb, percentile, round, startTokenApi, tempHome } from './support.js';
import type { BenchOptions, BenchResult } from './types.js';

const FAKE_CLAUDE = fileURLToPath(new URL('../test/support/fake-claude.mjs', import.meta.url));
const agent = new Agent({ keepAlive: true, maxSockets: 32 });

function call(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(`${url}${path}`, { method, agent, headers: data === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function withServer<T>(fn: (url: string, pid: number) => Promise<T>): Promise<T> {
  const home = tempHome();
  const repo = join(home.dir, 'repo');
  mkdirSync(repo);
  writeFileSync(join(home.dir, 'config.json'), JSON.stringify({ notifications: { speech: { engine: 'none' }, sound: { player: 'none' } }, repos: [{ name: 'repo', path: repo }], sessions: { claude_bin: FAKE_CLAUDE } }));
  const server = await startTokenApi(home.dir);
  try {
    return await fn(server.url, server.pid);
  } finally {
    await server.stop('SIGTERM');
    home.cleanup();
  }
}

async function startSession(url: string): Promise<{ id: string; ws: WebSocket; messages: (listener: (m: any) => void) => void }> {
  const r = await call(url, 'POST', '/api/sessions', { repo: 'repo' });
  if (r.status !== 201) throw new Error(`start: ${r.status} ${JSON.stringify(r.body)}`);
  const id = r.body.id as string;
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws/sessions/${id}`);
  const listeners: ((m: any) => void)[] = [];
  ws.on('message', (d) => {
    const m = JSON.parse(String(d));
    for (const l of listeners) l(m);
  });
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  return { id, ws, messages: (l) => listeners.push(l) };
}

async function firstByte(opts: BenchOptions): Promise<BenchResult> {
  const prompts = opts.quick ? 100 : 300;
  return withServer(async (url) => {
    const s = await startSession(url);
    const samples: number[] = [];
    let waiting: { t0: number; resolve: () => void; first: boolean; done: () => void } | null = null;
    s.messages((m) => {
      if (!waiting || m.type !== 'output') return;
      if (waiting.first) {
        samples.push(performance.now() - waiting.t0);
        waiting.first = false;
      }
      if (m.kind === 'result') waiting.done();
    });
    for (let i = 0; i < prompts + 10; i++) {
      await new Promise<void>((done) => {
        waiting = { t0: performance.now(), resolve: done, first: true, done };
        void call(url, 'POST', `/api/sessions/${s.id}/send`, { prompt: `prompt ${i}` });
      });
    }
    s.ws.close();
    const measured = samples.slice(10);
    const p99 = percentile(measured, 99);
    return {
      metric: 'prompt sent -> first output on /ws/sessions/{id} (fake agent answering at once)',
      p50_ms: round(percentile(measured, 50)),
      p99_ms: round(p99),
      target: 'p99 < 50 ms',
      verdict: p99 < 50 ? 'pass' : 'fail',
      notes: `${measured.length} prompts, one after another; includes the fake agent (a Node process) reading the line and printing`,
      runs: measured.map((x) => round(x, 3)),
    };
  });
}

async function flood(opts: BenchOptions): Promise<BenchResult> {
  const sessions = 20;
  const seconds = opts.quick ? 10 : 30;
  const perSession = Math.round(1_000_000 / sessions);
  return withServer(async (url, pid) => {
    const all = await Promise.all(Array.from({ length: sessions }, () => startSession(url)));
    const received = new Array<number>(sessions).fill(0);
    let bytes = 0;
    const finished = all.map(
      (s, i) =>
        new Promise<void>((resolve) =>
          s.messages((m) => {
            if (m.type === 'output' && m.kind === 'partial') (received[i]! += 1, (bytes += JSON.stringify(m).length));
            if (m.type === 'output' && m.kind === 'result') resolve();
          }),
        ),
    );
    const t0 = performance.now();
    await Promise.all(all.map((s) => call(url, 'POST', `/api/sessions/${s.id}/send`, { prompt: `FLOOD ${perSession} ${seconds}` })));
    await Promise.all(finished);
    const elapsed = (performance.now() - t0) / 1000;
    const peak = peakRssMb(pid);
    for (const s of all) s.ws.close();
    const expected = seconds * 50;
    const missing = received.reduce((n, r) => n + Math.max(0, expected - r), 0);
    return {
      metric: `${sessions} sessions typing 1 MB/s in all, one WebSocket client each keeping up`,
      throughput: round(bytes / 1e6 / elapsed, 2),
      unit: 'MB/s delivered',
      target: 'nothing dropped, peak RSS < 300 MB',
      verdict: missing === 0 && peak < 300 ? 'pass' : 'fail',
      notes: `${missing} of ${expected * sessions} deltas missing; server peak RSS ${round(peak, 1)} MB over ${round(elapsed, 1)} s`,
    };
  });
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  opts.log('  prompt -> first output …');
  const a = await firstByte(opts);
  opts.log('  20 sessions streaming …');
  const b = await flood(opts);
  return [a, b];
}
