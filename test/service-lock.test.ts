// One server per data directory: a second `serve` on the same data refuses and names the
// first (pid, port); a lock left by a crashed (SIGKILLed) server, by a reused pid, or torn, is
// taken over; a clean stop removes it. Real server processes, real lock files.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { acquireLock, LockError, lockFile, processStartTime, readLock } from '../src/service/lock.js';
import { CLI, runCli, startServerProcess, type ServerProcess } from './support/process.js';
import { tempHome } from './support/system.js';

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function home(): string {
  const h = tempHome('token-api-lock-');
  cleanups.push(h.cleanup);
  return h.dir;
}

function server(dir: string, args: string[] = []): Promise<ServerProcess> {
  return startServerProcess(dir, args).then((s) => {
    cleanups.push(() => s.kill());
    return s;
  });
}

describe('one server per data directory', () => {
  it('a second serve on the same data refuses, naming the running one by pid and port', async () => {
    const dir = home();
    const first = await server(dir);
    const port = new URL(first.url).port;
    const lock = JSON.parse(readFileSync(join(dir, 'token-api.lock'), 'utf8'));
    assert.equal(lock.pid, first.child.pid);
    assert.equal(lock.url, first.url);
    assert.equal(String(lock.port), port);

    const second = await runCli(['serve', '--home', dir, '--port', '0'], { CODEX_HOME: join(dir, 'codex-home') });
    assert.equal(second.code, 1);
    assert.match(second.stderr, new RegExp(`another token-api server is using the data directory ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(second.stderr, new RegExp(`pid ${first.child.pid}, port ${port}, ${first.url.replace(/[.]/g, '\\.')}`));
    assert.doesNotMatch(second.stderr, /at .*\.ts:\d+/);
    // The first one is untouched and still answers.
    assert.equal((await fetch(`${first.url}/health`)).status, 200);
    assert.equal(JSON.parse(readFileSync(join(dir, 'token-api.lock'), 'utf8')).pid, first.child.pid);

    assert.equal(await first.kill('SIGTERM'), 0);
    assert.equal(existsSync(join(dir, 'token-api.lock')), false, 'a clean stop removes the lock');
  });

  it('a lock left by a server killed with SIGKILL is taken over at the next start', async () => {
    const dir = home();
    const crashed = await server(dir);
    await crashed.kill('SIGKILL');
    assert.equal(readLock(dir)?.info.pid, crashed.child.pid, 'SIGKILL leaves the lock behind');
    assert.equal(readLock(dir)?.alive, false);

    const next = await server(dir);
    assert.equal(readLock(dir)?.info.pid, next.child.pid);
    assert.equal(readLock(dir)?.info.url, next.url);
    assert.match(next.stderr(), /took over the lock of a server that is gone/);
    assert.match(next.stderr(), new RegExp(`pid ${crashed.child.pid}`));
    assert.equal(await next.kill('SIGTERM'), 0);
  });

  it('two servers started at the same moment on the same data: exactly one runs', async () => {
    const dir = home();
    const start = () =>
      new Promise<{ code: number | null; stderr: string; child: ReturnType<typeof spawn> }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--home', dir, '--port', '0', '--log-level', 'warn'], {
          env: { ...process.env, CODEX_HOME: join(dir, 'codex-home') },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
        let stderr = '';
        child.stderr!.on('data', (d: Buffer) => {
          stderr += d;
          if (/listening on http/.test(stderr)) resolve({ code: null, stderr, child });
        });
        child.on('exit', (code) => resolve({ code, stderr, child }));
      });
    const [a, b] = await Promise.all([start(), start()]);
    const running = [a, b].filter((r) => r.code === null);
    const refused = [a, b].filter((r) => r.code !== null);
    assert.equal(running.length, 1, `one runs: ${a.stderr}\n---\n${b.stderr}`);
    assert.equal(refused[0]!.code, 1);
    assert.match(refused[0]!.stderr, new RegExp(`another token-api server is using the data directory .*pid ${running[0]!.child.pid}`));
    running[0]!.child.kill('SIGTERM');
    await new Promise((r) => running[0]!.child.once('exit', r));
  });
});

describe('the lock file', () => {
  it('refuses a second holder in the same process and is released only by its holder', () => {
    const dir = home();
    const lock = acquireLock(dir, { version: 'test' });
    assert.throws(() => acquireLock(dir, { version: 'test' }), (err: unknown) => err instanceof LockError && err.holder?.pid === process.pid);
    lock.listening('http://127.0.0.1:1234', 1234);
    assert.equal(readLock(dir)?.info.port, 1234);
    lock.release();
    assert.equal(existsSync(lockFile(dir)), false);
    const again = acquireLock(dir, { version: 'test' });
    lock.release(); // a released handle never removes another holder's lock
    assert.equal(readLock(dir)?.info.started_at, again.info().started_at);
    again.release();
  });

  it('takes over a torn or unreadable lock file', () => {
    const dir = home();
    writeFileSync(lockFile(dir), '{"pid": 12');
    let stale: unknown = 'not told';
    const lock = acquireLock(dir, { version: 'test', onStale: (s) => (stale = s) });
    assert.equal(stale, null);
    assert.equal(readLock(dir)?.info.pid, process.pid);
    lock.release();
  });

  it('a live process with the recorded pid but another start time is a reused pid, not the server', { skip: processStartTime(process.pid) === null && 'no /proc here' }, async () => {
    const dir = home();
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    cleanups.push(() => other.kill('SIGKILL'));
    await new Promise((r) => other.once('spawn', r));
    const pid = other.pid!;
    const started = processStartTime(pid)!;
    const info = { pid, started_at: new Date().toISOString(), version: 'old', home: dir, url: 'http://127.0.0.1:1', port: 1 };
    // The same process as recorded: it counts as the holder.
    writeFileSync(lockFile(dir), JSON.stringify({ ...info, proc_start: started }));
    assert.throws(() => acquireLock(dir, { version: 'test' }), LockError);
    // The pid now belongs to a process that started at another time: stale.
    writeFileSync(lockFile(dir), JSON.stringify({ ...info, proc_start: String(Number(started) + 1) }));
    const lock = acquireLock(dir, { version: 'test' });
    assert.equal(readLock(dir)?.info.pid, process.pid);
    lock.release();
  });
});
