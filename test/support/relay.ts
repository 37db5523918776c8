// What the relay tests share: a self-signed certificate made at test time with the openssl
// CLI, the relay as a real process (`token-api relay serve`), and a raw client socket that
// shows the relay's answers and close codes as they are.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { CLI } from './process.js';

const TSX = new URL('../../node_modules/tsx/dist/esm/index.mjs', import.meta.url).href;

/** Whether the openssl CLI is here (.ci/run installs it); tests that need it skip, saying so, when not. */
export const HAVE_OPENSSL = spawnSync('openssl', ['version']).status === 0;

/** A self-signed EC P-256 certificate for 127.0.0.1 and localhost, valid one day. */
export function selfSignedCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=token-api-relay-test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return { cert, key };
}

export interface RelayProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startRelayProcess(home: string, args: string[] = []): Promise<RelayProcess> {
  const child = spawn(process.execPath, ['--import', TSX, CLI, 'relay', 'serve', '--home', home, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start:\n${out}`)), 30_000);
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (https?:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`relay exited with ${code}:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    stop: (signal: NodeJS.Signals = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

/** The token-api server's side of a relay: its config and server key file in `home`. */
export function configureRelay(home: string, o: { url: string; room: string; serverKey: string; ca?: string }): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  writeFileSync(join(home, 'relay-key'), `${o.serverKey}\n`, { mode: 0o600 });
  writeFileSync(join(home, 'config.json'), JSON.stringify({ relay: { url: o.url, room: o.room, ...(o.ca ? { ca_file: o.ca } : {}) } }));
}

/** A raw client socket: the upgrade's refusal (status and body), or the open socket with its frames. */
export function rawClient(url: string, room: string, token: string, ca?: Buffer): Promise<{ refused: number; body: any } | { ws: WebSocket; frames: any[]; next(): Promise<any>; closed: Promise<{ code: number; reason: string }> }> {
  const u = new URL(url);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(`${u.origin}/v1/relay/client?room=${encodeURIComponent(room)}`, { headers: { authorization: `Bearer ${token}` }, ...(ca ? { ca } : {}) });
  const frames: any[] = [];
  const waiting: ((f: any) => void)[] = [];
  ws.on('message', (d) => {
    const f = JSON.parse(d.toString());
    const w = waiting.shift();
    if (w) w(f);
    else frames.push(f);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return new Promise((resolve, reject) => {
    ws.on('unexpected-response', (_req, res) => {
      let b = '';
      res.on('data', (d: Buffer) => (b += d.toString()));
      res.on('end', () => resolve({ refused: res.statusCode ?? 0, body: JSON.parse(b) }));
    });
    ws.on('open', () => resolve({ ws, frames, closed, next: () => (frames.length > 0 ? Promise.resolve(frames.shift()) : new Promise((r) => waiting.push(r))) }));
    ws.on('error', (err) => {
      if (ws.readyState !== WebSocket.CLOSED) reject(err);
    });
  });
}
