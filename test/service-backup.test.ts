// `token-api backup PATH` while the real server takes hook events as fast as they come: the
// copy passes PRAGMA integrity_check, holds every event acknowledged before it started, is one
// committed state (projection, snapshot and event rows agree), and restoring it the README's
// way (stop, replace, remove -wal/-shm, start) brings that state back.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openDatabase } from '../src/db/database.js';
import { getJson, postJson, runCli, startServerProcess, type ServerProcess } from './support/process.js';
import { hookPayload, tempHome } from './support/system.js';

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function home(): string {
  const h = tempHome('token-api-backup-');
  cleanups.push(h.cleanup);
  return h.dir;
}

async function server(dir: string): Promise<ServerProcess> {
  const s = await startServerProcess(dir);
  cleanups.push(() => s.kill());
  return s;
}

async function query<T = Record<string, unknown>>(file: string, sql: string): Promise<T[]> {
  const db = await openDatabase(file, { readOnly: true });
  try {
    return await db.all<T>(sql);
  } finally {
    await db.close();
  }
}

/** Rows that one transaction writes together must agree in a consistent copy. */
async function consistency(file: string): Promise<{ events: number; instances: number; mismatches: string[] }> {
  const rows = await query<{ id: string; tool_count: number; events: number; snapshot_tools: number | null }>(
    file,
    `SELECT i.id, i.tool_count,
            (SELECT COUNT(*) FROM events e WHERE e.instance_id = i.id AND e.event_type = 'hook.post_tool_use') AS events,
            (SELECT json_extract(s.snapshot, '$.context.toolCount') FROM actor_snapshots s WHERE s.actor_id = i.id) AS snapshot_tools
       FROM claude_instances i`,
  );
  const mismatches = rows.filter((r) => r.tool_count !== r.events || r.snapshot_tools !== r.tool_count).map((r) => JSON.stringify(r));
  const [{ n }] = (await query<{ n: number }>(file, "SELECT COUNT(*) AS n FROM events WHERE event_type = 'hook.post_tool_use'")) as [{ n: number }];
  return { events: n, instances: rows.length, mismatches };
}

async function storedTools(file: string): Promise<Set<string>> {
  const rows = await query<{ k: string }>(
    file,
    "SELECT json_extract(details, '$.payload.session_id') || ':' || json_extract(details, '$.payload.tool_name') AS k FROM events WHERE event_type = 'hook.post_tool_use'",
  );
  return new Set(rows.map((r) => r.k));
}

