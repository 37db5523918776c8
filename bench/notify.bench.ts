// Notification latency: from a hook arriving at token-api to the phone's webhook receiver
// getting the POST: a Stop with the coalescing window set to 0, and a PermissionRequest with
// the default window (3 s), which an urgent intent never waits for. The server is the real
// `token-api serve` in its own process on loopback; the hook sender and the receiver live in
// this process, so both ends are timed on one clock. Target: p99 under 50 ms.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, percentile, postJson as post, startTokenApi, startWebhookReceiver } from './support.js';
import type { BenchOptions, BenchResult } from './types.js';

const PHONE_IP = '100.102.92.24';

type Kind = 'stop' | 'permission';

async function once(opts: BenchOptions, samples: number, kind: Kind): Promise<{ p50: number; p99: number; n: number }> {
  const home = mkdtempSync(join(tmpdir(), 'token-api-bench-notify-'));
  const phone = await startWebhookReceiver();
  const phoneUrl = phone.url;
  writeFileSync(
    join(home, 'config.json'),
    JSON.stringify({
      devices: [{ id: 'pixel-phone', type: 'mobile', tailscale_ip: PHONE_IP, notification_method: 'webhook', webhook_url: phoneUrl }],
      notifications: { ...(kind === 'stop' ? { coalesce_seconds: 0 } : {}), speech: { engine: 'none' }, sound: { player: 'none' } },
    }),
  );
  const server = await startTokenApi(home);
  try {
    const hooks = `${server.url}/api/hooks`;
    const base = { session_id: 'bench-phone', transcript_path: '/tmp/bench.jsonl', cwd: '/home/u/token-api', x_token_api_ssh_client: `${PHONE_IP} 40000 22` };
    await post(hooks, { ...base, hook_event_name: 'SessionStart', source: 'startup' });
    const lat: number[] = [];
    const warmup = 30;
    for (let i = 0; i < warmup + samples; i++) {
      // A permission request needs a turn in progress: a prompt first, untimed.
      if (kind === 'permission' && (await post(hooks, { ...base, hook_event_name: 'UserPromptSubmit', prompt: `turn ${i}` })) !== 200) throw new Error('prompt hook failed');
      const received = phone.next();
      const t0 = performance.now();
      const body = kind === 'stop' ? { ...base, hook_event_name: 'Stop', last_assistant_message: `turn ${i} done` } : { ...base, hook_event_name: 'PermissionRequest', tool_name: 'Bash', tool_input: { command: `rm -rf build-${i}` } };
      const status = await post(hooks, body);
      if (status !== 200) throw new Error(`${body.hook_event_name} hook answered ${status}`);
      const t1 = await received;
      if (i >= warmup) lat.push(t1 - t0);
    }
    lat.sort((a, b) => a - b);
    const r = { p50: percentile(lat, 50), p99: percentile(lat, 99), n: lat.length };
    opts.log(`notify: ${kind === 'stop' ? 'Stop' : 'PermissionRequest'} hook -> webhook received: p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms over ${r.n}`);
    return r;
  } finally {
    await server.stop();
    await phone.close();
    rmSync(home, { recursive: true, force: true });
  }
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const samples = opts.quick ? 100 : 500;
  const results: BenchResult[] = [];
  const kinds: [Kind, string, string][] = [
    ['stop', 'Stop hook arriving -> phone webhook receiver gets the POST (coalescing window 0)', 'sequential Stop hooks'],
    ['permission', 'PermissionRequest hook arriving -> phone webhook receiver gets the POST (default 3 s coalescing window)', 'sequential PermissionRequest hooks (each after an untimed prompt)'],
  ];
  for (const [kind, metric, what] of kinds) {
    const runs: { p50: number; p99: number; n: number }[] = [];
    for (let i = 0; i < Math.max(1, opts.repeats); i++) runs.push(await once(opts, samples, kind));
    const p50 = median(runs.map((r) => r.p50));
    const p99 = median(runs.map((r) => r.p99));
    results.push({
      metric,
      p50_ms: Number(p50.toFixed(2)),
      p99_ms: Number(p99.toFixed(2)),
      target: 'p99 < 50 ms',
      verdict: p99 < 50 ? 'pass' : 'fail',
      notes: `${samples} ${what} per run after 30 warm-up, median of ${runs.length} run(s)`,
      runs,
    });
  }
  return results;
}
