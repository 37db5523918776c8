// The real hook script (sh + curl) against a running token-api, a stopped one (the event is
// spooled) and after a restart (the spool is replayed, nothing twice); uploads of the spool
// to a server that does not share the data directory; concurrent appends; failures logged.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { tokenApiHandler } from '../src/cli/install/claude-settings.js';
import { HOOK_SCRIPT, hookEnv, runHookScript } from './support/hook-script.js';
import { hookPayload, startTestServer, tempHome, type TestServer } from './support/system.js';
import { databaseOf } from './support/sqlite.js';

const homes: ReturnType<typeof tempHome>[] = [];
const servers: TestServer[] = [];
function home() {
  const h = tempHome('token-api-hook-');
  homes.push(h);
  return h.dir;
}
async function serve(dir: string): Promise<TestServer> {
  const s = await startTestServer(dir);
  servers.push(s);
  return s;
}
after(async () => {
  for (const s of servers) await s.close().catch(() => undefined);
  for (const h of homes) h.cleanup();
});

async function hookTypes(s: TestServer, instance: string): Promise<string[]> {
  const r = await s.request('GET', `/api/events?instance=${instance}&type=hook.*&limit=200`);
  return r.body.events.map((e: { type: string }) => e.type).reverse();
}

/** Every spooled line, oldest first: batches waiting for an upload, then the spool file. */
function spoolLines(dir: string): string[] {
  const d = join(dir, 'spool');
  if (!existsSync(d)) return [];
  const files = [...readdirSync(d).filter((n) => /^batch-.*\.ndjson$/.test(n)).sort(), 'hooks.ndjson'];
  return files.flatMap((n) => (existsSync(join(d, n)) ? readFileSync(join(d, n), 'utf8').split('\n').filter(Boolean) : []));
}

