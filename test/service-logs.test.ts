// Logs: the file in the data directory rotates by size and keeps the configured number of
// rotated files (real files, real rotation, in-process and in the real server); --log-level
// decides what is written; in the foreground stderr gets start-up facts and warnings in words
// (the JSON log with --log-format json), nothing of the log with --log-file-only.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { closeLogger, createLogger } from '../src/lib/logger.js';
import { startServerProcess, type ServerProcess } from './support/process.js';
import { hookPayload, tempHome } from './support/system.js';

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function home(config: Record<string, unknown> = {}): string {
  const h = tempHome('token-api-logs-');
  cleanups.push(h.cleanup);
  writeFileSync(join(h.dir, 'config.json'), JSON.stringify(config));
  return h.dir;
}

function lines(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Each spool upload (one good line, one bad) makes the server log one warning ("could not be replayed"). */
async function uploads(url: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const id = `evt-log-${String(i).padStart(8, '0')}`;
    const good = JSON.stringify({ event_id: id, spooled_at: Date.now(), query: `event_id=${id}`, body: hookPayload(`log-${i}`, 'SessionStart', { source: 'startup' }) });
    const bad = JSON.stringify({ event_id: `evt-bad-${String(i).padStart(8, '0')}`, spooled_at: Date.now(), query: '', body: { not: 'a hook' } });
    const res = await fetch(`${url}/api/hooks/spool`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: `${good}\n${bad}\n` });
    assert.equal(res.status, 200, await res.text());
  }
}

const REJECTED = 'hook spool lines could not be replayed; the uploader keeps them aside';

async function server(dir: string, args: string[]): Promise<ServerProcess> {
  const s = await startServerProcess(dir, args);
  cleanups.push(() => s.kill());
  return s;
}

describe('the log file', () => {
  it('rotates by size, keeps the configured number of rotated files, loses no line in between', async () => {
    const dir = home();
    const file = join(dir, 'logs', 'token-api.log');
    const logger = createLogger({ level: 'info', file, stderr: 'none', maxBytes: 2000, maxFiles: 3 });
    const total = 300;
    for (let seq = 0; seq < total; seq++) {
      logger.info({ seq, filler: 'x'.repeat(40) }, 'line');
      if (seq % 25 === 0) await new Promise((r) => setImmediate(r)); // let the stream write and rotate
    }
    await closeLogger(logger);

    const names = readdirSync(join(dir, 'logs')).sort();
    assert.deepEqual(names, ['token-api.log', 'token-api.log.1', 'token-api.log.2', 'token-api.log.3']);
    const oldestFirst = ['token-api.log.3', 'token-api.log.2', 'token-api.log.1', 'token-api.log'].map((n) => join(dir, 'logs', n));
    const lineBytes = readFileSync(file, 'utf8').split('\n')[0]!.length + 1;
    for (const f of oldestFirst) assert.ok(statSync(f).size <= 2000 + 10 * lineBytes, `${f} is ${statSync(f).size} bytes`);
    // What is kept is the newest lines, in order, with no gap across the rotations.
    const seqs = oldestFirst.flatMap((f) => lines(f).map((l) => l.seq as number));
    assert.equal(seqs[seqs.length - 1], total - 1);
    assert.ok(seqs.length < total, 'the oldest lines were rotated away');
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1]! + 1, `a gap after ${seqs[i - 1]}`);
  });

  it('the real server rotates its log (log_max_bytes, log_max_files) and ends it with "stopped"', async () => {
    const dir = home({ log_max_bytes: 1024, log_max_files: 2 });
    const s = await server(dir, ['--log-level', 'info']);
    await uploads(s.url, 15);
    assert.equal(await s.kill('SIGTERM'), 0, s.stderr());
    const logs = join(dir, 'logs');
    assert.deepEqual(
      readdirSync(logs)
        .filter((n) => n.startsWith('token-api.log'))
        .sort(),
      ['token-api.log', 'token-api.log.1', 'token-api.log.2'],
    );
    const all = ['token-api.log.2', 'token-api.log.1', 'token-api.log'].flatMap((n) => lines(join(logs, n)));
    assert.ok(all.every((l) => l.pid === s.child.pid));
    assert.ok(all.filter((l) => l.msg === REJECTED).length >= 3);
    assert.equal(all[all.length - 1]!.msg, 'stopped');
  });

  it('--log-level decides what reaches the file; --log-file-only keeps the log off stderr', async () => {
    const warnOnly = home();
    const a = await server(warnOnly, ['--log-level', 'warn']);
    await uploads(a.url, 2);
    assert.equal(await a.kill('SIGTERM'), 0);
    const atWarn = lines(join(warnOnly, 'logs', 'token-api.log'));
    assert.equal(atWarn.filter((l) => l.msg === REJECTED).length, 2);
    assert.deepEqual(atWarn.filter((l) => (l.level as number) < 40), [], 'no info or debug line at --log-level warn');

    const fileOnly = home();
    const b = await server(fileOnly, ['--log-level', 'info', '--log-file-only']);
    await uploads(b.url, 2);
    assert.equal(await b.kill('SIGTERM'), 0);
    const atInfo = lines(join(fileOnly, 'logs', 'token-api.log'));
    assert.equal(atInfo.filter((l) => l.msg === REJECTED).length, 2);
    assert.ok(atInfo.some((l) => l.msg === 'listening' && l.level === 30), 'info lines at --log-level info');
    assert.doesNotMatch(b.stderr(), /"msg":/, 'no log lines on stderr');
    assert.match(b.stderr(), /listening on http/);

    const foreground = home();
    const c = await server(foreground, ['--log-level', 'info']);
    await uploads(c.url, 1);
    assert.equal(await c.kill('SIGTERM'), 0);
    // In the foreground a person reads stderr: a line per start-up fact, then warnings in words.
    assert.match(c.stderr(), /^\d\d:\d\d:\d\d warn  hook spool lines could not be replayed; the uploader keeps them aside \(/m);
    assert.match(c.stderr(), /^ {2}data {7}\S+/m);
    assert.match(c.stderr(), /^ {2}speech {5}\S/m);
    assert.match(c.stderr(), /^ {2}sound {6}\S/m);
    assert.match(c.stderr(), /^ {2}codex {6}\S/m);
    assert.match(c.stderr(), /^ {2}usage {6}\S/m);
    assert.doesNotMatch(c.stderr(), /"msg":/, 'no JSON on stderr by default');
    assert.doesNotMatch(c.stderr(), /\u001b\[/, 'no colours when stderr is not a terminal');
    assert.ok(lines(join(foreground, 'logs', 'token-api.log')).some((l) => l.msg === 'listening'), 'the JSON log is in the file');

    const json = home();
    const d = await server(json, ['--log-level', 'info', '--log-format', 'json']);
    await uploads(d.url, 1);
    assert.equal(await d.kill('SIGTERM'), 0);
    assert.match(d.stderr(), /"msg":"hook spool lines could not be replayed/, '--log-format json: the JSON log goes to stderr too');
  });
});
