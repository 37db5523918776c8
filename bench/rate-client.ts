// A load client for latency at a steady rate: sends GET requests to one URL at a fixed rate
// (open loop: on schedule whether or not earlier answers came back) over keep-alive
// connections, and prints {count, errors, p50_ms, p99_ms, max_ms} as JSON. Latency is
// measured with hrtime from the request's dispatch to the end of its answer.
//   node --import tsx bench/rate-client.ts URL RATE_PER_S DURATION_MS
import { Agent, request } from 'node:http';

const [url = '', rateText = '1000', durationText = '5000'] = process.argv.slice(2);
const rate = Number(rateText);
const duration = Number(durationText);
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const latencies: number[] = [];
let errors = 0;
let inFlight = 0;
const total = Math.round((rate * duration) / 1000);
const start = performance.now();
let sent = 0;

function fire(): void {
  const t0 = process.hrtime.bigint();
  inFlight += 1;
  const req = request(url, { agent, method: 'GET' }, (res) => {
    res.resume();
    res.on('end', () => {
      inFlight -= 1;
      if (res.statusCode === 200) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      else errors += 1;
      maybeDone();
    });
  });
  req.on('error', () => {
    inFlight -= 1;
    errors += 1;
    maybeDone();
  });
  req.end();
}

function tick(): void {
  const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
  while (sent < due) {
    sent += 1;
    fire();
  }
  if (sent < total) setTimeout(tick, Math.max(0, ((sent * 1000) / rate) - (performance.now() - start)));
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
