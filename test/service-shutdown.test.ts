// SIGTERM and SIGINT stop the real server cleanly: new connections are refused, a request in
// flight finishes and its change is kept, idle keep-alive connections do not hold the stop,
// the grace period bounds the wait (exit 1 when something is cut off), a second signal exits
// at once (128 + signal), and closers (the WebSocket feed's hook) tell their clients.
import assert from 'node:assert/strict';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { Agent, request, type ClientRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { WebSocket } from 'ws';
import { startServer } from '../src/system/server.js';
import { getJson, startServerProcess, type ServerProcess } from './support/process.js';
import { hookPayload, tempHome, testConfig } from './support/system.js';

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function home(config: Record<string, unknown> = {}): string {
  const h = tempHome('token-api-stop-');
  cleanups.push(h.cleanup);
  writeFileSync(join(h.dir, 'config.json'), JSON.stringify(config));
  return h.dir;
}

async function server(dir: string, args: string[] = []): Promise<ServerProcess> {
  const s = await startServerProcess(dir, args);
  cleanups.push(() => s.kill());
  return s;
}

/** Resolves when the server has written a line matching re to stderr. */
function stderrSays(s: ServerProcess, re: RegExp): Promise<void> {
  if (re.test(s.stderr())) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onData = () => {
      if (re.test(s.stderr())) {
        s.child.stderr!.off('data', onData);
        resolve();
      }
    };
    s.child.stderr!.on('data', onData);
    s.child.once('exit', () => (re.test(s.stderr()) ? resolve() : reject(new Error(`exited without saying ${re}:\n${s.stderr()}`))));
  });
}

function exitCode(s: ServerProcess): Promise<number | null> {
  if (s.child.exitCode !== null) return Promise.resolve(s.child.exitCode);
  return new Promise((resolve) => s.child.once('exit', (code) => resolve(code)));
}

/** A hook POST whose body is only half sent: in flight until finish() sends the rest. */
async function halfSentHook(url: string, sessionId: string): Promise<{ req: ClientRequest; answer: Promise<{ status: number; body: string }>; finish(): void }> {
  const body = JSON.stringify(hookPayload(sessionId, 'SessionStart', { source: 'startup' }));
  const cut = Math.floor(body.length / 2);
  const u = new URL('/api/hooks', url);
  const req = request({ hostname: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res: IncomingMessage) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
  });
  answer.catch(() => undefined);
  req.write(body.slice(0, cut));
  // A round trip on another connection: by then the server has read the first request's head.
  await getJson(`${url}/health`);
  return { req, answer, finish: () => req.end(body.slice(cut)) };
}

