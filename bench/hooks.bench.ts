// What a hook costs the agent. (1) The hook script's whole cost per call as Claude Code pays
// it (spawn `sh -c <the installed command>`, POST, exit) against a real token-api process,
// beside a bare `curl` spawned the same way to a server that does nothing: p50/p99 over 500
// sequential calls, and the ratio (target: within 1.3x). (2) Native http hooks: one event's
// round trip to a real token-api from a separate client process, p99 (target: under 2 ms).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, percentile, round, startTokenApi, type Proc } from './support.js';
import type { BenchOptions, BenchResult } from './types.js';

const SCRIPT = fileURLToPath(new URL('../hooks/token-api-hook.sh', import.meta.url));
const CLIENT = fileURLToPath(new URL('./http-hook-client.mjs', import.meta.url));

const NOTHING_SERVER = `require('http').createServer((q, r) => { q.resume(); q.on('end', () => { r.statusCode = 204; r.end(); }); })
  .listen(0, '127.0.0.1', function () { process.stdout.write('listening on http://127.0.0.1:' + this.address().port + '\\n'); });`;

function payload(i: number): string {
  return JSON.stringify({
    session_id: 'bench-script',
    transcript_path: '/home/u/.claude/projects/p/bench-script.jsonl',
    cwd: '/home/u/project',
    permission_mode: 'default',
    hook_event_name: i % 2 === 0 ? 'PreToolUse' : 'PostToolUse',
    tool_name: 'Bash',
    tool_input: { command: `npm test -- --grep case-${i}`, description: 'Run the tests' },
  });
}

/** Spawns `sh -c command` with the payload on stdin and resolves with the wall time until it exits. */
function timeCall(command: string, input: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn('/bin/sh', ['-c', command], { env, stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - t) : reject(new Error(`${command} exited ${code}`))));
    child.stdin.end(input);
  });
}


function startNothingServer(): Promise<{ url: string; stop: () => void }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', NOTHING_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (d: Buffer) => {
      const m = /listening on (\S+)/.exec(d.toString());
      if (m) resolve({ url: m[1]!, stop: () => child.kill('SIGKILL') });
    });
    child.on('error', reject);
  });
}

function runClient(url: string, count: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLIENT, url, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`client exited ${code}`))));
  });
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const calls = opts.quick ? 100 : 500;
  const home = mkdtempSync(join(tmpdir(), 'token-api-bench-hooks-'));
  let server: Proc | undefined;
  let nothing: { url: string; stop: () => void } | undefined;
  try {
    server = await startTokenApi(home, [], { CODEX_HOME: join(home, 'no-codex') });
    nothing = await startNothingServer();
    const env = { ...process.env, TOKEN_API_URL: server.url, TOKEN_API_HOME: home };
    // What `token-api hooks install` writes, and what a bare curl hook would be.
    const scriptCommand = `exec sh '${SCRIPT}' PreToolUse`;
    const curlCommand = `curl -q -s -o /dev/null -H 'Content-Type: application/json' --data-binary @- '${nothing.url}/'`;

    // Warm-up: the page cache, the server's JIT, the first registration.
    for (let i = 0; i < 20; i++) {
      await timeCall(scriptCommand, payload(i), env);
      await timeCall(curlCommand, payload(i), env);
    }

    const runs: { script: { p50: number; p99: number }; curl: { p50: number; p99: number }; native: { p50: number; p99: number } }[] = [];
    for (let r = 0; r < opts.repeats; r++) {
      const script: number[] = [];
      const curl: number[] = [];
      // Interleaved, so that both see the same machine load.
      for (let i = 0; i < calls; i++) {
        script.push(await timeCall(scriptCommand, payload(i), env));
        curl.push(await timeCall(curlCommand, payload(i), env));
      }
      const native = await runClient(`${server.url}/api/hooks?reply=none`, calls);
      runs.push({
        script: { p50: percentile(script, 50), p99: percentile(script, 99) },
        curl: { p50: percentile(curl, 50), p99: percentile(curl, 99) },
        native: { p50: percentile(native, 50), p99: percentile(native, 99) },
      });
      opts.log(`hooks run ${r + 1}/${opts.repeats}: script p50 ${round(runs.at(-1)!.script.p50)} ms, bare curl p50 ${round(runs.at(-1)!.curl.p50)} ms, native p99 ${round(runs.at(-1)!.native.p99)} ms`);
    }

    const s50 = median(runs.map((x) => x.script.p50));
    const s99 = median(runs.map((x) => x.script.p99));
    const c50 = median(runs.map((x) => x.curl.p50));
    const c99 = median(runs.map((x) => x.curl.p99));
    const n50 = median(runs.map((x) => x.native.p50));
    const n99 = median(runs.map((x) => x.native.p99));
    const ratio = s50 / c50;
    return [
      {
        metric: `hook script per call as Claude Code pays it (sh -c, POST to token-api, exit), ${calls} calls`,
        p50_ms: round(s50),
        p99_ms: round(s99),
        target: '<= 1.3x a bare curl to a server that does nothing (p50)',
        verdict: ratio <= 1.3 ? 'pass' : 'fail',
        notes: `bare curl p50 ${round(c50)} ms, p99 ${round(c99)} ms; ratio p50 ${round(ratio)}x, p99 ${round(s99 / c99)}x`,
        runs,
      },
      {
        metric: `native http hook per event (POST /api/hooks?reply=none, keep-alive, from a separate process), ${calls} events`,
        p50_ms: round(n50),
        p99_ms: round(n99),
        target: 'p99 < 2 ms',
        verdict: n99 < 2 ? 'pass' : 'fail',
      },
    ];
  } finally {
    nothing?.stop();
    await server?.stop();
    rmSync(home, { recursive: true, force: true });
  }
}
