// The configuration keys of the hook spool and the Codex watcher: defaults, CODEX_HOME over
// the file, and readable refusals of bad values.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { tempHome } from './support/system.js';

describe('config: hooks and Codex', () => {
  const home = tempHome('token-api-config-hooks-');
  after(() => home.cleanup());
  const withFile = (file: unknown, env: NodeJS.ProcessEnv = {}) => {
    writeFileSync(join(home.dir, 'config.json'), JSON.stringify(file));
    return loadConfig({ home: home.dir }, env);
  };

  it('has documented defaults', () => {
    const c = withFile({});
    assert.equal(c.spoolDir, join(home.dir, 'spool'));
    assert.equal(c.hookLogFile, join(home.dir, 'logs', 'hooks.log'));
    assert.equal(c.hookSpoolMaxBytes, 64 * 1024 * 1024);
    assert.equal(c.hookSpoolDrainMs, 5000);
    assert.equal(c.websocket.snapshotIntervalMs, 1000);
    assert.deepEqual(c.codex, { enabled: true, home: join(homedir(), '.codex'), idleMs: 5 * 60_000, stopAfterMs: 30 * 60_000, pollMs: 1000 });
  });

  it('reads the codex block, with CODEX_HOME winning over the file', () => {
    const c = withFile({ codex: { enabled: false, home: '~/elsewhere', idle_minutes: 2, poll_seconds: 0.5 }, hook_spool_max_bytes: 1024 });
    assert.deepEqual(c.codex, { enabled: false, home: join(homedir(), 'elsewhere'), idleMs: 120_000, stopAfterMs: 30 * 60_000, pollMs: 500 });
    assert.equal(c.hookSpoolMaxBytes, 1024);
    assert.equal(withFile({ codex: { home: '/a' } }, { CODEX_HOME: '/b' }).codex.home, '/b');
    assert.equal(withFile({ hook_spool_drain_seconds: 0 }).hookSpoolDrainMs, 0);
    assert.equal(withFile({ websocket: { snapshot_interval_seconds: 0.25 } }).websocket.snapshotIntervalMs, 250);
  });

  it('refuses bad values and unknown keys, naming them', () => {
    assert.throws(() => withFile({ codex: { idle_minutes: -1 } }), (e: Error) => e instanceof ConfigError && /codex\.idle_minutes/.test(e.message));
    assert.throws(() => withFile({ codex: { watch: true } }), (e: Error) => e instanceof ConfigError && /codex\.watch is not a setting token-api knows/.test(e.message));
    assert.throws(() => withFile({ hook_spool_max_bytes: 'big' }), /hook_spool_max_bytes/);
    assert.throws(() => withFile({ hook_spool_drain_seconds: -1 }), /hook_spool_drain_seconds/);
  });
});
