import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openDatabase } from '../src/db/database.js';
import { planStatements, createWriter, type WriteOp } from '../src/db/writer.js';
import { tempHome } from './support/system.js';

describe('group-commit writer', () => {
  it('plans one multi-row statement per table and shape, the last upsert of a key winning', () => {
    const ops: WriteOp[] = [
      { kind: 'upsert', table: 'snap', key: ['id'], row: { id: 'a', v: 1 } },
      { kind: 'insert', table: 'ev', row: { t: 'x' } },
      { kind: 'upsert', table: 'snap', key: ['id'], row: { id: 'b', v: 1 } },
      { kind: 'upsert', table: 'snap', key: ['id'], row: { id: 'a', v: 2 } },
      { kind: 'insert', table: 'ev', row: { t: 'y' } },
      { kind: 'sql', sql: 'DELETE FROM ev WHERE t = ?', params: ['z'] },
    ];
    const plan = planStatements(ops);
    assert.deepEqual(plan, [
      "INSERT INTO snap (id, v) VALUES ('a', 2), ('b', 1) ON CONFLICT(id) DO UPDATE SET v = excluded.v",
      "INSERT INTO ev (t) VALUES ('x'), ('y')",
      "DELETE FROM ev WHERE t = 'z'",
    ]);
  });

  it('evaluates lazy ops when the batch is planned, in place', () => {
    let n = 0;
    const plan = planStatements([{ kind: 'lazy', build: () => [{ kind: 'insert', table: 'ev', row: { t: `lazy${++n}` } }] }]);
    assert.deepEqual(plan, ["INSERT INTO ev (t) VALUES ('lazy1')"]);
  });

  it('writes hostile strings as literals that read back unchanged', async () => {
    const h = tempHome();
    const db = await openDatabase(join(h.dir, 'w.db'));
    await db.exec('CREATE TABLE ev (i INTEGER, t TEXT)');
    const writer = createWriter(db);
    const values = [
      "it's", "'); DROP TABLE ev; --", 'a\0b', '\0', 'emoji 🎉 and ünïcödé', 'line\nbreak\ttab', '?', '', 'back\\slash', '\u2028\u2029', 'x'.repeat(100_000),
    ];
    await writer.submit(values.map((t, i) => ({ kind: 'insert' as const, table: 'ev', row: { i, t } })));
    const rows = await db.all<{ i: number; t: string }>('SELECT i, t FROM ev ORDER BY i');
    assert.deepEqual(rows.map((r) => r.t), values);
    await writer.submit([{ kind: 'sql', sql: 'DELETE FROM ev WHERE t = ? OR i = ?', params: ["it's", 2] }]);
    assert.equal((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM ev'))!.n, values.length - 2);
    await writer.close();
    await db.close();
    h.cleanup();
  });

  it('refuses identifiers that are not plain names', () => {
    assert.throws(() => planStatements([{ kind: 'insert', table: 'ev; DROP TABLE x', row: { a: 1 } }]), /bad SQL identifier/);
  });

  it('splits a huge batch under the bound-parameter limit and commits it all', async () => {
    const h = tempHome();
    const db = await openDatabase(join(h.dir, 'w.db'));
    await db.exec('CREATE TABLE ev (a INTEGER, b TEXT, c TEXT)');
    const writer = createWriter(db);
    const ops: WriteOp[] = Array.from({ length: 25_000 }, (_, i) => ({ kind: 'insert' as const, table: 'ev', row: { a: i, b: 'x', c: 'y' } }));
    assert.ok(planStatements(ops).length > 1);
    await writer.submit(ops);
    assert.equal((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM ev'))!.n, 25_000);
    await writer.close();
    await db.close();
    h.cleanup();
  });

  it('groups what arrives while a transaction is in flight into the next one', async () => {
    const h = tempHome();
    const db = await openDatabase(join(h.dir, 'w.db'));
    await db.exec('CREATE TABLE ev (a INTEGER)');
    const writer = createWriter(db);
    const all: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      all.push(writer.submit([{ kind: 'insert', table: 'ev', row: { a: i } }]));
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(all);
    const stats = writer.stats();
    assert.equal(stats.rows, 200);
    assert.ok(stats.transactions < 20, `${stats.transactions} transactions for 200 submits`);
    assert.ok(stats.largestBatch > 1);
    await writer.close();
    await assert.rejects(writer.submit([{ kind: 'insert', table: 'ev', row: { a: 1 } }]), /closed/);
    await db.close();
    h.cleanup();
  });

  it('a failed transaction rejects its submitters and those queued behind it, and writes none of them', async () => {
    const h = tempHome();
    const db = await openDatabase(join(h.dir, 'w.db'));
    await db.exec('CREATE TABLE ev (a INTEGER NOT NULL)');
    const writer = createWriter(db);
    const bad = writer.submit([{ kind: 'insert', table: 'ev', row: { a: 1 } }, { kind: 'insert', table: 'ev', row: { a: null } }]);
    await new Promise((r) => setImmediate(r));
    const behind = writer.submit([{ kind: 'insert', table: 'ev', row: { a: 3 } }]);
    await assert.rejects(bad, /NOT NULL/);
    await assert.rejects(behind, /NOT NULL/);
    assert.equal((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM ev'))!.n, 0);
    assert.equal(writer.stats().healthy, false);
    await writer.submit([{ kind: 'insert', table: 'ev', row: { a: 4 } }]);
    assert.equal(writer.stats().healthy, true);
    await writer.close();
    await db.close();
    h.cleanup();
  });
});
