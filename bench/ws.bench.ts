// The live feed and the dashboard. (1) From a hook POST to its event message arriving at each
// of 100 connected WebSocket clients, at a steady 200 events/s, against the real token-api
// process on loopback; the clients and the hook sender share one separate process (one
// clock). Target: p99 under 20 ms. (2) The dashboard keeping up with 1,000 events/s: the
// real dashboard (feed client, store, blessed screen on a fake terminal) in its own process,
// fed protocol messages at that rate by a feed in this process; its heap after GC must not
// grow, its store must be current at the end, and it paints at most 20 times a second.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { startServerProcess } from '../test/support/process.js';
import { median, round, tempHome } from './support.js';
import type { BenchOptions, BenchResult } from './types.js';

const CLIENTS = fileURLToPath(new URL('./ws-clients.ts', import.meta.url));
const TUI = fileURLToPath(new URL('./tui-load.ts', import.meta.url));

interface FanOut {
  samples: number;
  expected: number;
  missing: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  http_p50_ms: number;
  http_p99_ms: number;
}

function runChild<T>(args: string[]): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      const lines = out.trim().split('\n').filter(Boolean);
      try {
        resolve(lines.map((l) => JSON.parse(l) as T));
      } catch {
        reject(new Error(`${args.at(-2) ?? 'child'} failed (${code}): ${err || out}`));
      }
    });
  });
}

async function fanOutOnce(opts: BenchOptions): Promise<FanOut> {
  const home = tempHome({ notifications: { speech: { engine: 'none' }, sound: { player: 'none' } } });
  const server = await startServerProcess(home.dir);
  try {
    const [r] = await runChild<FanOut>(['--import', 'tsx', CLIENTS, JSON.stringify({ url: server.url, clients: 100, rate: 200, durationS: opts.quick ? 6 : 15, warmupS: 1 })]);
    if (!r) throw new Error('the WebSocket clients reported nothing');
    return r;
  } finally {
    await server.kill('SIGTERM');
    home.cleanup();
  }
}

interface TuiSample {
  t: number;
  rss_mb: number;
  heap_mb: number;
  seq: number | null;
  paints: number;
}

