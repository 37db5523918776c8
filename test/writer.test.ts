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
    assert.equal(plan.length, 3);
    assert.equal(plan[0]!.sql, 'INSERT INTO snap (id, v) VALUES (?, ?), (?, ?) ON CONFLICT(id) DO UPDATE SET v = excluded.v');
    assert.deepEqual(plan[0]!.params, ['a', 2, 'b', 1]);
    assert.equal(plan[1]!.sql, 'INSERT INTO ev (t) VALUES (?), (?)');
    assert.equal(plan[2]!.sql, 'DELETE FROM ev WHERE t = ?');
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
