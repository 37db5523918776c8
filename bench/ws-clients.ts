// Load client for the live feed, run as its own process: opens N WebSocket clients on the
// feed, then sends hooks at a steady rate (open loop, keep-alive) and times, on this process's
// one clock, each hook from its POST to its event message arriving at every client. Each hook
// carries a unique tool name, found in the raw message text without parsing it.
//   node --import tsx bench/ws-clients.ts '{"url":…,"clients":100,"rate":200,"durationS":10,"warmupS":1}'
// Prints one JSON line: {samples, expected, missing, p50_ms, p99_ms, max_ms, http_p50_ms, http_p99_ms}.
import { Agent, request } from 'node:http';
import WebSocket from 'ws';

interface Args {
  url: string;
  clients: number;
  rate: number;
  durationS: number;
  warmupS: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const wsUrl = `${args.url.replace(/^http/, 'ws')}/ws`;
const agent = new Agent({ keepAlive: true, maxSockets: 32 });
const MARK = /"tool_name":"wsb-(\d+)"/;

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function post(body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${args.url}/api/hooks`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const sentAt = new Map<number, number>();
const latencies: number[] = [];
const httpLatencies: number[] = [];
let received = 0;
let measuredFrom = Infinity;

async function main(): Promise<void> {
  const sockets: WebSocket[] = [];
  await Promise.all(
    Array.from({ length: args.clients }, () =>
      new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
        sockets.push(ws);
        ws.on('error', reject);
        ws.on('open', () => resolve());
        ws.on('message', (data: Buffer) => {
          const m = MARK.exec(data.toString('latin1'));
          if (!m) return;
          const n = Number(m[1]);
          const t = sentAt.get(n);
          if (t === undefined) return;
          received += 1;
          if (n >= measuredFrom) latencies.push(performance.now() - t);
        });
      }),
    ),
  );

  // Ten sessions, each alternating PreToolUse and PostToolUse, like agents at work.
  const body = (n: number) =>
    JSON.stringify({
      session_id: `wsb-session-${n % 10}`,
      transcript_path: `/tmp/wsb-${n % 10}.jsonl`,
      cwd: '/home/u/project',
      hook_event_name: Math.floor(n / 10) % 2 === 0 ? 'PreToolUse' : 'PostToolUse',
      tool_name: `wsb-${n}`,
      tool_input: { command: `npm test -- case-${n}` },
    });

  const total = Math.round(args.rate * args.durationS);
  const warm = Math.round(args.rate * args.warmupS);
  measuredFrom = warm;
  const start = performance.now();
  let sent = 0;
  const inFlight = new Set<Promise<void>>();
  await new Promise<void>((done) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * args.rate) / 1000) + 1);
      while (sent < due) {
        const n = sent++;
        const t = performance.now();
        sentAt.set(n, t);
        const p = post(body(n)).then(
          (status) => {
            if (status === 200 && n >= warm) httpLatencies.push(performance.now() - t);
          },
          () => undefined,
        );
        inFlight.add(p);
        void p.then(() => inFlight.delete(p));
      }
      if (sent < total) setTimeout(tick, Math.max(0, (sent * 1000) / args.rate - (performance.now() - start)));
      else done();
    };
    tick();
  });
  await Promise.all(inFlight);
  // Let the last messages arrive: until every client has every hook, or a second of silence.
  const expected = total * args.clients;
  let last = received;
  for (let i = 0; i < 50 && received < expected; i++) {
    await new Promise((r) => setTimeout(r, 100));
    if (received === last && i > 10) break;
    last = received;
  }
  for (const ws of sockets) ws.terminate();
  agent.destroy();
  const sorted = latencies.sort((a, b) => a - b);
  const http = httpLatencies.sort((a, b) => a - b);
  process.stdout.write(
    `${JSON.stringify({
      samples: sorted.length,
      expected,
      missing: expected - received,
      p50_ms: pct(sorted, 50),
      p99_ms: pct(sorted, 99),
      max_ms: sorted.at(-1) ?? NaN,
      http_p50_ms: pct(http, 50),
      http_p99_ms: pct(http, 99),
    })}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
