// The relay's added latency: GET /api/mode one at a time straight to the compiled server, then
// through a relay (wss with a self-signed certificate; the server connected out to it), in the
// clear and end-to-end encrypted. Relay, server and client are separate processes on loopback
// except the client, which is this process. The relay's rate limit is lifted for the run.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectRelayClient, type RelayClient } from '../src/relay/client.js';
import { decodePairingCode } from '../src/relay/pairings.js';
import type { BenchOptions, BenchResult } from './types.js';
import { median, percentile, ROOT, round, startTokenApi, tempHome, type Proc } from './support.js';

const BIN = join(ROOT, 'bin/token-api.js');

function cli(args: string[]): string {
  return execFileSync(process.execPath, [BIN, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function startRelayProcess(home: string, cert: string, key: string): Promise<Proc> {
  const child = spawn(process.execPath, [BIN, 'relay', 'serve', '--home', home, '--port', '0', '--tls-cert', cert, '--tls-key', key, '--rate', '100000', '--burst', '100000', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (https:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}:\n${out}`)));
  });
  return {
    url,
    pid: child.pid!,
    child,
    output: () => out,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function timed(n: number, once: () => Promise<number>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const status = await once();
    if (status !== 200) throw new Error(`answered ${status}`);
    ms.push(performance.now() - t0);
  }
  return ms;
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const n = opts.quick ? 500 : 2000;
  const figures: Record<'direct' | 'relay' | 'sealed', { p50: number[]; p99: number[] }> = { direct: { p50: [], p99: [] }, relay: { p50: [], p99: [] }, sealed: { p50: [], p99: [] } };
  for (let r = 0; r < opts.repeats; r++) {
    const home = tempHome();
    const relayHome = join(home.dir, 'relay');
    const serverHome = join(home.dir, 'server');
    mkdirSync(serverHome, { recursive: true });
    const cert = join(home.dir, 'cert.pem');
    const key = join(home.dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=bench', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const ca = readFileSync(cert);
    const room = JSON.parse(cli(['relay', 'room', 'add', 'bench', '--home', relayHome, '--json']));
    const admin = JSON.parse(cli(['relay', 'token', 'add', '--home', relayHome, '--room', 'bench', '--role', 'admin', '--json']));
    const relay = await startRelayProcess(relayHome, cert, key);
    writeFileSync(join(serverHome, 'relay-key'), room.server_key, { mode: 0o600 });
    writeFileSync(join(serverHome, 'config.json'), JSON.stringify({ relay: { url: relay.url, room: 'bench', ca_file: cert } }));
    const server = await startTokenApi(serverHome);
    const clients: RelayClient[] = [];
    try {
      const plain = await connectRelayClient({ url: relay.url, room: 'bench', token: admin.token, ca });
      clients.push(plain);
      while ((await plain.request({ method: 'GET', path: '/api/mode' })).status === 503) await new Promise((res) => setTimeout(res, 50));
      const code = decodePairingCode(JSON.parse(cli(['relay', 'pair', '--home', serverHome, '--role', 'admin', '--json'])).code)!;
      const sealed = await connectRelayClient({ url: code.url, room: code.room, token: code.token, ca, pairing: { id: code.pairing, psk: code.psk } });
      clients.push(sealed);
      const runs = {
        direct: () => fetch(`${server.url}/api/mode`).then(async (res) => (await res.arrayBuffer(), res.status)),
        relay: () => plain.request({ method: 'GET', path: '/api/mode' }).then((a) => a.status),
        sealed: () => sealed.request({ method: 'GET', path: '/api/mode' }).then((a) => a.status),
      };
      for (const [name, once] of Object.entries(runs) as [keyof typeof runs, () => Promise<number>][]) {
        await timed(100, once); // warm-up
        const ms = await timed(n, once);
        figures[name].p50.push(median(ms));
        figures[name].p99.push(percentile(ms, 99));
        opts.log(`  run ${r + 1} ${name}: p50 ${round(median(ms), 3)} ms, p99 ${round(percentile(ms, 99), 3)} ms`);
      }
    } finally {
      for (const c of clients) c.close();
      await server.stop();
      await relay.stop();
      home.cleanup();
    }
  }
  const p50 = (k: keyof typeof figures) => median(figures[k].p50);
  const p99 = (k: keyof typeof figures) => median(figures[k].p99);
  const over = (k: 'relay' | 'sealed') => `adds p50 ${round(p50(k) - p50('direct'), 3)} ms, p99 ${round(p99(k) - p99('direct'), 3)} ms over direct`;
  return [
    { metric: `GET /api/mode direct (http, keep-alive, ${n} one at a time)`, p50_ms: round(p50('direct'), 3), p99_ms: round(p99('direct'), 3), target: 'reference', verdict: 'info' },
    {
      metric: 'GET /api/mode through the relay (wss, TLS)',
      p50_ms: round(p50('relay'), 3),
      p99_ms: round(p99('relay'), 3),
      target: 'relay adds p50 <= 2 ms',
      verdict: p50('relay') - p50('direct') <= 2 ? 'pass' : 'fail',
      notes: over('relay'),
    },
    {
      metric: 'GET /api/mode through the relay, end-to-end encrypted',
      p50_ms: round(p50('sealed'), 3),
      p99_ms: round(p99('sealed'), 3),
      target: 'relay adds p50 <= 2 ms',
      verdict: p50('sealed') - p50('direct') <= 2 ? 'pass' : 'fail',
      notes: over('sealed'),
    },
  ];
}
