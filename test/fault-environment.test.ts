// Hostile environment: a read-only data directory, a full disk (a small tmpfs), a database
// locked by another process, a config file and a Claude Code settings file that are not
// JSON, a database file that is not a database. Each ends in one clear sentence and a
// non-zero exit, or in a degraded mode that GET /health reports and that recovers, never in
// a stack trace. Read-only directories and the tmpfs live in a private mount namespace of the
// one process under test (root only; without root the read-only cases use chmod and the
// full disk is skipped).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openDatabase } from '../src/db/database.js';
import { runCli, startServerProcess } from './support/process.js';
import { canUseMountNamespaces, IS_ROOT, readOnlyPrefix, runCliIn, STACK_FRAME, startServerIn, tmpfsPrefix, type CliRun } from './support/sandbox.js';
import { hookPayload, tempHome } from './support/system.js';

const QUIET_CONFIG = {
  codex: { enabled: false },
  usage_claude_dirs: ['/nonexistent-claude'],
  usage_codex_dirs: ['/nonexistent-codex'],
  usage_scan_interval_minutes: 0,
  usage_live_interval_seconds: 0,
  notifications: { speech: { engine: 'none' }, sound: { player: 'none' } },
};

function writeConfig(home: string, extra: Record<string, unknown> = {}): void {
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'config.json'), JSON.stringify({ ...QUIET_CONFIG, ...extra }));
}

