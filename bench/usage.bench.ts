// Token usage speed: a cold full scan of a generated transcript corpus (100 MB quick, 1 GB
// full) by `token-api usage daily --json`, beside `ccusage daily --json --offline` (18.0.11)
// on the same corpus in the same run: MB/s, peak RSS, and the ratio (target: 10x ccusage's
// throughput, peak memory under 200 MB). Then the live path: a response appended to an
// instance's transcript, followed by its Stop hook, reaching GET /api/instances/{id} of a
// real server process (target: under 100 ms). Both sides run as separate processes.
import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateCorpus } from '../test/support/transcripts.js';
import { median, percentile, round as rounded, startTokenApi } from './support.js';
import type { BenchOptions, BenchResult } from './types.js';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RSS = fileURLToPath(new URL('./max-rss.mjs', import.meta.url));
const BIN = join(ROOT, 'bin', 'token-api.js');
const CCUSAGE = join(dirname(createRequire(import.meta.url).resolve('ccusage/package.json')), 'dist', 'index.js');

const round = (n: number, d = 1) => rounded(n, d);

/** A corpus of about `mb` MB, generated once and kept in the temporary directory between runs. */
function corpus(mb: number, log: (l: string) => void): { claudeDir: string; bytes: number } {
  const dir = join(tmpdir(), `token-api-bench-usage-${mb}MB-v2`);
  const marker = join(dir, 'complete.json');
  if (existsSync(marker)) return JSON.parse(readFileSync(marker, 'utf8')) as { claudeDir: string; bytes: number };
  rmSync(dir, { recursive: true, force: true });
  log(`usage bench: generating a ${mb} MB corpus in ${dir}`);
  const claudeDir = join(dir, 'claude');
  // Dense like a tool-heavy session: responses of up to four lines (thinking, text, tool use)
  // around 1 KB each, tool results of a few KB.
  const c = generateCorpus({ claudeDir, targetBytes: mb * 1e6, responsesPerSession: 400, toolResultBytes: 1500, textBytes: [60, 900], maxBlocks: 4, seed: 42, days: 30 });
  const info = { claudeDir, bytes: c.bytes };
  writeFileSync(marker, JSON.stringify(info));
  return info;
}

interface Timed {
  seconds: number;
  rssBytes: number;
  stdout: string;
}

async function timed(args: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  const rssFile = join(mkdtempSync(join(tmpdir(), 'token-api-rss-')), 'rss');
  const t0 = performance.now();
  const { stdout } = await exec(process.execPath, ['--import', RSS, ...args], { env: { ...process.env, ...env, BENCH_RSS_FILE: rssFile }, maxBuffer: 256 * 1024 * 1024 });
  const seconds = (performance.now() - t0) / 1000;
  const rssBytes = Number(readFileSync(rssFile, 'utf8'));
  rmSync(dirname(rssFile), { recursive: true, force: true });
  return { seconds, rssBytes, stdout };
}

function claudeTotal(json: string, shape: 'ours' | 'ccusage'): number {
  const j = JSON.parse(json) as { rows?: { model: string; total_tokens: number }[]; daily?: { modelBreakdowns: { modelName: string; inputTokens: number; outputTokens: number; cacheCreationTokens: number; cacheReadTokens: number }[] }[] };
  if (shape === 'ours') return j.rows!.filter((r) => r.model.startsWith('claude-')).reduce((n, r) => n + r.total_tokens, 0);
  return j.daily!.flatMap((d) => d.modelBreakdowns).reduce((n, b) => n + b.inputTokens + b.outputTokens + b.cacheCreationTokens + b.cacheReadTokens, 0);
}

