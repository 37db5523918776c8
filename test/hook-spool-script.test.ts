// The hook script's spool under faults, with the real script (sh + curl) and a real token-api:
// replay in the order the hooks ran across batches (sequence numbers, millisecond times), a
// large spool uploaded in pieces, refusals (401, 429, 503) that keep the batch, a malformed line
// set aside alone with its reason where it was spooled, a spool that cannot be written (said
// in the log or on stderr, never "event spooled"), and a server that accepts connections but
// never answers (SIGSTOP): every hook still ends within its time budget.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hookEnv, runHookScript } from './support/hook-script.js';
import { startServerProcess, type ServerProcess } from './support/process.js';
import { hookPayload, startTestServer, tempHome, type TestServer } from './support/system.js';

const homes: ReturnType<typeof tempHome>[] = [];
const servers: TestServer[] = [];
const closers: (() => Promise<unknown> | void)[] = [];
function home(): string {
  const h = tempHome('token-api-spool-');
  homes.push(h);
  return h.dir;
}
async function serve(dir: string, file: Parameters<typeof startTestServer>[1] = {}, options: Parameters<typeof startTestServer>[2] = {}): Promise<TestServer> {
  const s = await startTestServer(dir, file, options);
  servers.push(s);
  return s;
}
async function stop(s: TestServer): Promise<void> {
  servers.splice(servers.indexOf(s), 1);
  await s.close();
}
after(async () => {
  for (const c of closers) await c();
  for (const s of servers) await s.close().catch(() => undefined);
  for (const h of homes) h.cleanup();
});

/** A port nothing listens on. */
const DOWN = 'http://127.0.0.1:1';

function spoolFiles(dir: string): string[] {
  const d = join(dir, 'spool');
  return existsSync(d) ? readdirSync(d).sort() : [];
}
/** Every line waiting in the spool (batches in name order, then the spool file). */
function waiting(dir: string): Record<string, any>[] {
  const d = join(dir, 'spool');
  const files = [...spoolFiles(dir).filter((n) => /^batch-.*\.ndjson$/.test(n)), 'hooks.ndjson'];
  return files.flatMap((n) => (existsSync(join(d, n)) ? readFileSync(join(d, n), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []));
}
function rejectedLines(dir: string): Record<string, any>[] {
  const f = join(dir, 'spool', 'rejected.ndjson');
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
}
const hookLog = (dir: string) => (existsSync(join(dir, 'logs', 'hooks.log')) ? readFileSync(join(dir, 'logs', 'hooks.log'), 'utf8') : '');

async function hookTypes(s: TestServer, instance: string, headers: Record<string, string> = {}): Promise<string[]> {
  const r = await s.request('GET', `/api/events?instance=${instance}&type=hook.*&limit=500`, undefined, headers);
  return r.body.events.map((e: { type: string }) => e.type).reverse();
}

function send(url: string, dir: string, session: string, name: string, extra: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}) {
  return runHookScript([name], JSON.stringify(hookPayload(session, name, extra)), hookEnv(url, dir, env));
}

/** An HTTP server that answers every request with one status (a proxy in front of token-api, say), and counts them. */
async function answering(status: number): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'unavailable', message: `answered ${status}` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = () => new Promise<void>((r) => server.close(() => r()));
  closers.push(close);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, close };
}

