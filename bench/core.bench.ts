// Core benchmarks: POST /api/hooks (every event committed before its answer) against a bare
// node:http server in the same run, with token-api's peak memory under that load, restoring
// 1,000 instance actors, and memory with 1,000 live instances. Load comes from a separate
// process (bench/load.ts).
import type { BenchOptions, BenchResult } from './types.js';
import { atRate, load, median, peakRssMb, round, rssMb, startBare, startTokenApi, tempHome, type LoadResult, type RateResult } from './support.js';

function hookBodies(sessions: number): string[] {
  const bodies: string[] = [];
  for (let s = 0; s < sessions; s++) {
    const base = { session_id: `bench-${s}`, transcript_path: `/tmp/bench/${s}.jsonl`, cwd: '/home/dev/project', tool_name: 'Bash', tool_input: { command: 'npm test' } };
    bodies.push(JSON.stringify({ ...base, hook_event_name: 'PreToolUse' }));
    bodies.push(JSON.stringify({ ...base, hook_event_name: 'PostToolUse', tool_response: { stdout: 'ok', exit_code: 0 } }));
  }
  // interleave sessions so consecutive requests hit different actors
  return bodies.map((_, i) => bodies[(i % sessions) * 2 + (Math.floor(i / sessions) % 2)]!);
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const duration = opts.quick ? 3 : 8;
  const bodies = hookBodies(50);
  const home = tempHome();
  const bare = await startBare();
  const server = await startTokenApi(home.dir);
  const hooksUrl = `${server.url}/api/hooks`;
  try {
    // warm both up
    await load({ url: bare.url, method: 'POST', connections: 10, durationS: 1, bodies });
    await load({ url: hooksUrl, method: 'POST', connections: 10, durationS: 1, bodies });

    const bareRuns: LoadResult[] = [];
    const hookRuns: LoadResult[] = [];
    for (let r = 0; r < opts.repeats; r++) {
      bareRuns.push(await load({ url: bare.url, method: 'POST', connections: 50, durationS: duration, bodies }));
      hookRuns.push(await load({ url: hooksUrl, method: 'POST', connections: 50, durationS: duration, bodies }));
      opts.log(`  hooks throughput run ${r + 1}: ${round(hookRuns[r]!.rps, 0)}/s vs bare ${round(bareRuns[r]!.rps, 0)}/s`);
    }
    // The server's highest resident set so far: its start, the warm-up and these runs.
    const peakMb = peakRssMb(server.pid);
    const ratios = hookRuns.map((h, i) => h.rps / bareRuns[i]!.rps);
    const ratio = median(ratios);
    const failures = hookRuns.reduce((n, h) => n + h.non2xx + h.errors, 0);
    results.push({
      metric: 'POST /api/hooks, 50 connections (durable)',
      p50_ms: median(hookRuns.map((h) => h.p50_ms)),
      p99_ms: median(hookRuns.map((h) => h.p99_ms)),
      throughput: round(median(hookRuns.map((h) => h.rps)), 0),
      unit: 'events/s',
      target: '>= 0.45 x bare node:http',
      verdict: ratio >= 0.45 && failures === 0 ? 'pass' : 'fail',
      notes: `ratio ${round(ratio)} (bare ${round(median(bareRuns.map((b) => b.rps)), 0)}/s); non-2xx/errors ${failures}; sqlite synchronous=NORMAL (WAL)`,
      runs: hookRuns.map((h, i) => ({ hooks: h, bare: bareRuns[i] })),
    });
    results.push({
      metric: `peak RSS, 50 connections posting hook events for ${duration} s`,
      throughput: round(peakMb, 1),
      unit: 'MB',
      target: '< 140 MB',
      verdict: peakMb < 140 ? 'pass' : 'fail',
      notes: `at ${round(median(hookRuns.map((h) => h.rps)), 0)} events/s, ${opts.repeats} run(s) of ${duration} s (VmHWM of the server process)`,
    });

    const steadyBare: RateResult[] = [];
    const steadyHooks: RateResult[] = [];
    for (let r = 0; r < opts.repeats; r++) {
      steadyBare.push(await atRate({ url: bare.url, method: 'POST', rate: 1000, durationMs: duration * 1000, bodies }));
      steadyHooks.push(await atRate({ url: hooksUrl, method: 'POST', rate: 1000, durationMs: duration * 1000, bodies }));
    }
    const errors = steadyHooks.reduce((n, h) => n + h.errors, 0);
    const p99Ratio = median(steadyHooks.map((h, i) => h.p99_ms / steadyBare[i]!.p99_ms));
    results.push({
      metric: 'POST /api/hooks at a steady 1,000/s',
      p50_ms: round(median(steadyHooks.map((h) => h.p50_ms)), 3),
      p99_ms: round(median(steadyHooks.map((h) => h.p99_ms)), 3),
      throughput: round(median(steadyHooks.map((h) => h.count / h.seconds)), 0),
      unit: 'events/s',
      target: 'p99 <= 2 x bare p99',
      verdict: p99Ratio <= 2 && errors === 0 ? 'pass' : 'fail',
      notes: `p99 ratio ${round(p99Ratio)} (bare p50 ${round(median(steadyBare.map((b) => b.p50_ms)), 3)} ms, p99 ${round(median(steadyBare.map((b) => b.p99_ms)), 3)} ms); errors ${errors}`,
      runs: steadyHooks.map((h, i) => ({ hooks: h, bare: steadyBare[i] })),
    });
  } finally {
    await server.stop();
    await bare.stop();
    home.cleanup();
  }

  // Restore and memory with 1,000 live instances.
  const restoreHome = tempHome();
  let srv: Awaited<ReturnType<typeof startTokenApi>> | undefined;
  try {
    srv = await startTokenApi(restoreHome.dir);
    const seedUrl = srv.url;
    const n = 1000;
    opts.log(`  seeding ${n} instances`);
    for (let i = 0; i < n; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, n - i) }, (_, k) =>
          fetch(`${seedUrl}/api/hooks`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ session_id: `restore-${i + k}`, transcript_path: `/tmp/r/${i + k}.jsonl`, cwd: '/home/dev/p', hook_event_name: 'UserPromptSubmit' }),
          }).then((r) => r.arrayBuffer()),
        ),
      );
    }
    await srv.stop();
    const restoreMs: number[] = [];
    const rss: number[] = [];
    for (let r = 0; r < opts.repeats; r++) {
      const proc = await startTokenApi(restoreHome.dir);
      srv = proc;
      try {
        // The restore line follows the listening line on stderr, in a write of its own.
        const restored = /restored (\d+) instance\(s\).* in (\d+) ms/;
        for (let waited = 0; !restored.test(proc.output()) && waited < 5000; waited += 50) await new Promise((res) => setTimeout(res, 50));
        const m = restored.exec(proc.output());
        if (!m || Number(m[1]) !== n) throw new Error(`expected ${n} restored instances, got: ${proc.output()}`);
        restoreMs.push(Number(m[2]));
        await new Promise((res) => setTimeout(res, 500));
        rss.push(rssMb(proc.pid));
      } finally {
        await proc.stop();
      }
    }
    const ms = median(restoreMs);
    results.push({
      metric: 'restore 1,000 instance actors at start-up',
      throughput: round(ms, 0),
      unit: 'ms',
      target: '< 1000 ms',
      verdict: ms < 1000 ? 'pass' : 'fail',
      runs: restoreMs,
    });
    const mb = median(rss);
    results.push({
      metric: 'memory with 1,000 live instances',
      throughput: round(mb, 1),
      unit: 'MB RSS',
      target: '< 150 MB',
      verdict: mb < 150 ? 'pass' : 'fail',
      runs: rss,
    });
  } finally {
    await srv?.stop();
    restoreHome.cleanup();
  }
  return results;
}