/** A feed in this process: a snapshot, then 1,000 events a second (and an instance change with every tenth). */
async function tuiOnce(opts: BenchOptions): Promise<{ samples: TuiSample[]; lastSeq: number; seconds: number }> {
  const seconds = opts.quick ? 8 : 20;
  const http = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, path: '/ws' });
  const at = () => new Date().toISOString();
  const base = 1_000_000;
  let seq = base;
  const instances = Array.from({ length: 10 }, (_, n) => ({
    id: `claude-${n}`,
    session_id: `s-${n}`,
    agent_type: 'claude',
    display_name: `Claude #${n + 1}`,
    tab_name: null,
    state: 'working',
    status: 'active',
    origin: { type: 'local', source_ip: null, device_id: 'desktop' },
    device_id: 'desktop',
    profile: { name: `profile_${n + 1}`, tts_voice: 'en-us', notification_sound: 'chimes.wav', color: '#0099ff' },
    pid: 1000 + n,
    working_dir: '/home/u/project',
    transcript_path: null,
    current_tool: 'Bash',
    tool_count: 0,
    subagent_count: 0,
    registered_at: at(),
    last_activity: at(),
    state_since: at(),
    stopped_at: null,
    stop_reason: null,
  }));
  let timer: NodeJS.Timeout | undefined;
  wss.on('connection', (ws: WebSocket) => {
    ws.send(
      JSON.stringify({
        type: 'snapshot',
        seq,
        at: at(),
        server: { service: 'token-api', version: 'bench', started_at: at() },
        instances,
        mode: null,
        gate: null,
        events: [],
        usage: { instances: {}, today: { day: at().slice(0, 10), timezone: 'UTC', devices: {} } },
      }),
    );
    const start = performance.now();
    let sent = 0;
    const tick = () => {
      const due = Math.floor((performance.now() - start) * 1); // 1,000 per second
      while (sent < due) {
        sent += 1;
        const n = sent % 10;
        ws.send(
          JSON.stringify({
            type: 'event',
            seq: ++seq,
            at: at(),
            event: { type: 'hook.post_tool_use', instance_id: `claude-${n}`, device_id: 'desktop', details: { from: 'working', to: 'working', payload: { tool_name: 'Bash', tool_input: { command: `step ${sent}` } } }, created_at: at() },
          }),
        );
        if (sent % 10 === 0) ws.send(JSON.stringify({ type: 'instance', seq: ++seq, at: at(), instance: { ...instances[n]!, tool_count: sent, current_tool: `Tool${sent}` } }));
      }
      timer = setTimeout(tick, 10);
    };
    tick();
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  try {
    const samples = await runChild<TuiSample>(['--expose-gc', '--import', 'tsx', TUI, url, String(seconds)]);
    return { samples, lastSeq: seq, seconds };
  } finally {
    clearTimeout(timer);
    for (const c of wss.clients) c.terminate();
    wss.close();
    http.close();
  }
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const fan: FanOut[] = [];
  for (let i = 0; i < opts.repeats; i++) {
    const r = await fanOutOnce(opts);
    opts.log(`  fan-out run ${i + 1}: p50 ${round(r.p50_ms)} ms, p99 ${round(r.p99_ms)} ms, max ${round(r.max_ms)} ms, ${r.samples} samples, ${r.missing} missing; POST p99 ${round(r.http_p99_ms)} ms`);
    fan.push(r);
  }
  const p99 = median(fan.map((r) => r.p99_ms));
  const missing = Math.max(...fan.map((r) => r.missing));

  const tui: { growth: number; behind: number; paintsPerS: number; rss: number; runs: unknown }[] = [];
  for (let i = 0; i < opts.repeats; i++) {
    const r = await tuiOnce(opts);
    const s = r.samples;
    // After the first seconds (connection, first paints, JIT), heap after GC must stay flat.
    const settled = s.filter((x) => x.t >= 3);
    const first = settled[0];
    const last = s.at(-1);
    if (!first || !last) throw new Error('the dashboard reported too few samples');
    const growth = last.heap_mb - first.heap_mb;
    const behind = r.lastSeq - (last.seq ?? 0);
    const paintsPerS = (last.paints - first.paints) / Math.max(1, last.t - first.t);
    opts.log(`  dashboard run ${i + 1}: heap ${round(first.heap_mb)} -> ${round(last.heap_mb)} MB, rss ${round(first.rss_mb)} -> ${round(last.rss_mb)} MB, ${round(paintsPerS)} paints/s, ${behind} messages behind at the end`);
    tui.push({ growth, behind, paintsPerS, rss: last.rss_mb, runs: r.samples });
  }
  const growth = median(tui.map((t) => t.growth));
  const behind = Math.max(...tui.map((t) => t.behind));
  const paints = median(tui.map((t) => t.paintsPerS));

  return [
    {
      metric: 'hook POST -> event message at 100 WebSocket clients, 200 events/s',
      p50_ms: round(median(fan.map((r) => r.p50_ms))),
      p99_ms: round(p99),
      target: 'p99 < 20 ms, none missing',
      verdict: p99 < 20 && missing === 0 ? 'pass' : 'fail',
      notes: `missing ${missing}; POST answer p99 ${round(median(fan.map((r) => r.http_p99_ms)))} ms under the same load`,
      runs: fan,
    },
    {
      metric: 'dashboard at 1,000 events/s: heap growth after GC',
      throughput: round(growth),
      unit: 'MB',
      target: '< 5 MB growth, current at the end, <= 20 paints/s',
      verdict: growth < 5 && behind <= 1500 && paints <= 20.5 ? 'pass' : 'fail',
      notes: `${round(paints)} paints/s; ${behind} messages behind at the end; rss ${round(median(tui.map((t) => t.rss)))} MB`,
      runs: tui.map((t) => t.runs),
    },
  ];
}