async function scanBench(opts: BenchOptions): Promise<BenchResult[]> {
  const mb = opts.quick ? 100 : 1000;
  const c = corpus(mb, opts.log);
  const realMb = c.bytes / 1e6;
  const ours: Timed[] = [];
  const theirs: Timed[] = [];
  let agree = true;
  for (let i = 0; i < opts.repeats; i += 1) {
    const home = mkdtempSync(join(tmpdir(), 'token-api-bench-home-'));
    writeFileSync(join(home, 'config.json'), JSON.stringify({ usage_claude_dirs: [c.claudeDir], usage_codex_dirs: [join(home, 'no-codex')] }));
    const a = await timed([BIN, 'usage', 'daily', '--json', '--breakdown', '--quiet', '--home', home], {});
    rmSync(home, { recursive: true, force: true });
    ours.push(a);
    opts.log(`usage bench: token-api scanned ${round(realMb)} MB in ${round(a.seconds, 2)} s, peak RSS ${round(a.rssBytes / 1e6)} MB`);
    // ccusage keeps everything in memory: give it all the heap it wants, so it finishes.
    const b = await timed([CCUSAGE, 'daily', '--json', '--offline', '--timezone', 'UTC'], { CLAUDE_CONFIG_DIR: c.claudeDir, NODE_OPTIONS: '--max-old-space-size=16384' });
    theirs.push(b);
    opts.log(`usage bench: ccusage scanned ${round(realMb)} MB in ${round(b.seconds, 2)} s, peak RSS ${round(b.rssBytes / 1e6)} MB`);
    agree &&= claudeTotal(a.stdout, 'ours') === claudeTotal(b.stdout, 'ccusage');
  }
  const oursMbps = realMb / median(ours.map((r) => r.seconds));
  const theirMbps = realMb / median(theirs.map((r) => r.seconds));
  const ratio = oursMbps / theirMbps;
  const oursRss = Math.max(...ours.map((r) => r.rssBytes)) / 1e6;
  const theirRss = median(theirs.map((r) => r.rssBytes)) / 1e6;
  const runs = ours.map((r, i) => ({ token_api_s: round(r.seconds, 3), token_api_rss_mb: round(r.rssBytes / 1e6), ccusage_s: round(theirs[i]!.seconds, 3), ccusage_rss_mb: round(theirs[i]!.rssBytes / 1e6) }));
  return [
    {
      metric: `usage: cold full scan of a ${Math.round(realMb)} MB corpus (token-api usage daily --json)`,
      throughput: round(oursMbps, 1),
      unit: 'MB/s',
      target: '>= 10x the throughput of ccusage 18.0.11 on the same corpus',
      verdict: ratio >= 10 ? 'pass' : 'fail',
      notes: `ccusage ${round(theirMbps, 2)} MB/s; ratio ${round(ratio, 1)}x; totals ${agree ? 'agree' : 'DIFFER'} with ccusage`,
      runs,
    },
    {
      metric: `usage: peak RSS of that scan`,
      throughput: round(oursRss, 1),
      unit: 'MB',
      target: '< 200 MB whatever the corpus size',
      verdict: oursRss < 200 ? 'pass' : 'fail',
      notes: `ccusage peaked at ${round(theirRss)} MB on the same corpus`,
    },
  ];
}

async function liveBench(opts: BenchOptions): Promise<BenchResult> {
  const home = mkdtempSync(join(tmpdir(), 'token-api-bench-live-'));
  const claudeDir = join(home, 'claude');
  const transcript = join(claudeDir, 'projects', '-home-dev-bench', 'bench-live.jsonl');
  mkdirSync(dirname(transcript), { recursive: true });
  writeFileSync(transcript, '');
  writeFileSync(join(home, 'config.json'), JSON.stringify({ usage_claude_dirs: [claudeDir], usage_codex_dirs: [join(home, 'codex')], usage_live_interval_seconds: 0 }));
  const server = await startTokenApi(home);
  const url = server.url;
  const hook = (name: string) =>
    fetch(`${url}/api/hooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ session_id: 'bench-live', transcript_path: transcript, cwd: '/home/dev/bench', hook_event_name: name }),
    }).then((r) => r.text());
  const samples: number[] = [];
  try {
    await hook('SessionStart');
    const n = opts.quick ? 30 : 200;
    for (let i = 1; i <= n; i += 1) {
      await hook('UserPromptSubmit');
      const line = JSON.stringify({
        sessionId: 'bench-live',
        type: 'assistant',
        uuid: `u-${i}`,
        timestamp: new Date().toISOString(),
        requestId: `req_bench_${i}`,
        message: { id: `msg_bench_${i}`, model: 'claude-sonnet-4-5-20250929', role: 'assistant', content: [{ type: 'text', text: 'done' }], usage: { input_tokens: 3, output_tokens: 100, cache_creation_input_tokens: 0, cache_read_input_tokens: 5000 } },
      });
      const t0 = performance.now();
      appendFileSync(transcript, `${line}\n`);
      await hook('Stop');
      for (let polls = 0; ; polls += 1) {
        const r = (await (await fetch(`${url}/api/instances/claude-bench-live`)).json()) as { usage?: { records: number } };
        if ((r.usage?.records ?? 0) >= i) break;
        if (polls > 5000) throw new Error('the appended line never reached the API');
      }
      samples.push(performance.now() - t0);
    }
  } finally {
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  }
  const p99 = percentile(samples, 99);
  return {
    metric: 'usage: a response appended to a transcript, then its Stop hook, until GET /api/instances/{id} shows it',
    p50_ms: round(percentile(samples, 50), 2),
    p99_ms: round(p99, 2),
    target: 'p99 < 100 ms (the same commit feeds token_usage_update listeners)',
    verdict: p99 < 100 ? 'pass' : 'fail',
    notes: `${samples.length} responses`,
    runs: samples.map((s) => round(s, 2)),
  };
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const scan = await scanBench(opts);
  const live = await liveBench(opts);
  return [...scan, live];
}
