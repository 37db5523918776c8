// Registering an instance as the live instances grow: SessionStart hooks of new sessions,
// one at a time, against the compiled server. The time of the first registrations and of the
// last ones (10,000 live; 2,500 with --quick) are compared: a name, a profile and a resumed
// session's instance are found through the instance index, not by scanning the live ones.
import type { BenchOptions, BenchResult } from './types.js';
import { median, percentile, round, startTokenApi, tempHome } from './support.js';

async function registerAll(url: string, n: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const body = JSON.stringify({ session_id: `reg-${i}`, transcript_path: `/tmp/reg/${i}.jsonl`, cwd: '/home/dev/api', hook_event_name: 'SessionStart', source: 'startup' });
    const t0 = performance.now();
    const res = await fetch(`${url}/api/hooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`registration ${i} answered ${res.status}`);
    ms.push(performance.now() - t0);
  }
  return ms;
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const n = opts.quick ? 2500 : 10_000;
  const window = 500;
  const firsts: number[] = [];
  const lasts: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < opts.repeats; r++) {
    const home = tempHome({ instance_expiry_minutes: 24 * 60 });
    const server = await startTokenApi(home.dir);
    try {
      const ms = await registerAll(server.url, n);
      const first = median(ms.slice(0, window));
      const last = median(ms.slice(-window));
      firsts.push(first);
      lasts.push(last);
      ratios.push(last / first);
      opts.log(`  run ${r + 1}: p50 ${round(first, 3)} ms for the first ${window}, ${round(last, 3)} ms for the last ${window} (${n} live); p99 last ${round(percentile(ms.slice(-window), 99), 2)} ms`);
    } finally {
      await server.stop();
      home.cleanup();
    }
  }
  const ratio = median(ratios);
  return [
    {
      metric: `register an instance with ${n.toLocaleString('en')} live (SessionStart, one at a time)`,
      p50_ms: round(median(lasts), 3),
      target: `p50 with ${n.toLocaleString('en')} live <= 1.5 x p50 with few`,
      verdict: ratio <= 1.5 ? 'pass' : 'fail',
      notes: `ratio ${round(ratio)} (p50 ${round(median(firsts), 3)} ms for the first ${window} registrations)`,
      runs: firsts.map((f, i) => ({ first_p50_ms: f, last_p50_ms: lasts[i] })),
    },
  ];
}
