// GET /api/status over real HTTP: the service's state and configuration summary, with the hooks
// read from real settings files (Claude Code's, written as `hooks install` writes it; Codex's
// config.toml), the jobs, metrics, mode, instances, speech and sound the server knows; and a
// settings file that is missing or broken reported in words, not as a failure.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HOOK_EVENTS, installHooks } from '../src/cli/install/claude-settings.js';
import { readInstalledHooks } from '../src/cli/install/installed-hooks.js';
import { FakeClock } from './support/clock.js';
import { hookPayload, startTestServer, tempHome, type TestServer } from './support/system.js';

const QUIET = { notifications: { speech: { engine: 'none' as const }, sound: { player: 'none' as const } }, cron: { timezone: 'UTC' } };

describe('GET /api/status', () => {
  const home = tempHome();
  const claudeDir = join(home.dir, 'claude');
  const clock = new FakeClock();
  let s: TestServer;
  const previous = process.env.CLAUDE_CONFIG_DIR;
  before(async () => {
    mkdirSync(claudeDir, { recursive: true });
    process.env.CLAUDE_CONFIG_DIR = claudeDir;
    // As `serve` does: the command line hands the server its reader of the agents' settings.
    s = await startTestServer(home.dir, QUIET, { clock, installedHooks: (c) => readInstalledHooks(c) });
  });
  after(async () => {
    await s.close();
    if (previous === undefined) delete process.env.CLAUDE_CONFIG_DIR;
    else process.env.CLAUDE_CONFIG_DIR = previous;
    home.cleanup();
  });

  it('says what runs, where, and how it is set up', async () => {
    await s.hook(hookPayload('status-1', 'UserPromptSubmit'));
    await s.request('POST', '/api/metrics/phone.battery', { value: 80 });
    clock.advance(90_000);
    const r = await s.request('GET', '/api/status');
    assert.equal(r.status, 200);
    const b = r.body;
    assert.equal(b.service, 'token-api');
    assert.equal(b.status, 'ok');
    assert.equal(b.uptime_s, 90);
    assert.equal(b.machine.hostname, hostname());
    assert.equal(b.machine.local_device, 'desktop');
    assert.equal(b.data.home, home.dir);
    assert.equal(b.data.database, join(home.dir, 'token-api.db'));
    assert.ok(b.data.database_bytes > 0);
    assert.deepEqual(b.instances, { idle: 0, working: 1, awaiting: 0, total: 1 });
    assert.deepEqual(b.mode, { mode: 'work_silence', focus: false });
    assert.equal(b.speech.available, false);
    assert.equal(b.speech.problem !== null, true);
    assert.deepEqual(b.metrics, { keys: 1, max_keys: 1000 });
    assert.equal(b.jobs.total, 2);
    assert.deepEqual(b.jobs.next, { id: 'usage-scan', name: 'Usage scan of every transcript', at: '2026-11-23T13:00:00.000Z' });
    assert.equal(b.jobs.commands_allowed, false);
    assert.deepEqual(b.obsidian, { configured: false, url: 'https://127.0.0.1:27124', vault: null, eval_enabled: false });
    assert.equal(b.codex.home, join(home.dir, 'codex-home'));
    assert.equal(b.hooks.claude.installed, false);
    assert.equal(b.hooks.claude.problem, 'no settings file (token-api hooks install writes one)');
    assert.equal(b.hooks.codex.notify, 'none');
  });

  it("reads the hooks from Claude Code's settings and Codex's config as they are now", async () => {
    const options = { mode: 'command' as const, scriptPath: '/opt/token-api/hooks/token-api-hook.sh', url: 'http://127.0.0.1:7777', env: {}, withToken: false };
    const all = installHooks({}, options).settings;
    writeFileSync(join(claudeDir, 'settings.json'), JSON.stringify(all));
    mkdirSync(join(home.dir, 'codex-home'), { recursive: true });
    writeFileSync(join(home.dir, 'codex-home', 'config.toml'), 'model = "o3"\nnotify = ["/usr/bin/token-api", "codex-notify"]\n');
    let b = (await s.request('GET', '/api/status')).body;
    assert.equal(b.hooks.claude.installed, true);
    assert.equal(b.hooks.claude.mode, 'command');
    assert.deepEqual(b.hooks.claude.missing, []);
    assert.equal(b.hooks.claude.problem, null);
    assert.equal(b.hooks.codex.notify, 'token-api');

    const some = installHooks({}, options, ['SessionStart', 'Stop']).settings;
    writeFileSync(join(claudeDir, 'settings.json'), JSON.stringify(some));
    b = (await s.request('GET', '/api/status')).body;
    assert.equal(b.hooks.claude.installed, false);
    assert.deepEqual(b.hooks.claude.events, ['SessionStart', 'Stop']);
    assert.equal(b.hooks.claude.missing.length, HOOK_EVENTS.length - 2);
    assert.equal(b.hooks.claude.problem, 'some events are not hooked (token-api hooks install adds them)');

    writeFileSync(join(claudeDir, 'settings.json'), '{ not json');
    b = (await s.request('GET', '/api/status')).body;
    assert.equal(b.hooks.claude.installed, false);
    assert.match(b.hooks.claude.problem, /is not valid JSON/);
  });
});
