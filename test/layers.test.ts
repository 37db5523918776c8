// The layers of src/ as rules (.dependency-cruiser.cjs): no import points up, the subsystems of
// one layer never import each other, the clients (dashboard, web page) import only lib and
// protocol and never each other, and there is no cycle. The second case runs the same rules on
// a small tree that breaks each of them, so this test is known to fail when src/ does. SQL
// lives in src/db/ alone: statements, the tables writer ops name, and calls on the connection.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempHome } from './support/system.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

function cruise(cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [DEPCRUISE, '--config', '.dependency-cruiser.cjs', '--output-type', 'err', 'src'], { cwd }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? Number(err.code) : 0, out: `${stdout}${stderr}` });
    });
  });
}

/** A statement in a string, a writer op naming a table or holding SQL, a call on the connection. */
const SQL = /(['"`])(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|PRAGMA|WITH|REPLACE) |\bkind: 'sql'|\btable: '|\bdb\.(all|get|run|exec)\b/;

function sqlOutsideDb(dir: string): string[] {
  const hits: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (!entry.isFile() || !path.endsWith('.ts') || relative(join(ROOT, 'src'), path).startsWith('db/')) continue;
    readFileSync(path, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (SQL.test(line)) hits.push(`${relative(ROOT, path)}:${i + 1}: ${line.trim()}`);
      });
  }
  return hits;
}

describe('layers of src/', () => {
  it('no import points up a layer, crosses between subsystems or closes a circle', async () => {
    const r = await cruise(ROOT);
    assert.equal(r.code, 0, r.out);
  });

  it('the rules catch an upward import, two subsystems importing each other, a client reaching into the server or into the other client, a route reading SQLite and a circle', async () => {
    const home = tempHome('token-api-layers-');
    try {
      const files: Record<string, string> = {
        'src/lib/words.ts': "import { app } from '../http/app.js';\nexport const words = app;\n",
        'src/http/app.ts': 'export const app = 1;\n',
        'src/usage/report.ts': "import { send } from '../notifications/send.js';\nexport const report = send;\n",
        'src/notifications/send.ts': 'export const send = 2;\n',
        'src/tui/view.ts': "import { app } from '../http/app.js';\nexport const view = app;\n",
        'src/tui/words.ts': 'export const words = 3;\n',
        'src/web/shared.ts': "import { words } from '../tui/words.js';\nexport const shared = words;\n",
        'src/db/a.ts': "import { b } from './b.js';\nexport const a = (): number => b();\n",
        'src/db/b.ts': "import { a } from './a.js';\nexport const b = (): number => a();\n",
        'src/stray.ts': "import { app } from './http/app.js';\nexport const stray = app;\n",
        'src/http/routes/list.ts': "import { rows } from '../../db/queries/list.js';\nexport const list = rows;\n",
        'src/db/queries/list.ts': 'export const rows = [];\n',
      };
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(home.dir, path)), { recursive: true });
        writeFileSync(join(home.dir, path), text);
      }
      copyFileSync(join(ROOT, '.dependency-cruiser.cjs'), join(home.dir, '.dependency-cruiser.cjs'));
      writeFileSync(join(home.dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src'] }));
      const r = await cruise(home.dir);
      assert.notEqual(r.code, 0, r.out);
      for (const rule of ['no-upward-from-lib', 'subsystems-apart', 'clients-talk-over-http', 'no-circular', 'every-file-in-a-layer', 'routes-read-through-services']) {
        assert.match(r.out, new RegExp(`error ${rule}:`), `${rule} is reported:\n${r.out}`);
      }
      assert.match(r.out, /no-upward-from-lib: src\/lib\/words\.ts → src\/http\/app\.ts/);
      assert.match(r.out, /clients-talk-over-http: src\/web\/shared\.ts → src\/tui\/words\.ts/, 'one client importing the other is reported');
    } finally {
      home.cleanup();
    }
  });

  it('SQL is written only in src/db/', () => {
    assert.deepEqual(sqlOutsideDb(join(ROOT, 'src')), []);
    // The pattern finds each form it looks for (so an empty list above means something).
    const found = ["db.all('x')", "'SELECT 1'", "{ kind: 'sql', sql }", "{ kind: 'insert', table: 'events' }"].filter((l) => SQL.test(l));
    assert.equal(found.length, 4);
  });
});