describe('the hook script spool: order', () => {
  it('gives each spooled event the next sequence number and its time in milliseconds, and names batches by sequence', async () => {
    const dir = home();
    const before = Date.now();
    for (const name of ['UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'Stop', 'SessionEnd']) {
      const r = await send(DOWN, dir, 'seq-1', name, name.endsWith('ToolUse') ? { tool_name: 'Bash' } : {});
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', '']);
    }
    const afterAll = Date.now();
    const lines = waiting(dir);
    assert.deepEqual(lines.map((l) => l.body.hook_event_name), ['UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'Stop', 'SessionEnd']);
    for (let i = 1; i < lines.length; i++) assert.equal(lines[i]!.seq, lines[i - 1]!.seq + 1, 'consecutive sequence numbers');
    for (const l of lines) assert.ok(l.spooled_at >= before - 1 && l.spooled_at <= afterAll + 1, `spooled_at ${l.spooled_at} is the time in ms`);
    assert.ok(lines.some((l) => l.spooled_at % 1000 !== 0), 'milliseconds, not seconds');
    // Every hook after the first found the spool waiting and tried to upload it: the spool became a batch named by its last sequence number.
    const batches = spoolFiles(dir).filter((n) => n.startsWith('batch-'));
    assert.ok(batches.length >= 1);
    for (const b of batches) assert.match(b, /^batch-s\d{20}\.ndjson$/);
  });

  it('replays batches in the order the hooks ran, whatever the names: a later batch of the same second from a lower pid', async () => {
    const dir = home();
    mkdirSync(join(dir, 'spool'));
    const l = (id: string, seq: number, name: string, at: number) => JSON.stringify({ event_id: id, seq, spooled_at: at, query: `event_id=${id}`, body: hookPayload('pids', name) });
    const t = Math.floor(Date.now() / 1000) * 1000 - 5000;
    // Names as earlier versions wrote them (batch-<seconds>-<pid>): the later batch sorts first.
    writeFileSync(join(dir, 'spool', `batch-${t / 1000}-99999.ndjson`), `${l('pids-event-1', 41, 'SessionStart', t + 100)}\n${l('pids-event-2', 42, 'UserPromptSubmit', t + 200)}\n`);
    writeFileSync(join(dir, 'spool', `batch-${t / 1000}-99998.ndjson`), `${l('pids-event-3', 43, 'Stop', t + 300)}\n`);
    const s = await serve(dir);
    assert.equal(s.system.started.spoolReplay.replayed, 3);
    assert.deepEqual(await hookTypes(s, 'claude-pids'), ['hook.session_start', 'hook.user_prompt_submit', 'hook.stop']);
    const inst = await s.request('GET', '/api/instances/claude-pids');
    assert.equal(inst.body.state, 'idle', 'the Stop came last: not stuck working');
    assert.equal(inst.body.state_since, new Date(t + 300).toISOString());
  });

  it('a spool spanning several batches and restarts replays in hook order, each event once', async () => {
    const dir = home();
    let s = await serve(dir);
    await send(s.url, dir, 'span', 'SessionStart', { source: 'startup' });
    await stop(s);
    const names: string[] = [];
    for (let i = 0; i < 12; i++) {
      const name = i % 3 === 0 ? 'UserPromptSubmit' : i % 3 === 1 ? 'PreToolUse' : 'Stop';
      names.push(name);
      await send(DOWN, dir, 'span', name, name === 'PreToolUse' ? { tool_name: `T${i}` } : {});
    }
    assert.ok(spoolFiles(dir).filter((n) => n.startsWith('batch-')).length >= 1);
    s = await serve(dir);
    const types = await hookTypes(s, 'claude-span');
    assert.deepEqual(types.slice(1), names.map((n) => `hook.${n === 'UserPromptSubmit' ? 'user_prompt_submit' : n === 'PreToolUse' ? 'pre_tool_use' : 'stop'}`));
    const events = (await s.request('GET', '/api/events?instance=claude-span&type=hook.*&limit=50')).body.events.reverse();
    const times = events.map((e: { created_at: string }) => Date.parse(e.created_at));
    assert.deepEqual([...times].sort((a, b) => a - b), times, 'no event is recorded before one that preceded it');
    assert.equal((await s.request('GET', '/api/instances/claude-span')).body.state, 'idle');
  });
});

describe('the hook script spool: uploads', () => {
  it('uploads a spool larger than token-api takes at once in pieces under the limit, in order', async () => {
    const desktop = home();
    const laptop = home();
    const limit = 48 * 1024;
    const output = 'o'.repeat(6 * 1024);
    for (let i = 0; i < 30; i++) await send(DOWN, laptop, 'big', i === 0 ? 'UserPromptSubmit' : 'PostToolUse', i === 0 ? {} : { tool_name: 'Bash', tool_response: { stdout: `${i}:${output}` } });
    const spooled = waiting(laptop).length;
    assert.equal(spooled, 30);
    const s = await serve(desktop, { hook_spool_max_bytes: limit });
    // Pieces of 1 MiB by default: too large here, so each refused piece is cut in two for the next event.
    let calls = 0;
    while (waiting(laptop).length > 0 && calls < 12) {
      await send(s.url, laptop, 'big', 'Notification', { notification_type: 'idle_prompt', message: `n${calls}` });
      calls += 1;
    }
    assert.deepEqual(waiting(laptop), [], `uploaded in ${calls} events`);
    assert.deepEqual(rejectedLines(laptop), [], 'nothing set aside');
    const types = await hookTypes(s, 'claude-big');
    assert.equal(types.filter((t) => t === 'hook.post_tool_use').length, 29);
    assert.equal(types[0], 'hook.user_prompt_submit');
    const outputs = (await s.request('GET', '/api/events?instance=claude-big&type=hook.post_tool_use&limit=100')).body.events.reverse().map((e: any) => Number(String(e.details.payload.tool_response.stdout).split(':')[0]));
    assert.deepEqual(outputs, Array.from({ length: 29 }, (_, i) => i + 1), 'in the order the hooks ran');
    assert.match(hookLog(laptop), /larger than token-api accepts \(hook_spool_max_bytes\); cut in two/);

    // With pieces that fit (TOKEN_API_SPOOL_PIECE_BYTES), one event uploads everything.
    const other = home();
    for (let i = 0; i < 20; i++) await send(DOWN, other, 'fits', 'PostToolUse', { tool_name: 'Read', tool_response: { stdout: output } });
    await send(s.url, other, 'fits', 'Stop', {}, { TOKEN_API_SPOOL_PIECE_BYTES: String(limit - 1024) });
    assert.deepEqual(waiting(other), []);
    assert.equal((await hookTypes(s, 'claude-fits')).length, 21);
  });

  it('keeps the batch when token-api refuses the token (401), then uploads it with the right one', async () => {
    const desktop = home();
    const laptop = home();
    // The laptop is another machine: the desktop asks it for the token.
    const s = await serve(desktop, {}, { peerAddress: () => '100.64.0.9' });
    const token = readFileSync(s.config.tokenFile, 'utf8').trim();
    await send(DOWN, laptop, 'tok', 'UserPromptSubmit');
    await send(s.url, laptop, 'tok', 'PreToolUse', { tool_name: 'Bash' }, { TOKEN_API_TOKEN: 'rotated-long-ago' });
    assert.equal(waiting(laptop).length, 2, 'kept, not thrown away');
    assert.deepEqual(spoolFiles(laptop).filter((n) => n.endsWith('.rejected')), []);
    assert.deepEqual(rejectedLines(laptop), []);
    assert.match(hookLog(laptop), /spool upload failed \(curl exit 0, HTTP 401: .*\); kept/);
    await send(s.url, laptop, 'tok', 'Stop', {}, { TOKEN_API_TOKEN: token });
    assert.deepEqual(waiting(laptop), []);
    assert.deepEqual(await hookTypes(s, 'claude-tok', { authorization: `Bearer ${token}` }), ['hook.user_prompt_submit', 'hook.pre_tool_use', 'hook.stop']);
  });

  it('keeps the batch on 503 and 429, and after a 429 leaves token-api alone for a few seconds', async () => {
    const laptop = home();
    await send(DOWN, laptop, 'busy', 'UserPromptSubmit');
    const failing = await answering(503);
    await send(failing.url, laptop, 'busy', 'PreToolUse', { tool_name: 'Bash' });
    assert.ok(failing.requests.includes('POST /api/hooks/spool'));
    assert.equal(waiting(laptop).length, 2);
    assert.match(hookLog(laptop), /spool upload failed \(curl exit 0, HTTP 503: .*\); kept/);

    const slowDown = await answering(429);
    await send(slowDown.url, laptop, 'busy', 'PostToolUse', { tool_name: 'Bash' });
    assert.deepEqual(slowDown.requests, ['POST /api/hooks/spool']);
    await send(slowDown.url, laptop, 'busy', 'Notification', { notification_type: 'idle_prompt' });
    assert.deepEqual(slowDown.requests, ['POST /api/hooks/spool'], 'no second upload within the wait');
    assert.equal(waiting(laptop).length, 4);
    assert.deepEqual(rejectedLines(laptop), []);

    // Once the wait is over (its end is in spool/retry-after), the spool goes to the real token-api.
    writeFileSync(join(laptop, 'spool', 'retry-after'), `${Date.now() - 1}\n`);
    const s = await serve(home());
    await send(s.url, laptop, 'busy', 'Stop');
    assert.deepEqual(waiting(laptop), []);
    assert.deepEqual(await hookTypes(s, 'claude-busy'), ['hook.user_prompt_submit', 'hook.pre_tool_use', 'hook.post_tool_use', 'hook.notification', 'hook.stop']);
  });

  it('sets a malformed line aside alone, with its reason, on the machine that spooled it; the rest of its batch is replayed', async () => {
    const desktop = home();
    const laptop = home();
    await send(DOWN, laptop, 'mixed', 'UserPromptSubmit');
    const bad = await runHookScript(['PreToolUse'], JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: 'Bash', cwd: '/x' }), hookEnv(DOWN, laptop));
    assert.equal(bad.code, 0);
    await send(DOWN, laptop, 'mixed', 'Stop');
    assert.equal(waiting(laptop).length, 3);
    const s = await serve(desktop);
    await send(s.url, laptop, 'mixed', 'SessionEnd');
    assert.deepEqual(waiting(laptop), []);
    assert.deepEqual(await hookTypes(s, 'claude-mixed'), ['hook.user_prompt_submit', 'hook.stop', 'hook.session_end']);
    const aside = rejectedLines(laptop);
    assert.equal(aside.length, 1, 'only the bad line');
    assert.match(aside[0]!.reason, /session_id/);
    assert.equal(JSON.parse(aside[0]!.line).body.hook_event_name, 'PreToolUse');
    assert.match(aside[0]!.source, /^batch-s\d{20}/);
    assert.equal(existsSync(join(desktop, 'spool', 'rejected.ndjson')), false, 'nothing of the laptop kept on the desktop');
    const log = hookLog(laptop);
    const named = /kept in (\S+) with the reasons/.exec(log);
    assert.ok(named && existsSync(named[1]!), `the log names a file that exists: ${log}`);

    // A piece in which no line can be replayed (400): each line aside with its own reason.
    writeFileSync(join(laptop, 'spool', 'hooks.ndjson'), `not json at all\n${JSON.stringify({ event_id: 'only-bad-0001', seq: 7, spooled_at: Date.now(), query: 'pid=abc', body: hookPayload('mixed', 'Stop') })}\n`);
    await send(s.url, laptop, 'mixed', 'Notification', { notification_type: 'idle_prompt' });
    assert.deepEqual(waiting(laptop), []);
    const all = rejectedLines(laptop);
    assert.equal(all.length, 3);
    assert.match(all[1]!.reason, /not JSON/);
    assert.equal(all[1]!.line, 'not json at all');
    assert.match(all[2]!.reason, /pid/);
    assert.deepEqual((await hookTypes(s, 'claude-mixed')).at(-1), 'hook.notification');
  });
});

describe('the hook script spool: a spool that cannot be written', () => {
  it('says the event is lost, in the log, when the spool directory cannot be created (a file stands there)', async () => {
    const dir = home();
    writeFileSync(join(dir, 'spool'), 'not a directory');
    const started = performance.now();
    const r = await send(DOWN, dir, 'nospool', 'Stop');
    const took = performance.now() - started;
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', '']);
    assert.ok(took < 1500, `no waiting on a lock it can never take (${Math.round(took)} ms)`);
    const log = hookLog(dir);
    assert.match(log, /Stop could not keep the event \(cannot connect to .*; cannot create .*spool: (Not a directory|File exists)\); it is lost/);
    assert.doesNotMatch(log, /event spooled/);
  });

  it('says so when the disk is full (the spool file is /dev/full)', async () => {
    const dir = home();
    mkdirSync(join(dir, 'spool'));
    symlinkSync('/dev/full', join(dir, 'spool', 'hooks.ndjson'));
    const r = await send(DOWN, dir, 'full', 'Stop');
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', '']);
    assert.match(hookLog(dir), /could not keep the event \(.*cannot write .*hooks\.ndjson: .*\); it is lost/);
    assert.doesNotMatch(hookLog(dir), /event spooled/);
  });

  it('says so on stderr when the log cannot be written either', async () => {
    const dir = home();
    writeFileSync(join(dir, 'spool'), 'x');
    writeFileSync(join(dir, 'logs'), 'x');
    const r = await send(DOWN, dir, 'nolog', 'Stop');
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^token-api hook: could not keep the Stop event \(.*\) nor write .*hooks\.log; it is lost\n$/);
  });

  it('sends the event on its own when it cannot join events waiting in the spool', async () => {
    const dir = home();
    const s = await serve(home());
    mkdirSync(join(dir, 'spool'));
    writeFileSync(join(dir, 'spool', 'batch-s00000000000000000001.ndjson'), `${JSON.stringify({ event_id: 'waiting-1-event', seq: 1, spooled_at: Date.now(), query: '', body: hookPayload('alone', 'UserPromptSubmit') })}\n`);
    symlinkSync('/dev/full', join(dir, 'spool', 'hooks.ndjson'));
    await send(s.url, dir, 'alone', 'PreToolUse', { tool_name: 'Bash' });
    assert.deepEqual(await hookTypes(s, 'claude-alone'), ['hook.pre_tool_use']);
    assert.doesNotMatch(hookLog(dir), /it is lost/);
  });
});