describe('stopping on SIGTERM and SIGINT', { timeout: 60_000 }, () => {
  it('refuses new connections, lets a request in flight finish, keeps its change, exits 0', async () => {
    const dir = home();
    const s = await server(dir);
    const inFlight = await halfSentHook(s.url, 'stop-inflight');
    s.child.kill('SIGTERM');
    await stderrSays(s, /waiting for 1 request\(s\) in flight to finish/);
    await assert.rejects(fetch(`${s.url}/health`), 'no new connection once stopping');
    inFlight.finish();
    const answer = await inFlight.answer;
    assert.equal(answer.status, 200, answer.body);
    assert.equal(JSON.parse(answer.body).instance.id, 'claude-stop-inflight');
    assert.equal(await exitCode(s), 0, s.stderr());
    assert.match(s.stderr(), /token-api stopped\n/);
    assert.equal(existsSync(join(dir, 'token-api.lock')), false);

    const again = await server(dir);
    const inst = await getJson(`${again.url}/api/instances/claude-stop-inflight`);
    assert.equal(inst.status, 200, 'the change made while stopping was committed');
    await again.kill('SIGTERM');
  });

  it('does not wait for idle keep-alive connections, and logs that it stopped', async () => {
    const dir = home();
    const s = await server(dir, ['--log-level', 'info']);
    const agent = new Agent({ keepAlive: true });
    cleanups.push(() => agent.destroy());
    const u = new URL(s.url);
    await new Promise<void>((resolve, reject) =>
      request({ hostname: u.hostname, port: u.port, path: '/health', agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
        .on('error', reject)
        .end(),
    );
    // The connection stays open (keep-alive for 65 s); SIGINT must not wait for it.
    assert.equal(await s.kill('SIGINT'), 0, s.stderr());
    assert.match(s.stderr(), /SIGINT: stopping token-api/);
    const log = readFileSync(join(dir, 'logs', 'token-api.log'), 'utf8').trim().split('\n');
    assert.equal(JSON.parse(log[log.length - 1]!).msg, 'stopped');
  });

  it('cuts off what is still in flight when the grace period ends, and exits 1', async () => {
    const dir = home({ shutdown_grace_seconds: 0.2 });
    const s = await server(dir);
    const inFlight = await halfSentHook(s.url, 'stop-cut');
    s.child.kill('SIGTERM');
    assert.equal(await exitCode(s), 1, s.stderr());
    assert.match(s.stderr(), /1 request\(s\) still in flight were cut off at the end of the grace period/);
    assert.match(s.stderr(), /token-api stopped, not cleanly/);
    await assert.rejects(inFlight.answer);
    assert.equal(existsSync(join(dir, 'token-api.lock')), false);
  });

  for (const [first, second, code] of [
    ['SIGTERM', 'SIGTERM', 143],
    ['SIGTERM', 'SIGINT', 130],
  ] as const) {
    it(`a second signal (${first}, then ${second}) exits at once with ${code}`, async () => {
      const dir = home();
      const s = await server(dir);
      const inFlight = await halfSentHook(s.url, 'stop-twice');
      s.child.kill(first);
      await stderrSays(s, /waiting for 1 request\(s\) in flight/);
      s.child.kill(second);
      assert.equal(await exitCode(s), code, s.stderr());
      assert.match(s.stderr(), new RegExp(`${second} again: exiting at once`));
      inFlight.req.destroy();
    });
  }
});

describe('closers', () => {
  it('the live feed is a closer: its clients are told the server is going away', async () => {
    const h = tempHome('token-api-closers-');
    cleanups.push(h.cleanup);
    const config = testConfig(h.dir);
    const running = await startServer({ ...config, port: 0 }, { logger: pino({ level: 'silent' }), processExists: () => true });
    const client = new WebSocket(`${running.url.replace('http', 'ws')}/ws`);
    await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
    const told = new Promise<{ code: number; reason: string }>((resolve) => client.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    const report = await running.close();
    assert.deepEqual(await told, { code: 1001, reason: 'server stopping' });
    assert.deepEqual(report, { cutOff: 0, errors: [] });
  });

  it('a closer that fails or hangs is reported, and the rest of the stop still happens', async () => {
    const h = tempHome('token-api-closers-');
    cleanups.push(h.cleanup);
    const config = testConfig(h.dir);
    const running = await startServer({ ...config, port: 0 }, { logger: pino({ level: 'silent' }), processExists: () => true });
    let ran = false;
    running.closers.add({ name: 'fine', close: () => void (ran = true) });
    running.closers.add({ name: 'broken', close: () => Promise.reject(new Error('socket already gone')) });
    running.closers.add({ name: 'stuck', close: () => new Promise<void>(() => undefined) });
    const report = await running.close({ graceMs: 50 });
    assert.equal(ran, true);
    assert.deepEqual(report.errors.sort(), ['broken failed to close: socket already gone', 'stuck did not close within 50 ms']);
    assert.equal(existsSync(join(h.dir, 'token-api.lock')), false, 'the lock is released all the same');
    // The database was closed: closing the last connection checkpoints the WAL and removes it.
    assert.equal(existsSync(`${running.system.config.databaseFile}-wal`), false, 'the database was closed');
  });
});
