// Processes for benchmarks: the real token-api server (compiled, as `npm start` runs it),
// the bare node:http comparison server, and the load generator, each its own process.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVER_NODE_FLAGS } from '../src/service/heap.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface Proc {
  url: string;
  pid: number;
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function waitListening(child: ChildProcess, what: string): Promise<string> {
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (https?:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${out}`));
    });
  });
}

function track(child: ChildProcess): () => string {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return () => out;
}

function stopper(child: ChildProcess) {
  return (signal: NodeJS.Signals = 'SIGTERM') =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    });
}

/** The bare node:http comparison server, answering JSON, or `text` as text/plain. */
export async function startBare(text?: string): Promise<Proc> {
  const child = spawn(process.execPath, [join(ROOT, 'bench/bare-server.mjs'), ...(text === undefined ? [] : [text])], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = track(child);
  const url = await waitListening(child, 'bare server');
  return { url, pid: child.pid!, child, output, stop: stopper(child) };
}

export function tempHome(config: Record<string, unknown> = {}): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'token-api-bench-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The compiled server (`dist/`), as `npm start` runs it (with its node flags), on a free port. */
export async function startTokenApi(home: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Proc> {
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, join(ROOT, 'bin/token-api.js'), 'serve', '--home', home, '--port', '0', '--log-level', 'warn', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const output = track(child);
  const url = await waitListening(child, 'token-api');
  return { url, pid: child.pid!, child, output, stop: stopper(child) };
}

export interface LoadResult {
  rps: number;
  total: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

export function load(args: {
  url: string;
  method?: string;
  connections: number;
  durationS: number;
  overallRate?: number;
  bodies?: string[];
  paths?: string[];
  headers?: Record<string, string>;
}): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/load.ts'), JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as LoadResult);
      } catch {
        reject(new Error(`load generator failed (${code}): ${err || out}`));
      }
    });
  });
}

export interface RateResult {
  count: number;
  errors: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  seconds: number;
}

/** Latency at a steady rate, from its own process (bench/rate-client.ts, microsecond resolution). */
export function atRate(args: { url: string; rate: number; durationMs: number; method?: string; bodies?: string[] }): Promise<RateResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/rate-client.ts'), JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as RateResult);
      } catch {
        reject(new Error(`rate client failed (${code}): ${err || out}`));
      }
    });
  });
}

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The highest resident set size a running process has had so far (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The p-th percentile (nearest rank) of some values. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function median(xs: number[]): number {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

// Idle sockets close after a second (keep-alive for a run, never holding a finished bench open).
const keepAlive = new Agent({ keepAlive: true, maxSockets: 1, timeout: 1000 });

/** A JSON POST on one kept-alive connection (what a hook script does, minus its process); resolves with the status. */
export function postJson(url: string, body: unknown): Promise<number> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: keepAlive, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** A phone's webhook receiver on loopback: `next()` resolves with the time (performance.now) the next POST ends. */
export async function startWebhookReceiver(): Promise<{ url: string; next(): Promise<number>; close(): Promise<void> }> {
  let waiting: ((t: number) => void) | null = null;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const t = performance.now();
      res.end('ok');
      waiting?.(t);
      waiting = null;
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`,
    next: () => new Promise<number>((resolve) => (waiting = resolve)),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