describe('token-api backup', { timeout: 120_000 }, () => {
  it('copies the database consistently while hooks are being written, and the copy restores', async () => {
    const dir = home();
    const s = await server(dir);
    const acked: string[] = [];
    let stop = false;
    const sender = async (n: number) => {
      for (let i = 0; !stop; i++) {
        const session = `bk-${n}-${i % 3}`;
        const r = await postJson(`${s.url}/api/hooks`, hookPayload(session, 'PostToolUse', { tool_name: `T${i}` }));
        assert.equal(r.status, 200);
        acked.push(`${session}:T${i}`);
      }
    };
    const senders = Array.from({ length: 4 }, (_, n) => sender(n));
    while (acked.length < 200) await new Promise((r) => setTimeout(r, 5));

    const target = join(dir, 'copies', 'backup.db');
    const ackedBefore = acked.slice();
    const backup = await runCli(['backup', target, '--home', dir]);
    const ackedBy = acked.length;
    // Load goes on after the copy, so the live database moves past it.
    while (acked.length < ackedBy + 100) await new Promise((r) => setTimeout(r, 5));
    stop = true;
    await Promise.all(senders);

    assert.equal(backup.code, 0, backup.stderr);
    assert.equal(backup.stdout.trim(), target);
    assert.match(backup.stderr, new RegExp(`backed up .*token-api\\.db to .*backup\\.db \\(.*integrity ok\\) in \\d+ ms, while the server ran \\(pid ${s.child.pid}\\)`));
    assert.equal((statSync(target).mode & 0o777).toString(8), '600');
    assert.deepEqual(readdirSync(join(dir, 'copies')), ['backup.db'], 'a single file: no -wal, no leftovers');

    assert.deepEqual(await query(target, 'PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
    const copy = await consistency(target);
    assert.deepEqual(copy.mismatches, [], 'projection, snapshot and events agree in the copy');
    const inCopy = await storedTools(target);
    const missing = ackedBefore.filter((a) => !inCopy.has(a));
    assert.deepEqual(missing, [], 'every event acknowledged before the backup started is in the copy');
    // One committed state from the backup's time: nothing acknowledged long after it (4 senders: at most 4 answers on their way).
    assert.ok(copy.events >= ackedBefore.length && copy.events <= ackedBy + 4, `${copy.events} events in the copy, between ${ackedBefore.length} and ${ackedBy}`);

    // Restore, as the README says: stop, replace the file, remove -wal and -shm, start.
    assert.equal(await s.kill('SIGTERM'), 0);
    const db = join(dir, 'token-api.db');
    const live = await consistency(db);
    assert.deepEqual(live.mismatches, [], 'the invariant holds in the live database too');
    assert.ok(live.events >= acked.length && live.events > copy.events);
    copyFileSync(target, db);
    rmSync(`${db}-wal`, { force: true });
    rmSync(`${db}-shm`, { force: true });
    const restored = await server(dir);
    const instances = await getJson(`${restored.url}/api/instances?status=all`);
    const rows = instances.body.instances as Array<{ id: string; tool_count: number }>;
    const fromCopy = await query<{ id: string; tool_count: number }>(target, 'SELECT id, tool_count FROM claude_instances ORDER BY id');
    assert.deepEqual(
      rows.map((r) => ({ id: r.id, tool_count: r.tool_count })).sort((a, b) => a.id.localeCompare(b.id)),
      fromCopy,
      'the restored server has the state of the copy',
    );
    await restored.kill('SIGTERM');
  });

  it('says what is wrong: no database, an existing file, no PATH; a directory gets a dated file', async () => {
    const dir = home();
    const none = await runCli(['backup', join(dir, 'x.db'), '--home', join(dir, 'empty')]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /there is no database at .*token-api\.db \(has token-api run with this data directory\?\)/);

    const noPath = await runCli(['backup', '--home', dir]);
    assert.equal(noPath.code, 2);
    assert.match(noPath.stderr, /give a PATH/);

    // A database written by a server that is not running.
    const s = await server(dir);
    await postJson(`${s.url}/api/hooks`, hookPayload('offline', 'PostToolUse', { tool_name: 'Read' }));
    await s.kill('SIGTERM');

    const existing = join(dir, 'there.db');
    writeFileSync(existing, 'keep me');
    const refused = await runCli(['backup', existing, '--home', dir]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /already exists; choose another path, or --force to replace it/);
    const forced = await runCli(['backup', existing, '--home', dir, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(await query(existing, "SELECT id FROM claude_instances WHERE id = 'claude-offline'"), [{ id: 'claude-offline' }]);
    assert.doesNotMatch(forced.stderr, /while the server ran/);

    const folder = join(dir, 'backups');
    mkdirSync(folder);
    const dated = await runCli(['backup', folder, '--home', dir]);
    assert.equal(dated.code, 0, dated.stderr);
    const [name] = readdirSync(folder);
    assert.match(name!, /^token-api-\d{8}-\d{6}\.db$/);
    assert.equal(dated.stdout.trim(), join(folder, name!));
    assert.ok(existsSync(join(folder, name!)));

    const itself = await runCli(['backup', join(dir, 'token-api.db'), '--home', dir, '--force']);
    assert.equal(itself.code, 1);
    assert.match(itself.stderr, /is the database itself/);
  });

  it('a destination it cannot write is a sentence and exit 1, not a stack trace', async () => {
    const dir = home();
    const s = await server(dir);
    await postJson(`${s.url}/api/hooks`, hookPayload('dest', 'PostToolUse', { tool_name: 'Read' }));
    await s.kill('SIGTERM');
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'not a directory');

    const cases: Array<[string[], RegExp]> = [
      [[join(file, 'x.db')], /^token-api backup: cannot put the copy in .*plain-file: a part of that path is a file, not a directory$/],
      [[join(file, 'deeper', 'x.db')], /^token-api backup: cannot put the copy in .*plain-file\/deeper: a part of that path is a file, not a directory$/],
    ];
    // A place even root cannot create files in (the online backup cannot open its destination).
    if (existsSync('/proc/self')) cases.push([['/proc/x.db', '--force'], /^token-api backup: cannot write the copy \/proc\/x\.db: SQLITE_CANTOPEN: unable to open database file \(is \/proc writable\?\)$/]);
    for (const [args, message] of cases) {
      const r = await runCli(['backup', ...args, '--home', dir]);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr.trim(), message);
      assert.doesNotMatch(r.stderr, /    at |Emitted 'error'|unexpected error/);
    }
    assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.partial-')), []);
  });
});
