// A load client for latency at a steady rate: sends requests at a fixed rate (open loop: on
// schedule whether or not earlier answers came back) over keep-alive connections, and
// prints {count, errors, p50_ms, p99_ms, max_ms, seconds} as JSON. Latency is measured with
// hrtime from the request's dispatch to the end of its answer (microsecond resolution).
//   node --import tsx bench/rate-client.ts '{"url": ..., "rate": 1000, "durationMs": 5000, "method": "POST", "bodies": [...]}'
import { Agent, request } from 'node:http';

interface RateArgs {
  url: string;
  rate: number;
  durationMs: number;
  method?: string;
  /** Request bodies, used in turn (JSON). */
  bodies?: string[];
}

const args = JSON.parse(process.argv[2] ?? '{}') as RateArgs;
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const latencies: number[] = [];
let errors = 0;
let inFlight = 0;
const total = Math.round((args.rate * args.durationMs) / 1000);
const start = performance.now();
let sent = 0;

function fire(n: number): void {
  const t0 = process.hrtime.bigint();
  inFlight += 1;
  const body = args.bodies && args.bodies.length > 0 ? args.bodies[n % args.bodies.length]! : undefined;
  const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  const req = request(args.url, { agent, method: args.method ?? 'GET', headers }, (res) => {
    res.resume();
    res.on('end', () => {
      inFlight -= 1;
      if (res.statusCode !== undefined && res.statusCode < 300) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      else errors += 1;
      maybeDone();
    });
  });
  req.on('error', () => {
    inFlight -= 1;
    errors += 1;
    maybeDone();
  });
  req.end(body);
}

function tick(): void {
  const due = Math.min(total, Math.floor(((performance.now() - start) * args.rate) / 1000) + 1);
  while (sent < due) fire(sent++);
  if (sent < total) setTimeout(tick, Math.max(0, (sent * 1000) / args.rate - (performance.now() - start)));
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function maybeDone(): void {
  if (sent < total || inFlight > 0) return;
  const sorted = latencies.sort((a, b) => a - b);
  process.stdout.write(
    `${JSON.stringify({ count: sorted.length, errors, p50_ms: pct(sorted, 50), p99_ms: pct(sorted, 99), max_ms: sorted[sorted.length - 1] ?? NaN, seconds: (performance.now() - start) / 1000 })}\n`,
  );
  agent.destroy();
}

tick();
