// Managed headless sessions through the real server: HTTP over loopback, a real WebSocket on
// /ws/sessions/{id}, a real SQLite file, and test/support/fake-claude.mjs as the agent (it
// speaks Claude Code's stream-json protocol). Start with a prompt, follow the output, send a
// second prompt, cancel a long turn, stop, forget; bad input; a child killed with SIGKILL; a
// server killed with kill -9 whose sessions are marked exited at the next start.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { FakeClock } from './support/clock.js';
import { FAKE_CLAUDE, until } from './support/sessions.js';
import { hookPayload, startTestServer, tempHome, type TestServer } from './support/system.js';
import { startServerProcess } from './support/process.js';
import { readRows } from './support/sqlite.js';
import { HOOK_SCRIPT } from './support/hook-script.js';

/** Messages of a session socket, with a way to wait for one that matches. */
function follow(url: string) {
  const ws = new WebSocket(url);
  const seen: any[] = [];
  const waiters: { match: (m: any) => boolean; resolve: (m: any) => void }[] = [];
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    seen.push(m);
    for (const w of [...waiters]) if (w.match(m)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(m));
  });
  const opened = new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)));
  return {
    seen,
    opened,
    next(match: (m: any) => boolean): Promise<any> {
      const found = seen.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
    send: (o: unknown) => ws.send(JSON.stringify(o)),
    close: () => ws.close(),
  };
}

const resultWith = (text: string) => (m: any) => m.type === 'output' && m.kind === 'result' && String(m.message.result ?? '').includes(text);