describe('hooks/token-api-hook.sh', () => {
  it('forwards the JSON unchanged with pid, SSH origin, tab name and an event id, says nothing and exits 0', async () => {
    const dir = home();
    const s = await serve(dir);
    const body = hookPayload('script-1', 'SessionStart', { source: 'startup', future_field: { nested: [1, 'two'] } });
    const r = await runHookScript(['SessionStart'], JSON.stringify(body), hookEnv(s.url, dir, { SSH_CLIENT: '100.102.92.24 52311 22', TOKEN_API_TAB: 'api: tests/1' }));
    assert.deepEqual(r, { code: 0, stdout: '', stderr: '' });
    const inst = await s.request('GET', '/api/instances/claude-script-1');
    assert.equal(inst.status, 200);
    assert.equal(inst.body.tab_name, 'api: tests/1');
    assert.equal(inst.body.display_name, 'api: tests/1');
    assert.deepEqual(inst.body.origin, { type: 'ssh', source_ip: '100.102.92.24', device_id: 'unknown' });
    // Spawned by this process (no shell in between): the agent's pid is ours.
    assert.equal(inst.body.pid, process.pid);
    const events = await s.request('GET', '/api/events?instance=claude-script-1&type=hook.session_start');
    assert.deepEqual(events.body.events[0].details.payload, body);
    const ids = await databaseOf(s.system).all<{ event_id: string }>('SELECT event_id FROM hook_event_ids');
    assert.equal(ids.length, 1);
    assert.match(ids[0]!.event_id, /^[0-9a-f-]{36}$/);

    // Tool events: the hot path, state follows.
    const pre = await runHookScript(['PreToolUse'], JSON.stringify(hookPayload('script-1', 'PreToolUse', { tool_name: 'Bash' })), hookEnv(s.url, dir));
    assert.equal(pre.code, 0);
    assert.equal((await s.request('GET', '/api/instances/claude-script-1')).body.state, 'working');
    assert.equal(existsSync(join(dir, 'spool', 'hooks.ndjson')), false);
  });

  it('spools while token-api is down and the restarted server replays the spool in order, nothing twice', async () => {
    const dir = home();
    let s = await serve(dir);
    const env = () => hookEnv(s.url, dir);
    const send = (name: string, extra: Record<string, unknown> = {}) => runHookScript([name], JSON.stringify(hookPayload('outage', name, extra)), env());
    await send('SessionStart', { source: 'startup' });
    await send('UserPromptSubmit', { prompt: 'go' });
    await s.close();

    for (const [name, extra] of [
      ['PreToolUse', { tool_name: 'Bash' }],
      ['PostToolUse', { tool_name: 'Bash', tool_response: { stdout: 'multi\nline' } }],
      ['Stop', {}],
    ] as const) {
      const r = await send(name, extra);
      assert.deepEqual([r.code, r.stdout], [0, ''], 'a stopped server never fails the agent');
    }
    const lines = spoolLines(dir);
    assert.equal(lines.length, 3);
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).body.hook_event_name),
      ['PreToolUse', 'PostToolUse', 'Stop'],
    );
    assert.match(readFileSync(join(dir, 'logs', 'hooks.log'), 'utf8'), /cannot connect to .* event spooled/);

    s = await serve(dir);
    assert.equal(s.system.started.spoolReplay.replayed, 3);
    assert.deepEqual(await hookTypes(s, 'claude-outage'), ['hook.session_start', 'hook.user_prompt_submit', 'hook.pre_tool_use', 'hook.post_tool_use', 'hook.stop']);
    const inst = await s.request('GET', '/api/instances/claude-outage');
    assert.equal(inst.body.state, 'idle');
    assert.equal(inst.body.tool_count, 1);
    assert.deepEqual(readdirSync(join(dir, 'spool')).filter((n) => n.endsWith('.ndjson')), [], 'the spool is gone once replayed');

    // A spooled event keeps the time it happened, not the time it was replayed.
    const stop = (await s.request('GET', '/api/events?instance=claude-outage&type=hook.stop')).body.events[0];
    assert.equal(stop.created_at, new Date(JSON.parse(lines[2]!).spooled_at).toISOString());

    // Restarting again replays nothing.
    await s.close();
    s = await serve(dir);
    assert.equal(s.system.started.spoolReplay.replayed, 0);
    assert.equal((await hookTypes(s, 'claude-outage')).length, 5);
  });

  it('an event the server committed but whose answer was lost is not applied again from the spool', async () => {
    const dir = home();
    const s = await serve(dir);
    const eventId = '0b9d4c52-6d0a-4c55-9d0e-1c1b1f0a7e11';
    const pre = hookPayload('lost-answer', 'PreToolUse', { tool_name: 'Read' });
    const post = hookPayload('lost-answer', 'PostToolUse', { tool_name: 'Read' });
    assert.equal((await s.hook(pre, `?event_id=${eventId}`)).status, 200);
    assert.equal((await s.hook(post, `?event_id=${eventId}-post`)).status, 200);
    // The script timed out waiting, so it spooled the PostToolUse that token-api had already taken.
    mkdirSync(join(dir, 'spool'), { recursive: true });
    writeFileSync(join(dir, 'spool', 'hooks.ndjson'), `${JSON.stringify({ event_id: `${eventId}-post`, spooled_at: Date.now(), query: `event_id=${eventId}-post`, body: post })}\n`);

    const r = await runHookScript(['PreToolUse'], JSON.stringify(hookPayload('lost-answer', 'PreToolUse', { tool_name: 'Edit' })), hookEnv(s.url, dir));
    assert.equal(r.code, 0);
    assert.deepEqual(await hookTypes(s, 'claude-lost-answer'), ['hook.pre_tool_use', 'hook.post_tool_use', 'hook.pre_tool_use']);
    const inst = await s.request('GET', '/api/instances/claude-lost-answer');
    assert.equal(inst.body.tool_count, 1, 'the PostToolUse counted once');
    assert.equal(inst.body.current_tool, 'Edit');
    assert.deepEqual(spoolLines(dir), []);
  });

  it('uploads the spool to a token-api on another machine (no shared data directory) before the next event', async () => {
    const laptop = home();
    const desktop = home();
    let s = await serve(desktop);
    const send = (name: string, extra: Record<string, unknown> = {}) => runHookScript([name], JSON.stringify(hookPayload('laptop-1', name, extra)), hookEnv(s.url, laptop, { SSH_CLIENT: '100.64.0.7 40000 22' }));
    await send('SessionStart', { source: 'startup' });
    const url = s.url;
    await s.close();
    await send('UserPromptSubmit');
    await send('PreToolUse', { tool_name: 'Grep' });
    assert.equal(spoolLines(laptop).length, 2);

    s = await serve(desktop);
    assert.equal(s.system.started.spoolReplay.replayed, 0, 'the desktop has no spool of its own');
    assert.notEqual(s.url, url);
    await send('PostToolUse', { tool_name: 'Grep' });
    assert.deepEqual(await hookTypes(s, 'claude-laptop-1'), ['hook.session_start', 'hook.user_prompt_submit', 'hook.pre_tool_use', 'hook.post_tool_use']);
    assert.deepEqual(readdirSync(join(laptop, 'spool')).filter((n) => n.endsWith('.ndjson')), []);
    assert.equal((await s.request('GET', '/api/instances/claude-laptop-1')).body.origin.source_ip, '100.64.0.7');
  });

  it('concurrent hooks during an outage each append one whole line, even large ones', async () => {
    const dir = home();
    const s = await serve(dir);
    await s.close();
    const big = 'x'.repeat(300_000);
    const runs = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        runHookScript(['PostToolUse'], JSON.stringify(hookPayload(`par-${i}`, 'PostToolUse', { tool_name: 'Bash', tool_response: { stdout: big } })), hookEnv(s.url, dir)),
      ),
    );
    assert.ok(runs.every((r) => r.code === 0));
    const lines = spoolLines(dir);
    assert.equal(lines.length, 6);
    const sessions = lines.map((l) => JSON.parse(l).body.session_id).sort();
    assert.deepEqual(sessions, ['par-0', 'par-1', 'par-2', 'par-3', 'par-4', 'par-5']);
    assert.ok(lines.every((l) => JSON.parse(l).body.tool_response.stdout.length === 300_000));
  });

  it('logs why it failed: no curl, a refused event (kept aside on replay, with its reason)', async () => {
    const dir = home();
    const s = await serve(dir);
    // A PATH with the tools the script may use, but no curl.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const tool of ['cat', 'tr', 'date', 'mkdir', 'rmdir', 'mv', 'rm', 'find', 'wc', 'sleep', 'readlink']) {
      for (const d of ['/usr/bin', '/bin']) {
        if (existsSync(join(d, tool))) {
          symlinkSync(join(d, tool), join(bin, tool));
          break;
        }
      }
    }
    const r = await runHookScript(['Stop'], JSON.stringify(hookPayload('no-curl', 'Stop')), hookEnv(s.url, dir, { PATH: bin }));
    assert.deepEqual([r.code, r.stdout], [0, '']);
    assert.match(readFileSync(join(dir, 'logs', 'hooks.log'), 'utf8'), /Stop curl is not installed; event spooled/);

    assert.equal(spoolLines(dir).length, 1);

    // With curl back, the next event (one token-api refuses: no session id) joins the spool and
    // the spool is uploaded: the good event is replayed, the refused one kept aside with why.
    const bad = await runHookScript(['PreToolUse'], JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: 'Bash' }), hookEnv(s.url, dir));
    assert.deepEqual([bad.code, bad.stdout], [0, '']);
    assert.deepEqual(spoolLines(dir), []);
    assert.deepEqual(await hookTypes(s, 'claude-no-curl'), ['hook.stop']);
    await runHookScript(['Notification'], JSON.stringify(hookPayload('no-curl', 'Notification', { notification_type: 'idle_prompt' })), hookEnv(s.url, dir));
    assert.deepEqual(await hookTypes(s, 'claude-no-curl'), ['hook.stop', 'hook.notification']);
    const rejected = readFileSync(join(dir, 'spool', 'rejected.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rejected.length, 1);
    assert.match(rejected[0].reason, /session_id/);
    assert.match(readFileSync(join(dir, 'logs', 'hooks.log'), 'utf8'), /token-api refused some spooled events as malformed; kept in .*rejected\.ndjson with the reasons/);
  });

  it('runs as Claude Code runs it: the exact command `hooks install` writes, through sh -c', async () => {
    const dir = home();
    const s = await serve(dir);
    const handler = tokenApiHandler('UserPromptSubmit', { mode: 'command', scriptPath: HOOK_SCRIPT, url: s.url, env: { TOKEN_API_HOME: dir, TOKEN_API_URL: s.url }, withToken: false });
    const command = String(handler.command);
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('/bin/sh', ['-c', command], { env: hookEnv('http://127.0.0.1:1', '/nonexistent'), stdio: ['pipe', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('close', (code) => resolve({ code, out }));
      child.stdin.end(JSON.stringify(hookPayload('as-claude', 'UserPromptSubmit', { prompt: 'hello' })));
    });
    assert.deepEqual(r, { code: 0, out: '' });
    const inst = await s.request('GET', '/api/instances/claude-as-claude');
    assert.equal(inst.body.state, 'working');
    assert.equal(inst.body.pid, process.pid, 'exec: no shell left between the agent and the script');
  });

  it('--check reports where it sends events and whether token-api answers', async () => {
    const dir = home();
    const s = await serve(dir);
    const r = await runHookScript(['--check'], '', hookEnv(s.url, dir));
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^url=${s.url}$`, 'm'));
    assert.match(r.stdout, /^health=200$/m);
    assert.match(r.stdout, new RegExp(`^spool=${dir}/spool/hooks.ndjson$`, 'm'));
  });
});
