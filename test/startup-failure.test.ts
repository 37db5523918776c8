// A start-up that fails part way (here: the usage store, after the database, the actors,
// notifications, the process monitor, retention and the Codex watcher have started) stops
// what it started, in reverse: no timer or watcher is left running, the database is closed,
// and the next start on the same data works.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { openDatabase } from '../src/db/database.js';
import { startServer } from '../src/system/server.js';
import { createSystem } from '../src/system/system.js';
import { startTestServer, tempHome, testConfig } from './support/system.js';
import { databaseOf } from './support/sqlite.js';

describe('a start-up that fails part way', () => {
  const home = tempHome();
  after(() => home.cleanup());

  it('stops what it had started and leaves the data directory usable', async () => {
    const first = await startTestServer(home.dir);
    await first.hook({ session_id: 's1', transcript_path: '/t/s1.jsonl', cwd: '/w', hook_event_name: 'SessionStart', source: 'startup' }, '?pid=4242');
    await databaseOf(first.system).exec('ALTER TABLE usage_meta RENAME TO usage_meta_away');
    await first.close();

    // The process monitor checks the instance's pid every second while it runs.
    let checks = 0;
    const config = testConfig(home.dir, { process_check_seconds: 1 });
    const processExists = () => {
      checks += 1;
      return true;
    };
    await assert.rejects(createSystem(config, { logger: pino({ level: 'silent' }), processExists }), /usage_meta/);
    const atFailure = checks;
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(checks, atFailure, 'the failed start left its process monitor running');

    const db = await openDatabase(config.databaseFile);
    await db.exec('ALTER TABLE usage_meta_away RENAME TO usage_meta');
    await db.close();
    const again = await startTestServer(home.dir);
    try {
      assert.equal((await again.request('GET', '/api/instances/claude-s1')).body.state, 'idle');
    } finally {
      await again.close();
    }
  });
});

describe('a running server', () => {
  const home = tempHome();
  after(() => home.cleanup());

  it('survives an error of its listening socket (EMFILE, say) and goes on answering', async () => {
    const config = { ...testConfig(home.dir), port: 0 };
    const running = await startServer(config, { logger: pino({ level: 'silent' }), processExists: () => true });
    try {
      running.server.emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' }));
      const r = await fetch(`${running.url}/health`);
      assert.equal(r.status, 200);
    } finally {
      await running.close();
    }
  });
});
