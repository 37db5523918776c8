// `npm run bench [-- --quick] [--only AREA] [--repeats N]`: builds the server, runs every
// bench/*.bench.ts against real processes on loopback, prints one table and writes
// bench/results.json with a description of the machine. Never part of `npm test`.
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './support.js';
import type { BenchModule, BenchResult } from './types.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    repeats: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(`npm run bench [-- --quick] [--only AREA] [--repeats N]

  --quick       a short run (about a minute): shorter loads, smaller corpora
  --only AREA   run only bench/AREA.bench.ts (e.g. core, gate, hooks, notify, sessions, usage, ws, web)
  --repeats N   repeat each measurement N times and report the median (default 3, quick 3)

Prints one table and writes bench/results.json.
`);
  process.exit(0);
}
const quick = values.quick ?? false;
const repeats = Number(values.repeats ?? 3);
const log = (line: string) => process.stderr.write(`${line}\n`);

log('building dist/ …');
execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });

const files = readdirSync(join(ROOT, 'bench'))
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => !values.only || f === `${values.only}.bench.ts`)
  .sort((a, b) => (a === 'core.bench.ts' ? -1 : b === 'core.bench.ts' ? 1 : a.localeCompare(b)));
if (files.length === 0) {
  log(`no benchmark matches ${values.only ?? '*'}`);
  process.exit(2);
}

const all: (BenchResult & { area: string })[] = [];
for (const f of files) {
  const area = f.replace('.bench.ts', '');
  log(`\n== ${area} ==`);
  const mod = (await import(join(ROOT, 'bench', f))) as BenchModule;
  try {
    for (const r of await mod.run({ quick, repeats, log })) all.push({ area, ...r });
  } catch (err) {
    log(`  ${area} failed: ${(err as Error).stack ?? err}`);
    all.push({ area, metric: `${area}: benchmark failed`, target: '-', verdict: 'fail', notes: String((err as Error).message) });
  }
}

const fmt = (x: number | undefined, d = 1) => (x === undefined || !Number.isFinite(x) ? '' : String(Math.round(x * 10 ** d) / 10 ** d));
const rows = all.map((r) => [r.metric, fmt(r.p50_ms), fmt(r.p99_ms), r.throughput === undefined ? '' : `${fmt(r.throughput, 1)} ${r.unit ?? ''}`.trim(), r.target, r.verdict, r.notes ?? '']);
const head = ['metric', 'p50 ms', 'p99 ms', 'throughput', 'target', 'verdict', 'notes'];
const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((row) => row[i]!.length))));
const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
process.stdout.write(`\n${line(head)}\n${line(widths.map((w) => '-'.repeat(w)))}\n${rows.map(line).join('\n')}\n`);

let commit = '';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
} catch {
  commit = 'unknown';
}
const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memory_gb: Math.round(totalmem() / 2 ** 30),
  os: `${osType()} ${release()}`,
  node: process.version,
};
writeFileSync(
  join(ROOT, 'bench/results.json'),
  `${JSON.stringify({ at: new Date().toISOString(), commit, quick, repeats, machine, results: all }, null, 2)}\n`,
);
log(`\nwrote bench/results.json (${all.length} results; ${all.filter((r) => r.verdict === 'fail').length} below target)`);