describe('managed headless sessions', () => {
  const home = tempHome('token-api-sessions-');
  const repo = join(home.dir, 'repo-a');
  const envFile = join(home.dir, 'child-env.json');
  let server: TestServer;

  before(async () => {
    mkdirSync(repo);
    process.env.FAKE_CLAUDE_ENV_FILE = envFile;
    server = await startTestServer(home.dir, { repos: [{ name: 'alpha', path: repo }], sessions: { claude_bin: FAKE_CLAUDE, prompt_max_bytes: 1000, stop_grace_seconds: 2 } });
  });
  after(async () => {
    delete process.env.FAKE_CLAUDE_ENV_FILE;
    await server.close();
    home.cleanup();
  });

  it('lists the configured repositories', async () => {
    const r = await server.request('GET', '/api/repos');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.repos, [{ name: 'alpha', path: repo, agent: 'claude', permission_mode: 'default' }]);
  });

  it('starts a session with a prompt, streams its output, takes a second prompt, cancels a long turn and stops', async () => {
    const started = await server.request('POST', '/api/sessions', { repo: 'alpha', name: 'first', prompt: 'hello there' });
    assert.equal(started.status, 201, started.text);
    const s = started.body;
    assert.match(s.id, /^ses-[0-9a-f]{12}$/);
    assert.equal(s.repo, 'alpha');
    assert.equal(s.kind, 'headless');
    assert.equal(s.cwd, repo);
    assert.ok(s.pid > 0);

    // The child runs in the repository with the session id in its environment and the agent session id chosen here.
    await until(async () => existsSync(envFile), Boolean, 'the child writing its environment');
    const env = JSON.parse(readFileSync(envFile, 'utf8'));
    assert.equal(env.token_api_session, s.id);
    assert.equal(env.cwd, repo);
    assert.deepEqual(env.args.slice(env.args.indexOf('--session-id'), env.args.indexOf('--session-id') + 2), ['--session-id', s.claude_session_id]);

    const ws = follow(`${server.url.replace(/^http/, 'ws')}/ws/sessions/${s.id}`);
    await ws.opened;
    const hello = await ws.next((m) => m.type === 'session');
    assert.equal(hello.session.id, s.id);
    await ws.next(resultWith('echo: hello there'));

    const sent = await server.request('POST', `/api/sessions/${s.id}/send`, { prompt: 'second one' });
    assert.equal(sent.status, 202, sent.text);
    assert.equal(sent.body.bytes, 10);
    await ws.next(resultWith('echo: second one'));
    await until(() => server.request('GET', `/api/sessions/${s.id}`), (r) => r.body.state === 'ready', 'ready after two turns');

    // A long turn, cancelled: the agent ends it with an error result and stays up.
    await server.request('POST', `/api/sessions/${s.id}/send`, { prompt: 'SLOW 500' });
    const cancelled = await server.request('POST', `/api/sessions/${s.id}/cancel`);
    assert.equal(cancelled.status, 200, cancelled.text);
    const aborted = await ws.next((m) => m.type === 'output' && m.kind === 'result' && m.message.subtype === 'error_during_execution');
    assert.equal(aborted.message.is_error, true);
    const ready = await until(() => server.request('GET', `/api/sessions/${s.id}`), (r) => r.body.state === 'ready', 'ready after the cancel');
    assert.equal(ready.body.exit, null);
    // Nothing left to cancel.
    assert.equal((await server.request('POST', `/api/sessions/${s.id}/cancel`)).status, 409);

    // The stored output, paged, in order, without the streamed-only messages.
    const page1 = await server.request('GET', `/api/sessions/${s.id}?limit=2`);
    assert.equal(page1.status, 200);
    assert.deepEqual(page1.body.output.messages.map((m: any) => m.seq), [1, 2]);
    assert.equal(page1.body.output.next_after, 2);
    const all = await server.request('GET', `/api/sessions/${s.id}?limit=1000`);
    const results = all.body.output.messages.filter((m: any) => m.kind === 'result').map((m: any) => m.message.subtype);
    assert.deepEqual(results, ['success', 'success', 'error_during_execution']);

    // A late viewer gets the stored output from the start.
    const late = follow(`${server.url.replace(/^http/, 'ws')}/ws/sessions/${s.id}`);
    await late.next(resultWith('echo: hello there'));
    late.close();

    const renamed = await server.request('PATCH', `/api/sessions/${s.id}`, { name: 'renamed' });
    assert.equal(renamed.body.name, 'renamed');

    const stopped = await server.request('DELETE', `/api/sessions/${s.id}`);
    assert.equal(stopped.status, 200, stopped.text);
    assert.equal(stopped.body.state, 'exited');
    assert.equal(stopped.body.exit.reason, 'stopped');
    await ws.next((m) => m.type === 'exited');
    ws.close();

    const late409 = await server.request('POST', `/api/sessions/${s.id}/send`, { prompt: 'anyone?' });
    assert.equal(late409.status, 409);
    assert.equal(late409.body.error, 'conflict');

    const events = await readRows(home.dir, "SELECT event_type, details FROM events WHERE event_type LIKE 'session.%' ORDER BY id");
    const types = events.map((e) => e.event_type);
    for (const t of ['session.created', 'session.started', 'session.renamed', 'session.prompt_sent', 'session.turn_finished', 'session.cancel_sent', 'session.stop_sent', 'session.exited']) assert.ok(types.includes(t), `${t} in ${types}`);
    const prompts = events.filter((e) => e.event_type === 'session.prompt_sent').map((e) => JSON.parse(String(e.details)));
    assert.equal(prompts.length, 3);
    assert.ok(prompts.every((d) => d.by === 'loopback' && d.session === s.id));

    const listed = await server.request('GET', '/api/sessions');
    assert.ok(listed.body.sessions.some((x: any) => x.id === s.id && x.state === 'exited'));
    const cleaned = await server.request('DELETE', '/api/sessions/cleanup');
    assert.deepEqual(cleaned.body.forgotten, [s.id]);
    assert.equal((await server.request('GET', `/api/sessions/${s.id}`)).status, 404);
    assert.deepEqual(await readRows(home.dir, 'SELECT * FROM session_output WHERE session_id = ?', [s.id]), []);
  });

  it('lists the agent sessions it did not start, read-only, with the configured repository they work in', async () => {
    assert.equal((await server.hook(hookPayload('ext-in-repo', 'SessionStart', { source: 'startup', cwd: join(repo, 'src') }))).status, 200);
    assert.equal((await server.hook(hookPayload('ext-elsewhere', 'SessionStart', { source: 'startup', cwd: '/srv/other' }))).status, 200);
    const r = await server.request('GET', '/api/sessions');
    const byId = new Map(r.body.external.map((e: any) => [e.claude_session_id, e]));
    assert.equal((byId.get('ext-in-repo') as any)?.repo, 'alpha');
    assert.equal((byId.get('ext-elsewhere') as any)?.repo, null);
    assert.equal((byId.get('ext-in-repo') as any)?.managed, false);
    // A managed session's own instance is not listed again as external.
    for (const s of r.body.sessions) assert.ok(!byId.has(s.claude_session_id));
  });

  it('reports a child killed with SIGKILL, and goes on serving', async () => {
    const s = (await server.request('POST', '/api/sessions', { repo: 'alpha' })).body;
    await until(() => server.request('GET', `/api/sessions/${s.id}`), (r) => r.body.state === 'ready', 'ready');
    process.kill(s.pid, 'SIGKILL');
    const gone = await until(() => server.request('GET', `/api/sessions/${s.id}`), (r) => r.body.state === 'exited', 'exited');
    assert.equal(gone.body.exit.reason, 'crashed');
    assert.equal(gone.body.exit.signal, 'SIGKILL');
    assert.ok(gone.body.exit.last_lines.some((l: string) => l.includes('control_response')), JSON.stringify(gone.body.exit));
    assert.equal((await server.request('GET', '/api/repos')).status, 200);
  });

  it('refuses bad input with 4xx and leaves no row behind', async () => {
    const before = await readRows(home.dir, 'SELECT COUNT(*) AS n FROM managed_sessions');
    const cases: [string, string, unknown, number][] = [
      ['POST', '/api/sessions', { repo: 'nowhere' }, 404],
      ['POST', '/api/sessions', {}, 400],
      ['POST', '/api/sessions', { repo: 'alpha', agent: 'gemini' }, 400],
      ['POST', '/api/sessions', { repo: 'alpha', kind: 'pty' }, 400],
      ['POST', '/api/sessions', { repo: 'alpha', cwd: '/etc' }, 400],
      ['POST', '/api/sessions', { repo: 'alpha', prompt: '' }, 400],
      ['POST', '/api/sessions', { repo: 'alpha', prompt: 'x'.repeat(1001) }, 413],
      ['POST', '/api/sessions', { repo: 'alpha', name: 'x'.repeat(101) }, 400],
      ['POST', '/api/sessions', '[1,2', 400],
      ['POST', '/api/sessions?x=1', { repo: 'alpha' }, 400],
      ['GET', '/api/sessions/nope', undefined, 400],
      ['GET', '/api/sessions/ses-000000000000', undefined, 404],
      ['GET', '/api/sessions/ses-000000000000?limit=0', undefined, 400],
      ['POST', '/api/sessions/ses-000000000000/send', { prompt: 'hi' }, 404],
      ['POST', '/api/sessions/ses-000000000000/send', { prompt: 'x'.repeat(1001) }, 413],
      ['POST', '/api/sessions/ses-000000000000/send', { text: 'hi' }, 400],
      ['POST', '/api/sessions/ses-000000000000/cancel', { now: true }, 400],
      ['PATCH', '/api/sessions/ses-000000000000', { name: '' }, 400],
      ['DELETE', '/api/sessions/ses-000000000000', undefined, 404],
      ['GET', '/api/repos?all=1', undefined, 400],
    ];
    for (const [method, path, body, status] of cases) {
      const r = await server.request(method, path, body);
      assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)?.slice(0, 60)}: ${r.text}`);
      assert.equal(typeof r.body.error, 'string');
      assert.equal(typeof r.body.message, 'string');
    }
    assert.deepEqual(await readRows(home.dir, 'SELECT COUNT(*) AS n FROM managed_sessions'), before);
  });

  it('answers 503 saying what to install when the agent is missing', async () => {
    const h = tempHome('token-api-sessions-nobin-');
    mkdirSync(join(h.dir, 'r'));
    const s = await startTestServer(h.dir, { repos: [{ name: 'r', path: join(h.dir, 'r') }], sessions: { claude_bin: join(h.dir, 'no-such-claude') } });
    try {
      const r = await s.request('POST', '/api/sessions', { repo: 'r' });
      assert.equal(r.status, 503);
      assert.match(r.body.message, /install Claude Code/);
      assert.deepEqual(await readRows(h.dir, 'SELECT * FROM managed_sessions'), []);
    } finally {
      await s.close();
      h.cleanup();
    }
  });
});

describe('managed sessions at shutdown', () => {
  it('stops every headless agent (SIGTERM, then SIGKILL) and records it before the database closes', async () => {
    const h = tempHome('token-api-sessions-shutdown-');
    mkdirSync(join(h.dir, 'r'));
    const server = await startTestServer(h.dir, { repos: [{ name: 'r', path: join(h.dir, 'r') }], sessions: { claude_bin: FAKE_CLAUDE, stop_grace_seconds: 1 } });
    try {
      const s = (await server.request('POST', '/api/sessions', { repo: 'r', prompt: 'SLOW 1000' })).body;
      assert.ok(existsSync(`/proc/${s.pid}`));
      await server.close();
      assert.ok(!existsSync(`/proc/${s.pid}`) || readFileSync(`/proc/${s.pid}/stat`, 'utf8').split(' ')[2] === 'Z', 'the agent is gone');
      const [row] = await readRows(h.dir, 'SELECT state, exit_reason FROM managed_sessions WHERE id = ?', [s.id]);
      assert.deepEqual(row, { state: 'exited', exit_reason: 'stopped' });
    } finally {
      h.cleanup();
    }
  });
});

describe('managed sessions across a server killed with kill -9', () => {
  it('marks the sessions of the last run exited (server_restart) at the next start', async () => {
    const h = tempHome('token-api-sessions-restart-');
    const repo = join(h.dir, 'r');
    mkdirSync(repo);
    writeFileSync(join(h.dir, 'config.json'), JSON.stringify({ repos: [{ name: 'r', path: repo }], sessions: { claude_bin: FAKE_CLAUDE } }));
    let server = await startServerProcess(h.dir);
    try {
      const res = await fetch(`${server.url}/api/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ repo: 'r', prompt: 'before the crash' }) });
      const s = (await res.json()) as { id: string; pid: number };
      assert.equal(res.status, 201);
      await server.kill('SIGKILL');
      server = await startServerProcess(h.dir);
      const after = (await (await fetch(`${server.url}/api/sessions/${s.id}`)).json()) as any;
      assert.equal(after.state, 'exited');
      assert.equal(after.exit.reason, 'server_restart');
      const sent = await fetch(`${server.url}/api/sessions/${s.id}/send`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'still there?' }) });
      assert.equal(sent.status, 409);
      // The orphaned agent saw its stdin close and ended.
      await until(async () => existsSync(`/proc/${s.pid}`), (alive) => !alive, 'the orphaned agent ending');
    } finally {
      await server.kill('SIGTERM');
      h.cleanup();
    }
  });
});