describe('the hook script against a token-api that never answers', () => {
  it('ends every hook within TOKEN_API_HOOK_TIMEOUT (plus a process start), 20 in a row; nothing is lost', { timeout: 120_000 }, async () => {
    const dir = home();
    const server: ServerProcess = await startServerProcess(dir, [], {});
    closers.push(() => server.kill());
    const env = { TOKEN_API_HOOK_TIMEOUT: '1' };
    await send(server.url, dir, 'stopped', 'SessionStart', { source: 'startup' }, env);
    server.child.kill('SIGSTOP');
    const took: number[] = [];
    const names: string[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const name = ['UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'Stop'][i % 4]!;
        names.push(name);
        const t = performance.now();
        const r = await send(server.url, dir, 'stopped', name, name.endsWith('ToolUse') ? { tool_name: `T${i}` } : {}, env);
        took.push(Math.round(performance.now() - t));
        assert.equal(r.code, 0);
      }
    } finally {
      server.child.kill('SIGCONT');
    }
    // The defect was a fixed 5 s per hook (2.0, 5.0, 5.0, … s) whatever the budget said. The
    // script spends at most its budget (1 s here) plus the processes it starts; on a loaded
    // 2-core machine running the suite twice, starting sh, curl and mkdir can take a second or
    // more by itself. So each hook is held under 3 s (still well short of the old 5 s) and the
    // 20 together under 40 s (the defect took about 97 s): a slow process start fails neither,
    // a fixed wait past the budget fails both.
    assert.ok(took.every((ms) => ms < 3000), `each hook under 3 s: ${took.join(', ')} ms`);
    const total = took.reduce((a, b) => a + b, 0);
    assert.ok(total < 40_000, `the 20 hooks under 40 s together: ${total} ms (${took.join(', ')} ms)`);
    assert.equal(waiting(dir).length, 20, 'every event spooled');
    // Once it answers again, the server's own look at its spool (every 5 s) replays them, in order.
    const deadline = Date.now() + 30_000;
    let types: string[] = [];
    while (Date.now() < deadline) {
      const res = await fetch(`${server.url}/api/events?instance=claude-stopped&type=hook.*&limit=100`);
      types = ((await res.json()) as { events: { type: string }[] }).events.map((e) => e.type).reverse();
      if (types.length === 21) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const snake = (n: string) => `hook.${n.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase()}`;
    assert.deepEqual(types, ['hook.session_start', ...names.map(snake)]);
  });
});