/** A failure a person can act on: a non-zero exit, the expected sentence, and no stack trace. */
function assertClearFailure(r: CliRun, sentence: RegExp): void {
  assert.ok(r.code !== 0 && r.code !== null, `exit code ${r.code}\n${r.stderr}`);
  assert.match(r.stderr, sentence);
  assert.doesNotMatch(r.stderr, STACK_FRAME, `a stack trace:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /unexpected error|Unhandled|node:internal/);
}

async function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function get(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  return { status: res.status, body: await res.json() };
}

/** Another process holding `BEGIN EXCLUSIVE` on a database, until released. */
async function holdLock(file: string): Promise<{ release(): Promise<void> }> {
  const holder = spawn(process.execPath, [new URL('./support/lock-holder.mjs', import.meta.url).pathname, file], { stdio: ['pipe', 'pipe', 'inherit'] });
  holder.stdout.setEncoding('utf8');
  let out = '';
  await new Promise<void>((resolve, reject) => {
    holder.stdout.on('data', (d: string) => {
      out += d;
      if (out.includes('locked')) resolve();
    });
    holder.once('exit', (code) => reject(new Error(`the lock holder exited with ${code}`)));
  });
  return {
    release: () =>
      new Promise<void>((resolve) => {
        holder.once('exit', () => resolve());
        holder.stdin.end('release\n');
      }),
  };
}

describe('hostile environment', () => {
  const homes: { cleanup(): void }[] = [];
  const home = (prefix: string) => {
    const h = tempHome(`token-api-fault-env-${prefix}-`);
    homes.push(h);
    return h.dir;
  };
  after(() => {
    for (const h of homes) h.cleanup();
  });

  /** Runs the CLI with `dir` read-only: a read-only mount (root), or without write permission (others). */
  async function withReadOnly(dir: string, args: string[]): Promise<CliRun | null> {
    if (IS_ROOT) {
      if (!canUseMountNamespaces()) return null;
      return runCliIn(readOnlyPrefix(dir), args);
    }
    chmodSync(dir, 0o555);
    try {
      return await runCli(args);
    } finally {
      chmodSync(dir, 0o755);
    }
  }

  describe('a read-only data directory', () => {
    it('an empty one: serve refuses in one sentence that names it, exit 1', async (t) => {
      const dir = home('ro-empty');
      const r = await withReadOnly(dir, ['serve', '--home', dir, '--port', '0']);
      if (!r) return t.skip('needs write permission checks (not root) or mount namespaces');
      assertClearFailure(r, new RegExp(`cannot write to the data directory ${dir}: (it is on a read-only file system|permission denied)\\. .*--home`));
      assert.deepEqual(readdirSync(dir), []);
    });

    it('one with a database from an earlier run: the same, and the database is untouched', async (t) => {
      const dir = home('ro-db');
      writeConfig(dir);
      const first = await startServerProcess(dir);
      assert.equal((await post(`${first.url}/api/hooks`, hookPayload('ro-1', 'SessionStart', { source: 'startup' }))).status, 200);
      assert.equal(await first.kill('SIGTERM'), 0);
      const before = readFileSync(join(dir, 'token-api.db'));
      const r = await withReadOnly(dir, ['serve', '--home', dir, '--port', '0']);
      if (!r) return t.skip('needs write permission checks (not root) or mount namespaces');
      assertClearFailure(r, /cannot write to the data directory .*: (it is on a read-only file system|permission denied)/);
      assert.ok(before.equals(readFileSync(join(dir, 'token-api.db'))));
    });

    it('a data directory that cannot be created, or is a file: the same kind of sentence', async () => {
      const dir = home('ro-file');
      writeConfig(dir);
      writeFileSync(join(dir, 'not-a-dir'), 'x');
      const config = ['--config', join(dir, 'config.json'), '--port', '0'];
      assertClearFailure(await runCli(['serve', '--home', join(dir, 'not-a-dir'), ...config]), /cannot write to the data directory .*not-a-dir: a file is in the way/);
      assertClearFailure(await runCli(['serve', '--home', join(dir, 'not-a-dir', 'below'), ...config]), /cannot write to the data directory .*not-a-dir\/below: /);
      // Without --config, the config file is the first thing that cannot be read there.
      assertClearFailure(await runCli(['serve', '--home', join(dir, 'not-a-dir'), '--port', '0']), /cannot read config file .*not-a-dir\/config\.json: ENOTDIR/);
    });
  });

  it('a full disk: writes answer 503 and /health says degraded; reads and the process go on; it recovers when space returns', { timeout: 120_000 }, async (t) => {
    if (!canUseMountNamespaces()) return t.skip('needs root and mount namespaces to mount a small tmpfs');
    const dir = home('full');
    const config = join(dir, 'config.json');
    writeConfig(dir);
    const mount = join(dir, 'data');
    mkdirSync(mount);
    const server = await startServerIn(tmpfsPrefix(mount, '2m'), mount, ['--config', config]);
    try {
      const inside = (p: string) => `/proc/${server.child.pid}/root${p}`;
      assert.equal((await post(`${server.url}/api/hooks`, hookPayload('disk-ok', 'SessionStart', { source: 'startup' }))).status, 200);
      // Fill what is left of the 2 MiB.
      let ballast = 0;
      for (;;) {
        try {
          writeFileSync(inside(join(mount, `ballast-${ballast}`)), Buffer.alloc(64 * 1024));
          ballast += 1;
        } catch (err) {
          assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
          break;
        }
      }
      for (let k = 0; ; k++) {
        try {
          writeFileSync(inside(join(mount, `crumb-${k}`)), Buffer.alloc(512));
        } catch {
          break;
        }
      }

      // Hooks with payloads that need new pages: refused with 503, and nothing of them is kept.
      const refused: string[] = [];
      const accepted: string[] = [];
      for (let i = 0; i < 30; i++) {
        const r = await post(`${server.url}/api/hooks`, hookPayload(`disk-${i}`, 'SessionStart', { source: 'startup', pad: 'x'.repeat(3000) }));
        assert.ok(r.status === 503 || r.status === 200, `${r.status} ${JSON.stringify(r.body)}`);
        if (r.status === 503) {
          assert.deepEqual(r.body, { error: 'unavailable', message: 'the database is unavailable; try again' });
          refused.push(`disk-${i}`);
        } else accepted.push(`claude-disk-${i}`);
      }
      assert.ok(refused.length >= 25, `only ${refused.length} of 30 writes were refused on a full disk`);
      t.diagnostic(`full disk: ${refused.length} of 30 writes refused; log file ${/cannot write the log file/.test(server.stderr()) ? 'full too (reported once, the server went on)' : 'still had room'}`);
      let health = await get(`${server.url}/health`);
      assert.equal(health.status, 200);
      assert.equal(health.body.status, 'degraded');
      assert.equal(health.body.database.writes_ok, false);
      assert.match(health.body.database.last_error, /SQLITE_FULL/);
      // Reads still answer, and a refused change left nothing behind.
      assert.equal((await get(`${server.url}/api/instances/claude-disk-ok`)).body.state, 'idle');
      for (const s of refused) assert.equal((await get(`${server.url}/api/instances/claude-${s}`)).status, 404);
      assert.equal(server.child.exitCode, null, server.stderr());

      // Space comes back: the next write goes through and /health is ok again.
      for (const f of readdirSync(inside(mount))) if (/^(ballast|crumb)-/.test(f)) rmSync(inside(join(mount, f)));
      const again = await post(`${server.url}/api/hooks`, hookPayload('disk-after', 'SessionStart', { source: 'startup' }));
      assert.equal(again.status, 200);
      // A session whose first event was refused is registered by its next one, whatever it is.
      const later = await post(`${server.url}/api/hooks`, hookPayload(refused[0]!, 'UserPromptSubmit'));
      assert.deepEqual([later.status, later.body.registered, later.body.to], [200, true, 'working']);
      health = await get(`${server.url}/health`);
      assert.equal(health.body.status, 'ok');
      assert.equal(health.body.database.writes_ok, true);
      // SQLite resolves /proc/<pid>/root to this namespace's root: read a copy of the (idle) files instead.
      const copy = join(dir, 'copy');
      mkdirSync(copy);
      for (const f of ['token-api.db', 'token-api.db-wal']) writeFileSync(join(copy, f), readFileSync(inside(join(mount, f))));
      const db = await openDatabase(join(copy, 'token-api.db'), { readOnly: true });
      try {
        assert.deepEqual(await db.all('PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
        const ids = (await db.all<{ id: string }>('SELECT id FROM claude_instances ORDER BY id')).map((r) => r.id);
        assert.deepEqual(ids, ['claude-disk-after', 'claude-disk-ok', `claude-${refused[0]}`, ...accepted].sort());
      } finally {
        await db.close();
      }
      assert.doesNotMatch(server.stderr(), STACK_FRAME);
    } finally {
      assert.equal(await server.stop(), 0, server.stderr());
    }
  });

  describe('a database locked by another process', () => {
    it('a new database locked before the first start: serve says who to look for, exit 1', async () => {
      const dir = home('lock-new');
      writeConfig(dir);
      const lock = await holdLock(join(dir, 'token-api.db'));
      try {
        const r = await runCli(['serve', '--home', dir, '--port', '0']);
        assertClearFailure(r, /database .*token-api\.db.*database is locked; another process holds a lock on it/);
      } finally {
        await lock.release();
      }
    });

    it('an existing database locked while token-api starts and runs: degraded, writes 503, reads answer; released, it recovers', async () => {
      const dir = home('lock-live');
      writeConfig(dir);
      const file = join(dir, 'token-api.db');
      const first = await startServerProcess(dir);
      assert.equal((await post(`${first.url}/api/hooks`, hookPayload('lock-1', 'SessionStart', { source: 'startup' }))).status, 200);
      assert.equal(await first.kill('SIGTERM'), 0);

      const lock = await holdLock(file);
      let released = false;
      const server = await startServerProcess(dir);
      try {
        // It starts (the snapshots read fine), but its first write at start-up waited and failed.
        let health = await get(`${server.url}/health`);
        assert.equal(health.body.status, 'degraded');
        assert.equal(health.body.database.ok, true);
        assert.equal(health.body.database.writes_ok, false);
        assert.match(health.body.database.last_error, /SQLITE_BUSY/);
        assert.equal((await get(`${server.url}/api/instances/claude-lock-1`)).body.state, 'idle');

        const refused = await post(`${server.url}/api/hooks`, hookPayload('lock-1', 'UserPromptSubmit'));
        assert.equal(refused.status, 503);
        assert.equal(refused.body.error, 'unavailable');
        // The change that could not be written is not in memory either.
        assert.equal((await get(`${server.url}/api/instances/claude-lock-1`)).body.state, 'idle');

        await lock.release();
        released = true;
        const ok = await post(`${server.url}/api/hooks`, hookPayload('lock-1', 'UserPromptSubmit'));
        assert.equal(ok.status, 200);
        assert.deepEqual([ok.body.from, ok.body.to], ['idle', 'working']);
        health = await get(`${server.url}/health`);
        assert.equal(health.body.status, 'ok');
        assert.doesNotMatch(server.stderr(), STACK_FRAME);
      } finally {
        if (!released) await lock.release();
        assert.equal(await server.kill('SIGTERM'), 0, server.stderr());
      }
    });
  });

  describe('files that are not what they should be', () => {
    it('a config file that is not JSON: every command that reads it says which file and why, exit 1', async () => {
      const dir = home('config');
      for (const [text, sentence] of [
        ['{"port": 7777,', /is not valid JSON/],
        ['\u0000\u0001binary', /is not valid JSON/],
        ['[1, 2]', /is invalid/],
        ['{"port": "seven"}', /is invalid:\n {2}port is text \("seven"\); expected a number/],
      ] as const) {
        writeFileSync(join(dir, 'config.json'), text);
        for (const args of text.startsWith('{"port": 7777') ? [['serve', '--port', '0'], ['hooks', 'status', '--settings', join(dir, 'none.json')], ['token']] : [['serve', '--port', '0']]) {
          const r = await runCli([...args, '--home', dir]);
          assertClearFailure(r, new RegExp(`config file ${join(dir, 'config.json')} ${sentence.source}`));
        }
      }
      rmSync(join(dir, 'config.json'));
      mkdirSync(join(dir, 'config.json'));
      assertClearFailure(await runCli(['serve', '--home', dir, '--port', '0']), /cannot read config file .*config\.json: EISDIR/);
      assertClearFailure(await runCli(['serve', '--home', dir, '--config', join(dir, 'missing.json'), '--port', '0']), /cannot read config file .*missing\.json: ENOENT/);
    });

    it('a Claude Code settings file that is not JSON: hooks install changes nothing and says so, exit 1', async () => {
      const dir = home('settings');
      writeConfig(join(dir, 'home'));
      const settings = join(dir, 'settings.json');
      for (const text of ['{"hooks": {"Stop": [', '\u0000\u00ff\u00fe garbage', '{"a": 1,}', "{'hooks': {}}", '[{"hooks": {}}]', 'null']) {
        writeFileSync(settings, text);
        const r = await runCli(['hooks', 'install', '--settings', settings, '--home', join(dir, 'home')]);
        assertClearFailure(r, /settings\.json (is not valid JSON .*nothing was changed|does not hold a JSON object; nothing was changed)/);
        assert.equal(readFileSync(settings, 'utf8'), text);
        assert.deepEqual(readdirSync(dir).filter((f) => f.includes('backup')), []);
      }
      // A directory where the file should be.
      rmSync(settings);
      mkdirSync(settings);
      assertClearFailure(await runCli(['hooks', 'install', '--settings', settings, '--home', join(dir, 'home')]), /settings\.json is not a file/);
    });

    it('a settings file in a read-only directory: hooks install cannot back it up, changes nothing, says so', async (t) => {
      const dir = home('settings-ro');
      writeConfig(join(dir, 'home'));
      const claude = join(dir, 'claude');
      mkdirSync(claude);
      const settings = join(claude, 'settings.json');
      const text = '{\n  "model": "opus"\n}\n';
      writeFileSync(settings, text);
      const r = await withReadOnly(claude, ['hooks', 'install', '--settings', settings, '--home', join(dir, 'home')]);
      if (!r) return t.skip('needs write permission checks (not root) or mount namespaces');
      assertClearFailure(r, /settings\.json.*nothing was changed/);
      assert.equal(readFileSync(settings, 'utf8'), text);
      assert.deepEqual(readdirSync(claude), ['settings.json']);
    });

    it('a database file that is not a database: serve says what to do, exit 1, and leaves the file as it was', async () => {
      const dir = home('notadb');
      writeConfig(dir);
      const junk = Buffer.from('this is not SQLite, just some bytes that happen to sit here\n'.repeat(200));
      writeFileSync(join(dir, 'token-api.db'), junk);
      const r = await runCli(['serve', '--home', dir, '--port', '0']);
      assertClearFailure(r, /token-api\.db.*file is not a database; it is not a token-api database, or it is damaged: move it away/);
      assert.ok(readFileSync(join(dir, 'token-api.db')).equals(junk));
      assert.ok(!existsSync(join(dir, 'token-api.db-wal')) || readFileSync(join(dir, 'token-api.db-wal')).length === 0);
    });
  });
});