describe("a managed session's instance", () => {
  const home = tempHome('token-api-sessions-managed-');
  const repo = join(home.dir, 'repo-m');
  let server: TestServer;
  const saved = { hook: process.env.FAKE_CLAUDE_HOOK, url: process.env.TOKEN_API_URL, home: process.env.TOKEN_API_HOME };

  before(async () => {
    mkdirSync(repo);
    server = await startTestServer(home.dir, { repos: [{ name: 'mine', path: repo }], sessions: { claude_bin: FAKE_CLAUDE } });
    // The child's hooks run the real hook script, which reaches this server (children inherit the environment).
    process.env.FAKE_CLAUDE_HOOK = HOOK_SCRIPT;
    process.env.TOKEN_API_URL = server.url;
    process.env.TOKEN_API_HOME = home.dir;
  });
  after(async () => {
    for (const [k, v] of [['FAKE_CLAUDE_HOOK', saved.hook], ['TOKEN_API_URL', saved.url], ['TOKEN_API_HOME', saved.home]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await server.close();
    home.cleanup();
  });

  const managedBy = async (sessionId: string) => ((await server.request('GET', '/api/instances')).body.instances as any[]).filter((i) => i.managed?.session === sessionId);

  it('is marked managed with its kind from its first hook, on the feed too, and stays so after /clear', async () => {
    const feed = follow(`${server.url.replace(/^http/, 'ws')}/ws`);
    await feed.opened;
    const started = await server.request('POST', '/api/sessions', { repo: 'mine' });
    assert.equal(started.status, 201, started.text);
    const s = started.body;

    // The agent's SessionStart hook carries TOKEN_API_SESSION: its instance is marked at once.
    const [first] = await until(() => managedBy(s.id), (l) => l.length === 1, 'the instance marked managed');
    assert.deepEqual(first.managed, { session: s.id, kind: 'headless' });
    assert.equal(first.session_id, s.claude_session_id);
    const pushed = await feed.next((m) => m.type === 'instance' && m.instance.id === first.id);
    assert.deepEqual(pushed.instance.managed, { session: s.id, kind: 'headless' });
    assert.equal((await server.request('GET', `/api/instances/${first.id}`)).body.managed.session, s.id);
    assert.equal((await server.request('GET', `/api/sessions/${s.id}`)).body.instance_id, first.id);
    feed.close();

    // /clear: a new agent session id in the same child is the same instance, still managed.
    assert.equal((await server.request('POST', `/api/sessions/${s.id}/send`, { prompt: '/clear' })).status, 202);
    const [cleared] = await until(() => managedBy(s.id), (l) => l.length === 1 && l[0].session_id !== s.claude_session_id, 'the cleared session on the same instance');
    assert.equal(cleared.id, first.id);
    assert.deepEqual(cleared.managed, { session: s.id, kind: 'headless' });

    // A later session id known only by its managed session (no transcript, no local pid) joins it too.
    const again = await server.hook(hookPayload('after-compact-1', 'SessionStart', { source: 'compact', transcript_path: undefined }), `?managed_session=${s.id}`);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.instance.id, first.id);
    assert.equal(again.body.instance.managed.session, s.id);
  });

  it('streams a session on the main feed to a client that subscribes to it, and stops when it unsubscribes', async () => {
    const feed = follow(`${server.url.replace(/^http/, 'ws')}/ws`);
    await feed.opened;
    const send = (o: unknown) => feed.send(o);
    // Bad requests are errors on the connection, which stays up.
    send({ type: 'subscribe_session', id: 'bad', session_id: 'not a session' });
    const bad = await feed.next((m) => m.type === 'error' && m.id === 'bad');
    assert.equal(bad.error, 'validation_failed');
    assert.ok(bad.fields.session_id, JSON.stringify(bad));
    send({ type: 'subscribe_session', id: 'unknown', session_id: 'ses-000000000000' });
    assert.equal((await feed.next((m) => m.type === 'error' && m.id === 'unknown')).error, 'not_found');

    const s = (await server.request('POST', '/api/sessions', { repo: 'mine', prompt: 'hello feed' })).body;
    send({ type: 'subscribe_session', id: 'sub', session_id: s.id });
    const hello = await feed.next((m) => m.type === 'session' && m.id === 'sub');
    assert.equal(hello.session.id, s.id);
    const isResult = (text: string) => (m: any) => m.type === 'session_output' && m.session_id === s.id && m.output.kind === 'result' && String(m.output.message.result).includes(text);
    const first = await feed.next(isResult('echo: hello feed'));
    assert.ok(first.output.seq > 0);
    await server.request('POST', `/api/sessions/${s.id}/send`, { prompt: 'second on the feed' });
    const second = await feed.next(isResult('echo: second on the feed'));
    assert.ok(second.output.seq > first.output.seq);

    // Unsubscribed: nothing more comes; subscribing again from the last seq seen gives what was missed, once.
    send({ type: 'unsubscribe_session', id: 'unsub', session_id: s.id });
    assert.equal((await feed.next((m) => m.type === 'session_unsubscribed' && m.id === 'unsub')).was_followed, true);
    await server.request('POST', `/api/sessions/${s.id}/send`, { prompt: 'third while away' });
    await until(() => server.request('GET', `/api/sessions/${s.id}?limit=1000`), (r) => r.body.output.messages.some((m: any) => m.kind === 'result' && String(m.message.result).includes('third while away')), 'the third answer stored');
    send({ type: 'subscribe_session', id: 'again', session_id: s.id, after: second.output.seq });
    await feed.next((m) => m.type === 'session' && m.id === 'again');
    await feed.next(isResult('echo: third while away'));
    // The stored messages come before live ones: once a fourth answer is here, every replay is too.
    await server.request('POST', `/api/sessions/${s.id}/send`, { prompt: 'fourth' });
    await feed.next(isResult('echo: fourth'));
    assert.equal(feed.seen.filter(isResult('echo: third while away')).length, 1);

    // Stopped: the subscriber is told.
    await server.request('DELETE', `/api/sessions/${s.id}`);
    const exited = await feed.next((m) => m.type === 'session_exited' && m.session_id === s.id);
    assert.equal(exited.exit.reason, 'stopped');
    feed.close();
  });

  it('shows every change of a managed session on the main feed as session_changed, as the API shows it after', async () => {
    const feed = follow(`${server.url.replace(/^http/, 'ws')}/ws`);
    await feed.opened;
    const s = (await server.request('POST', '/api/sessions', { repo: 'mine', prompt: 'hello changes' })).body;
    const changed = (state: string, name?: string) => (m: any) => m.type === 'session_changed' && m.session.id === s.id && m.session.state === state && (name === undefined || m.session.name === name);
    await feed.next(changed('ready'));
    await server.request('PATCH', `/api/sessions/${s.id}`, { name: 'renamed on the feed' });
    await feed.next(changed('ready', 'renamed on the feed'));
    await server.request('DELETE', `/api/sessions/${s.id}`);
    const last = await feed.next(changed('exited'));
    const states = feed.seen.filter((m: any) => m.type === 'session_changed' && m.session.id === s.id).map((m: any) => m.session.state);
    // In the order committed: created (starting), prompted (busy), the turn's end (ready), … exited.
    assert.equal(states[0], 'starting', states.join(' '));
    const busy = states.indexOf('busy');
    assert.ok(busy > 0 && states.indexOf('ready', busy) > busy, states.join(' '));
    assert.equal(states.at(-1), 'exited', states.join(' '));
    const { output: _output, ...api } = (await server.request('GET', `/api/sessions/${s.id}`)).body;
    assert.deepEqual(last.session, api, 'the last change is the session as the API reads it back');
    assert.equal(last.session.exit.reason, 'stopped');
    feed.close();
  });

  it('leaves an instance unmarked when the session named is not one of token-api, and refuses a malformed one', async () => {
    const r = await server.hook(hookPayload('plain-session-1', 'SessionStart', { source: 'startup' }), '?managed_session=ses-000000000000');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.instance.managed, null);
    const bad = await server.hook(hookPayload('plain-session-2', 'SessionStart'), '?managed_session=' + encodeURIComponent('no spaces!'));
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    assert.ok(bad.body.fields.managed_session, JSON.stringify(bad.body));
  });
});

