// The dashboard under load, run as its own process: the real dashboard (feed client, store,
// blessed screen on a fake 80x24 terminal) connected to the feed URL given, reporting once a
// second as a JSON line: resident memory, heap in use after a full GC, the last seq its store
// applied, and how many times it painted.
//   node --expose-gc --import tsx bench/tui-load.ts BASE_URL SECONDS
import { PassThrough } from 'node:stream';
import { systemClock } from '../src/lib/clock.js';
import { startDashboard } from '../src/tui/dashboard.js';

const [baseUrl = '', secondsText = '10'] = process.argv.slice(2);
const seconds = Number(secondsText);
const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined });
const output = Object.assign(new PassThrough(), { isTTY: true, columns: 80, rows: 24 });
let bytes = 0;
output.on('data', (d: Buffer) => (bytes += d.length));

const dashboard = startDashboard({ baseUrl, clock: systemClock, input, output });
const gc = (globalThis as { gc?: () => void }).gc;
const start = performance.now();

function sample(): void {
  gc?.();
  const m = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({
      t: Math.round((performance.now() - start) / 100) / 10,
      rss_mb: m.rss / 2 ** 20,
      heap_mb: m.heapUsed / 2 ** 20,
      seq: dashboard.store.getSnapshot().context.seq,
      paints: dashboard.screen.paints(),
      output_kb: Math.round(bytes / 1024),
    })}\n`,
  );
}

const timer = setInterval(sample, 1000);
setTimeout(() => {
  clearInterval(timer);
  sample();
  dashboard.stop();
  process.exit(0);
}, seconds * 1000);
