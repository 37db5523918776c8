// `token-api hooks doctor` and `token-api codex-notify`, run as real commands against a real
// token-api: what doctor reports and advises, and codex-notify's forwarding, chaining and
// silence when the server is down.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hookEnv, runHookScript } from './support/hook-script.js';
import { runCli } from './support/process.js';
import { hookPayload, startTestServer, tempHome } from './support/system.js';

describe('token-api hooks doctor', () => {
  const home = tempHome('token-api-doctor-');
  after(() => home.cleanup());

  it('reports each link of the chain, with what to do about each problem', async () => {
    // The spool written below must still be waiting when doctor runs: no periodic replay here.
    const s = await startTestServer(home.dir, { codex: { enabled: false }, hook_spool_drain_seconds: 0 });
    const settings = join(home.dir, 'settings.json');
    const env = { TOKEN_API_URL: s.url };
    try {
      const installed = await runCli(['hooks', 'install', '--settings', settings, '--home', home.dir], env);
      assert.equal(installed.code, 0, installed.stderr);
      await s.hook(hookPayload('doc-1', 'SessionStart', { source: 'startup' }));
      await s.hook(hookPayload('doc-1', 'PreToolUse', { tool_name: 'Bash' }));
      mkdirSync(join(home.dir, 'spool'), { recursive: true });
      writeFileSync(join(home.dir, 'spool', 'hooks.ndjson'), `${JSON.stringify({ event_id: 'waiting-event-1', spooled_at: Date.now(), query: '', body: hookPayload('doc-1', 'Stop') })}\n`);
      mkdirSync(join(home.dir, 'logs'), { recursive: true });
      writeFileSync(join(home.dir, 'logs', 'hooks.log'), '2026-11-23T10:00:00Z Stop cannot connect to http://127.0.0.1:7777 (is token-api running?); event spooled\n');

      const r = await runCli(['hooks', 'doctor', '--settings', settings, '--home', home.dir], env);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`^\\[ok\\]\\s+token-api \\S+ answers at ${s.url}`, 'm'));
      assert.match(r.stdout, /^\[ok\]\s+the hook script runs and reaches token-api/m);
      assert.match(r.stdout, /^\[ok\]\s+.*settings\.json: every event is hooked/m);
      assert.match(r.stdout, /^\s+SessionStart\s+last \d+ s ago .*, 1 in all$/m);
      assert.match(r.stdout, /^\s+Stop\s+never$/m);
      assert.match(r.stdout, /^\[warn\] 1 event\(s\) \(\d+ bytes\) wait in the spool/m);
      assert.match(r.stdout, /^\s+→ they are sent with the next hook event/m);
      assert.match(r.stdout, /^\[warn\] the hook script logged errors recently/m);
      assert.match(r.stdout, /cannot connect to http:\/\/127\.0\.0\.1:7777/);
    } finally {
      await s.close();
    }

    const down = await runCli(['hooks', 'doctor', '--settings', join(home.dir, 'none.json'), '--home', home.dir], { TOKEN_API_URL: s.url });
    assert.equal(down.code, 1);
    assert.match(down.stdout, /^\[FAIL\] token-api does not answer at /m);
    assert.match(down.stdout, /→ start it with `token-api serve`/);
    assert.match(down.stdout, /^\[FAIL\] .*none\.json does not exist: no hooks\n\s+→ run `token-api hooks install`/m);
    assert.match(down.stdout, /problem\(s\) to fix\.$/m);
  });
});

describe('token-api hooks doctor: events the hook script could not keep', () => {
  const home = tempHome('token-api-doctor-lost-');
  const serverHome = tempHome('token-api-doctor-server-');
  after(() => {
    home.cleanup();
    serverHome.cleanup();
  });

  it('reports a spool that cannot be written and the events lost because of it', async () => {
    const s = await startTestServer(serverHome.dir, { codex: { enabled: false } });
    try {
      // A file where the spool directory should be, and token-api down when a hook ran.
      writeFileSync(join(home.dir, 'spool'), 'not a directory');
      const hook = await runHookScript(['Stop'], JSON.stringify(hookPayload('doc-lost', 'Stop')), hookEnv('http://127.0.0.1:1', home.dir));
      assert.equal(hook.code, 0);
      const r = await runCli(['hooks', 'doctor', '--settings', join(home.dir, 'none.json'), '--home', home.dir], { TOKEN_API_URL: s.url });
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^\[FAIL\] the hook script cannot keep events in its spool \(.*spool: .+\): while token-api does not answer, events are lost$/m);
      assert.match(r.stdout, /→ make .*spool a directory this user can write/);
      assert.match(r.stdout, /^\[FAIL\] 1 hook event\(s\) were lost: token-api did not take them and the spool could not keep them/m);
      assert.match(r.stdout, /Stop could not keep the event \(cannot connect to .*\); it is lost/);
    } finally {
      await s.close();
    }
  });
});

describe('token-api codex-notify', () => {
  const home = tempHome('token-api-codex-notify-');
  after(() => home.cleanup());
  const notify = { type: 'agent-turn-complete', 'thread-id': '0199a0c2-2222-7000-8000-000000000042', 'turn-id': '3', cwd: '/srv/shop', 'input-messages': ['ship it'], 'last-assistant-message': 'Shipped.' };

  it('forwards the JSON Codex passes, then runs the chained program with it; exits 0 with the server down', async () => {
    const s = await startTestServer(home.dir, { codex: { enabled: false } });
    const out = join(home.dir, 'chained.json');
    try {
      const r = await runCli(['codex-notify', '--home', home.dir, '--', 'sh', '-c', 'printf %s "$1" > "$0"', out, JSON.stringify(notify)], { TOKEN_API_URL: s.url });
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', '']);
      const inst = await s.request('GET', '/api/instances/codex-0199a0c2-2222-7000-8000-000000000042');
      assert.equal(inst.body.agent_type, 'codex');
      assert.equal(inst.body.working_dir, '/srv/shop');
      assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), notify);
    } finally {
      await s.close();
    }
    const down = await runCli(['codex-notify', '--home', home.dir, JSON.stringify(notify)], { TOKEN_API_URL: s.url });
    assert.deepEqual([down.code, down.stdout], [0, '']);
    assert.match(readFileSync(join(home.dir, 'logs', 'hooks.log'), 'utf8'), /codex-notify cannot reach token-api/);
  });
});