describe('a headless agent that never answers its initialize request', () => {
  const home = tempHome('token-api-sessions-mute-');
  const repo = join(home.dir, 'repo-m');
  const clock = new FakeClock(Date.now());
  let server: TestServer;

  before(async () => {
    mkdirSync(repo);
    process.env.FAKE_CLAUDE_MUTE = '1';
    server = await startTestServer(home.dir, { repos: [{ name: 'mute', path: repo }], sessions: { claude_bin: FAKE_CLAUDE, start_timeout_seconds: 30, stop_grace_seconds: 2 } }, { clock });
  });
  after(async () => {
    delete process.env.FAKE_CLAUDE_MUTE;
    await server.close();
    home.cleanup();
  });

  it('is stopped at sessions.start_timeout_seconds and exits with start_timeout, not left starting', async () => {
    const started = await server.request('POST', '/api/sessions', { repo: 'mute' });
    assert.equal(started.status, 201, started.text);
    const id = started.body.id;
    assert.equal(started.body.state, 'starting');
    clock.advance(29_000);
    await server.system.settle();
    assert.equal((await server.request('GET', `/api/sessions/${id}`)).body.state, 'starting');
    clock.advance(1_000);
    const exited = await until(async () => (await server.request('GET', `/api/sessions/${id}`)).body, (s: any) => s.state === 'exited', 'the session to be stopped');
    assert.equal(exited.exit.reason, 'start_timeout');
    const events = (await server.request('GET', '/api/events?type=session.exited')).body.events;
    assert.equal(events.at(-1).details.session, id);
  });
});
