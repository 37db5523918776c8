// Gate checks under load: `GET /?app=youtube` (the MacroDroid endpoint) and
// `GET /api/check?app=youtube` on the real server process, beside a bare node:http server
// answering a constant, measured in the same run from separate load processes: throughput
// with 50 connections (autocannon), and p50/p99 at a steady 1,000 requests/s
// (bench/rate-client.ts, microsecond resolution). Targets: throughput >= 0.55 of bare, p99
// <= 1.5x bare. Every check also writes its gate.check event row, as in production.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchResult } from './types.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

interface Proc {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

function startProcess(args: string[]): Promise<Proc> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not start: ${args.join(' ')}\n${err}`)), 60_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1]!,
          child,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null || child.signalCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${args.join(' ')}\n${err}`));
    });
  });
}

function runJson<T>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`load client exited with ${code}: ${err}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as T);
      } catch {
        reject(new Error(`load client printed no JSON: ${out}${err}`));
      }
    });
  });
}

interface Cannon {
  requests: { average: number; total: number };
  non2xx: number;
  errors: number;
}

async function throughput(url: string, seconds: number): Promise<{ rps: number; bad: number }> {
  const r = await runJson<Cannon>([AUTOCANNON, '-c', '50', '-d', String(seconds), '-j', url]);
  return { rps: r.requests.average, bad: r.non2xx + r.errors };
}

interface Rate {
  count: number;
  errors: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

function atRate(url: string, ms: number): Promise<Rate> {
  return runJson<Rate>(['--import', 'tsx', 'bench/rate-client.ts', url, '1000', String(ms)]);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const seconds = opts.quick ? 3 : 10;
  const home = mkdtempSync(join(tmpdir(), 'token-api-bench-gate-'));
  const procs: Proc[] = [];
  try {
    const bare = await startProcess(['bench/bare-server.ts', 'allowed']);
    procs.push(bare);
    const api = await startProcess(['src/cli.ts', 'serve', '--home', home, '--port', '0', '--log-level', 'warn']);
    procs.push(api);
    const targets = [
      { name: 'bare node:http', url: `${bare.url}/` },
      { name: 'GET /?app=youtube', url: `${api.url}/?app=youtube` },
      { name: 'GET /api/check?app=youtube', url: `${api.url}/api/check?app=youtube` },
    ];
    opts.log(`gate: warming up (${targets.length} targets)`);
    for (const t of targets) await throughput(t.url, opts.quick ? 1 : 3);

    const tput = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    const lat = new Map<string, Rate[]>(targets.map((t) => [t.name, []]));
    for (let i = 0; i < opts.repeats; i++) {
      for (const t of targets) {
        const r = await throughput(t.url, seconds);
        if (r.bad > 0) throw new Error(`${t.name}: ${r.bad} failed requests under load`);
        tput.get(t.name)!.push(r.rps);
        opts.log(`gate: ${t.name}, 50 connections: ${Math.round(r.rps)} req/s`);
      }
      for (const t of targets) {
        const r = await atRate(t.url, seconds * 1000);
        if (r.errors > 0) throw new Error(`${t.name}: ${r.errors} failed requests at 1,000 req/s`);
        lat.get(t.name)!.push(r);
        opts.log(`gate: ${t.name}, 1,000 req/s: p50 ${round(r.p50_ms)} ms, p99 ${round(r.p99_ms)} ms`);
      }
    }

    const bareRps = median(tput.get('bare node:http')!);
    const bareP99 = median(lat.get('bare node:http')!.map((r) => r.p99_ms));
    const bareP50 = median(lat.get('bare node:http')!.map((r) => r.p50_ms));
    const results: BenchResult[] = [
      {
        metric: 'bare node:http server, 50 connections',
        throughput: round(bareRps, 0),
        unit: 'req/s',
        target: 'comparison',
        verdict: 'info',
        runs: tput.get('bare node:http'),
      },
      {
        metric: 'bare node:http server at a steady 1,000 req/s',
        p50_ms: round(bareP50),
        p99_ms: round(bareP99),
        target: 'comparison',
        verdict: 'info',
        runs: lat.get('bare node:http'),
      },
    ];
    for (const t of targets.slice(1)) {
      const rps = median(tput.get(t.name)!);
      const ratio = rps / bareRps;
      results.push({
        metric: `${t.name}, 50 connections`,
        throughput: round(rps, 0),
        unit: 'req/s',
        target: '>= 0.55 of bare node:http',
        verdict: ratio >= 0.55 ? 'pass' : 'fail',
        notes: `${round(ratio, 2)} of bare node:http (${Math.round(bareRps)} req/s)`,
        runs: tput.get(t.name),
      });
      const p99 = median(lat.get(t.name)!.map((r) => r.p99_ms));
      const p50 = median(lat.get(t.name)!.map((r) => r.p50_ms));
      const x = p99 / bareP99;
      results.push({
        metric: `${t.name} at a steady 1,000 req/s`,
        p50_ms: round(p50),
        p99_ms: round(p99),
        target: '<= 1.5x the p99 of bare node:http',
        verdict: x <= 1.5 ? 'pass' : 'fail',
        notes: `p99 ${round(x, 2)}x bare node:http (${round(bareP99)} ms)`,
        runs: lat.get(t.name),
      });
    }
    return results;
  } finally {
    for (const p of procs.reverse()) await p.stop();
    rmSync(home, { recursive: true, force: true });
  }
}
