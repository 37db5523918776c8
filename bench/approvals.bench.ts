// Approvals: from a decision (POST /api/approvals/{id} sent) to the answer reaching the
// PermissionRequest hook's held call (POST /api/approvals/wait), against the real server
// process. Each round holds one call per approval, waits until token-api holds them all,
// then decides them one after another; the time is the decision's send to the held call's
// last byte. Target: p99 under 20 ms.
import { request } from 'node:http';
import type { BenchOptions, BenchResult } from './types.js';
import { median, percentile, round, startTokenApi, tempHome } from './support.js';

function call(url: string, method: string, body?: string): Promise<{ status: number; text: string; at: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, at: performance.now() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const permission = (i: number) =>
  JSON.stringify({ session_id: `bench-appr-${i % 20}`, transcript_path: `/tmp/bench/${i % 20}.jsonl`, cwd: '/home/dev/project', hook_event_name: 'PermissionRequest', tool_name: 'Bash', tool_input: { command: `touch f${i}` } });

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const home = tempHome({ notifications: { speech: { engine: 'none' }, sound: { player: 'none' } }, codex: { enabled: false } });
  const server = await startTokenApi(home.dir);
  const perRound = opts.quick ? 50 : 200;
  const rounds = Math.max(1, opts.repeats);
  const latencies: number[] = [];
  const p99s: number[] = [];
  let failures = 0;
  try {
    for (let r = 0; r < rounds; r++) {
      const ids = Array.from({ length: perRound }, (_, i) => `bench-r${r}-${String(i).padStart(5, '0')}`);
      const held = ids.map((id, i) => call(`${server.url}/api/approvals/wait?event_id=${id}`, 'POST', permission(r * perRound + i)));
      // Until every call is held (its approval pending).
      for (;;) {
        const list = await call(`${server.url}/api/approvals?state=pending&limit=500`, 'GET');
        if ((JSON.parse(list.text) as { count: number }).count >= perRound) break;
        await new Promise((res) => setTimeout(res, 20));
      }
      const times: number[] = [];
      for (let i = 0; i < ids.length; i++) {
        const sent = performance.now();
        const decided = call(`${server.url}/api/approvals/${ids[i]}`, 'POST', JSON.stringify({ behavior: i % 2 ? 'allow' : 'deny' }));
        const answer = await held[i]!;
        const d = await decided;
        if (answer.status !== 200 || d.status !== 200 || !answer.text.includes('hookSpecificOutput')) failures += 1;
        times.push(answer.at - sent);
      }
      latencies.push(...times);
      p99s.push(percentile(times, 99));
      opts.log(`  decision -> hook answer, round ${r + 1}: p50 ${round(percentile(times, 50))} ms, p99 ${round(percentile(times, 99))} ms`);
    }
  } finally {
    await server.stop();
    home.cleanup();
  }
  const p99 = median(p99s);
  return [
    {
      metric: `approval decided -> held hook call answered (${perRound} waiting, one decision at a time)`,
      p50_ms: round(percentile(latencies, 50)),
      p99_ms: round(p99),
      target: 'p99 < 20 ms',
      verdict: failures === 0 && p99 < 20 ? 'pass' : 'fail',
      notes: failures ? `${failures} calls not answered with a decision` : `${latencies.length} decisions`,
      runs: p99s,
    },
  ];
}
