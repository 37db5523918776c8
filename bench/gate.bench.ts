// Gate checks under load: `GET /?app=youtube` (the MacroDroid endpoint) and
// `GET /api/check?app=youtube` on the real server process, beside a bare node:http server
// answering a constant, measured in the same run from separate load processes: throughput
// with 50 connections (bench/load.ts), and p50/p99 at a steady 1,000 requests/s
// (bench/rate-client.ts, microsecond resolution). Targets: throughput >= 0.55 of bare, p99
// <= 1.5x bare. Every check also writes its gate.check event row, as in production.
import { atRate, load, median, round, startBare, startTokenApi, tempHome, type Proc, type RateResult } from './support.js';
import type { BenchOptions, BenchResult } from './types.js';

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const seconds = opts.quick ? 3 : 10;
  const home = tempHome();
  const procs: Proc[] = [];
  try {
    const bare = await startBare('allowed');
    procs.push(bare);
    const api = await startTokenApi(home.dir);
    procs.push(api);
    const targets = [
      { name: 'bare node:http', url: `${bare.url}/` },
      { name: 'GET /?app=youtube', url: `${api.url}/?app=youtube` },
      { name: 'GET /api/check?app=youtube', url: `${api.url}/api/check?app=youtube` },
    ];
    opts.log(`gate: warming up (${targets.length} targets)`);
    for (const t of targets) await load({ url: t.url, connections: 50, durationS: opts.quick ? 1 : 3 });

    const tput = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    const lat = new Map<string, RateResult[]>(targets.map((t) => [t.name, []]));
    for (let i = 0; i < opts.repeats; i++) {
      for (const t of targets) {
        const r = await load({ url: t.url, connections: 50, durationS: seconds });
        const bad = r.non2xx + r.errors;
        if (bad > 0) throw new Error(`${t.name}: ${bad} failed requests under load`);
        tput.get(t.name)!.push(r.rps);
        opts.log(`gate: ${t.name}, 50 connections: ${Math.round(r.rps)} req/s`);
      }
      for (const t of targets) {
        const r = await atRate({ url: t.url, rate: 1000, durationMs: seconds * 1000 });
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
    home.cleanup();
  }
}
