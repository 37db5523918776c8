// Machines and a hub, against the compiled server: (1) how many changes a hub applies per second
// when 10 machines push full frames at once (each frame committed with its cursor before it is
// acknowledged), and the time from frame to ack; (2) freshness: a hook committed on a real
// machine process until the hub's live feed shows the instance, at a steady 100 hooks/s; (3) a
// call from the hub run on the machine (GET /api/mode) and back; (4) the hub's RSS per machine;
// (5) a permission request on the machine until the phone's webhook, sent once by the hub.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { BenchOptions, BenchResult } from './types.js';
import { median, percentile, postJson as post, ROOT, round, rssMb, startTokenApi, startWebhookReceiver, tempHome } from './support.js';

const CLI = join(ROOT, 'bin/token-api.js');

function addToken(home: string, name: string): string {
  return execFileSync(process.execPath, [CLI, 'machines', 'add', name, '--home', home], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
}

const metadata = { host: 'bench', platform: 'linux', arch: 'x64', token_api_version: '0.0.0', home_dir: '/home/b', data_dir: '/home/b/.token-api', agents: [], repos: [] };
const daemonState = () => ({ status: 'running', pid: 1, port: 7777, started_at: new Date().toISOString(), managed_sessions: 0 });

function view(id: string, n: number) {
  const at = new Date().toISOString();
  return {
    id,
    session_id: id,
    agent_type: 'claude',
    display_name: id,
    tab_name: null,
    state: n % 2 ? 'working' : 'idle',
    status: 'active',
    origin: { type: 'local', source_ip: null, device_id: 'desktop' },
    device_id: 'desktop',
    profile: { name: 'profile_1', tts_voice: null, notification_sound: null, color: null },
    pid: 1,
    working_dir: '/home/b/api',
    project: 'api',
    transcript_path: null,
    current_tool: 'Bash',
    tool_count: n,
    subagent_count: 0,
    agent_name: null,
    subagents: [],
    registered_at: at,
    last_activity: at,
    state_since: at,
    stopped_at: null,
    stop_reason: null,
  };
}

/** One simulated machine: registers, then pushes `frames` frames of 200 rows with a window of 4; answers each frame's time to ack. */
async function pushMachine(hubUrl: string, token: string, frames: number): Promise<number[]> {
  const id = randomUUID();
  const res = await fetch(`${hubUrl}/v1/machines`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ id, metadata, daemon_state: daemonState() }) });
  if (!res.ok) throw new Error(`register answered ${res.status}: ${await res.text()}`);
  const ws = new WebSocket(`${hubUrl.replace(/^http/, 'ws')}/v1/machines/connect`, { headers: { authorization: `Bearer ${token}` } });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const lat: number[] = [];
  return new Promise((resolve, reject) => {
    let seq = 0;
    let sent = 0;
    let inFlight = 0;
    const sentAt = new Map<number, number>();
    const send = () => {
      while (inFlight < 4 && sent < frames) {
        const from = seq;
        const instances = Array.from({ length: 20 }, (_, i) => ({ change_seq: ++seq, instance: view(`i-${i}`, seq) }));
        const events = Array.from({ length: 180 }, () => ({ id: ++seq, type: 'hook.pre_tool_use', instance_id: 'i-1', device_id: 'desktop', details: '{"tool":"Bash"}', created_at: new Date().toISOString(), change_seq: seq }));
        sentAt.set(seq, performance.now());
        ws.send(JSON.stringify({ t: 'changes', from, upto: seq, instances, events }));
        sent++;
        inFlight++;
      }
    };
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (m.t === 'welcome') send();
      else if (m.t === 'ack') {
        lat.push(performance.now() - sentAt.get(m.upto)!);
        inFlight--;
        if (lat.length === frames) {
          ws.close();
          resolve(lat);
        } else send();
      }
    });
    ws.on('close', (code) => lat.length < frames && reject(new Error(`closed ${code} after ${lat.length} frames`)));
    ws.send(JSON.stringify({ t: 'hello', v: 1, machine: id, epoch: randomUUID(), boot: randomUUID(), head: frames * 200 }));
  });
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const machines = 10;
  const frames = opts.quick ? 20 : 60;
  const out: BenchResult[] = [];

  // (1) apply throughput
  const rates: number[] = [];
  const p50s: number[] = [];
  const p99s: number[] = [];
  const rss: number[] = [];
  for (let r = 0; r < opts.repeats; r++) {
    const home = tempHome();
    const tokens = Array.from({ length: machines }, (_, i) => addToken(home.dir, `m${i}`));
    const hub = await startTokenApi(home.dir);
    try {
      const before = rssMb(hub.pid);
      const t0 = performance.now();
      const lat = (await Promise.all(tokens.map((t) => pushMachine(hub.url, t, frames)))).flat();
      const s = (performance.now() - t0) / 1000;
      rates.push((machines * frames * 200) / s);
      p50s.push(median(lat));
      p99s.push(percentile(lat, 99));
      rss.push((rssMb(hub.pid) - before) / machines);
      opts.log(`  run ${r + 1}: ${round(rates.at(-1)!)} rows/s, frame to ack p50 ${round(p50s.at(-1)!)} ms p99 ${round(p99s.at(-1)!)} ms`);
    } finally {
      await hub.stop();
      home.cleanup();
    }
  }
  out.push({
    metric: `hub applies machine changes: ${machines} machines pushing 200-row frames (window 4)`,
    p50_ms: round(median(p50s)),
    p99_ms: round(median(p99s)),
    throughput: round(median(rates)),
    unit: 'rows/s',
    target: '>= 1,000 rows/s (a person makes < 100 events/s)',
    verdict: median(rates) >= 1000 ? 'pass' : 'fail',
    notes: `p50/p99: frame sent to ack (committed with the cursor); hub RSS +${round(median(rss))} MB per machine with ${frames * 200} rows each`,
    runs: rates.map((x, i) => ({ rows_per_s: x, p50_ms: p50s[i], p99_ms: p99s[i] })),
  });

  // (2) freshness, (3) call round trip and (4) a machine's permission request to the phone, with a real machine process.
  const phone = await startWebhookReceiver();
  const phoneUrl = phone.url;
  const quiet = { speech: { engine: 'none' }, sound: { player: 'none' } };
  const hubHome = tempHome({
    codex: { enabled: false },
    devices: [{ id: 'desktop', name: 'Desk', type: 'local', notification_method: 'webhook', webhook_url: phoneUrl }],
    notifications: quiet,
  });
  const token = addToken(hubHome.dir, 'laptop');
  const hub = await startTokenApi(hubHome.dir);
  const mHome = tempHome({ hub: { url: hub.url }, codex: { enabled: false }, notifications: quiet });
  writeFileSync(join(mHome.dir, 'hub-token'), token, { mode: 0o600 });
  const machine = await startTokenApi(mHome.dir);
  try {
    const feed = new WebSocket(`${hub.url.replace(/^http/, 'ws')}/ws`);
    const seen = new Map<string, (t: number) => void>();
    feed.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (m.type === 'instance' && m.instance.machine) seen.get(m.instance.session_id)?.(performance.now());
    });
    await new Promise((resolve) => feed.once('open', resolve));
    for (let i = 0; i < 100; i++) {
      const r = await fetch(`${hub.url}/v1/machines/laptop`);
      if (r.ok && ((await r.json()) as { machine: { connected: boolean } }).machine.connected) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const n = opts.quick ? 200 : 600;
    const fresh: number[] = [];
    const waits: Promise<void>[] = [];
    const tStart = performance.now();
    for (let i = 0; i < n; i++) {
      const sid = `fresh-${i}`;
      const t0 = performance.now();
      waits.push(new Promise<void>((resolve) => seen.set(sid, (t) => (fresh.push(t - t0), seen.delete(sid), resolve()))));
      const res = await fetch(`${machine.url}/api/hooks?pid=${process.pid}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session_id: sid, transcript_path: `/tmp/${sid}.jsonl`, cwd: '/home/b/api', hook_event_name: 'SessionStart', source: 'startup' }) });
      await res.arrayBuffer();
      const next = tStart + (i + 1) * 10; // 100 hooks/s
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 30_000))]);
    feed.close();
    out.push({
      metric: 'freshness: hook committed on a machine -> instance on the hub\'s feed, 100 hooks/s',
      p50_ms: round(median(fresh)),
      p99_ms: round(percentile(fresh, 99)),
      target: 'every one seen, p99 < 250 ms (far under a heartbeat)',
      verdict: fresh.length === n && percentile(fresh, 99) < 250 ? 'pass' : 'fail',
      notes: `${fresh.length}/${n} seen; from the hook's POST to the feed message (the hook's own answer included)`,
    });
    const rtt: number[] = [];
    for (let i = 0; i < (opts.quick ? 200 : 1000); i++) {
      const t0 = performance.now();
      const res = await fetch(`${hub.url}/v1/machines/laptop/api`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"method":"GET","path":"/api/mode"}' });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`call answered ${res.status}`);
      rtt.push(performance.now() - t0);
    }
    out.push({
      metric: 'a call from the hub run on a machine (POST /v1/machines/{id}/api, GET /api/mode)',
      p50_ms: round(median(rtt), 2),
      p99_ms: round(percentile(rtt, 99), 2),
      target: 'p99 < 100 ms on loopback (the call deadline is 10 s)',
      verdict: percentile(rtt, 99) < 100 ? 'pass' : 'fail',
      notes: 'HTTP to the hub, a frame to the machine, the request run in-process there, a frame back',
    });
    const hooks = `${machine.url}/api/hooks?pid=${process.pid}`;
    const base = { session_id: 'bench-remote-wait', transcript_path: '/tmp/bench-remote.jsonl', cwd: '/home/b/api' };
    await post(hooks, { ...base, hook_event_name: 'SessionStart', source: 'startup' });
    const urgent: number[] = [];
    const samples = opts.quick ? 50 : 200;
    for (let i = 0; i < 10 + samples; i++) {
      await post(hooks, { ...base, hook_event_name: 'UserPromptSubmit', prompt: `turn ${i}` });
      const received = phone.next();
      const t0 = performance.now();
      const status = await post(hooks, { ...base, hook_event_name: 'PermissionRequest', tool_name: 'Bash', tool_input: { command: `make ${i}` } });
      if (status !== 200) throw new Error(`PermissionRequest hook answered ${status}`);
      const t1 = await Promise.race([received, new Promise<number>((_, reject) => setTimeout(() => reject(new Error('the hub sent no webhook within 10 s')), 10_000))]);
      if (i >= 10) urgent.push(t1 - t0);
    }
    out.push({
      metric: 'a permission request on a machine -> the phone\'s webhook, sent once by the hub',
      p50_ms: round(median(urgent), 2),
      p99_ms: round(percentile(urgent, 99), 2),
      target: 'p99 < 250 ms on loopback (a person is waiting)',
      verdict: percentile(urgent, 99) < 250 ? 'pass' : 'fail',
      notes: `${samples} sequential PermissionRequest hooks on the machine; the hook, the machine's commit, a frame to the hub, the hub's routing and commit, the POST received`,
    });
  } finally {
    await machine.stop();
    await hub.stop();
    await phone.close();
    hubHome.cleanup();
    mHome.cleanup();
  }
  return out;
}
