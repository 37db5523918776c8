// Approvals through the real server and the real hook script: a PermissionRequest hook waits
// (POST /api/approvals/wait) until a decision comes from the API, a signed link, the feed or a
// policy, or the approval ends without one (expired, answered elsewhere, withdrawn). Observed
// through what the hook script prints for Claude Code, the API, the feed and the database file.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hookEnv, runHookScript, type HookRun } from './support/hook-script.js';
import { connectFeed, startFeedServer, type FeedServer, type TestFeedClient } from './support/feed.js';
import { readRows } from './support/sqlite.js';
import { hookPayload, tempHome } from './support/system.js';
import { FakeClock } from './support/clock.js';
import { startPhone } from './support/phone.js';

const permission = (session: string, command: string, extra: Record<string, unknown> = {}) =>
  hookPayload(session, 'PermissionRequest', { tool_name: 'Bash', tool_input: { command, description: 'run it' }, permission_mode: 'default', ...extra });

describe('approvals: a PermissionRequest hook waits for a decision from anywhere', () => {
  const home = tempHome('token-api-approvals-');
  const clock = new FakeClock(Date.now());
  let s: FeedServer;
  let feed: TestFeedClient;
  const env = () => hookEnv(s.url, home.dir, { TOKEN_API_AGENT_PID: String(process.pid), TOKEN_API_APPROVAL_WAIT: '130' });

  before(async () => {
    s = await startFeedServer(
      home.dir,
      {
        notifications: { speech: { engine: 'none' }, sound: { player: 'none' } },
        approval_timeout_seconds: 60,
        approvals: { policies: [{ id: 'reads-are-fine', tool: 'Read', cwd: '/home/u/*', behavior: 'allow' }, { id: 'no-rm', tool: 'Bash(rm -rf *)', behavior: 'deny', message: 'never rm -rf' }] },
      },
      { clock },
    );
    feed = await connectFeed(s.wsUrl);
  });
  after(async () => {
    await feed?.close();
    await s?.close();
    home.cleanup();
  });

  /** Starts the hook script for a permission request; resolves with the approval it waits on (from the feed) and the run. */
  async function ask(session: string, command: string): Promise<{ id: string; run: Promise<HookRun> }> {
    const run = runHookScript(['PermissionRequest'], JSON.stringify(permission(session, command)), env());
    const prompt = await feed.next('permission_prompt', (m) => m.approval.session_id === session && m.approval.summary === command);
    return { id: prompt.approval.id, run };
  }

  it('approved through POST /api/approvals/{id}: the hook prints allow; the instance awaited; the decision is an event saying who', async () => {
    const { id, run } = await ask('sess-allow', 'touch a');
    const pending = await s.get('/api/approvals?state=pending');
    assert.equal(pending.status, 200);
    const mine = pending.body.approvals.find((a: { id: string }) => a.id === id);
    assert.equal(mine.tool_name, 'Bash');
    assert.equal(mine.instance_id, 'claude-sess-allow');
    assert.deepEqual(mine.tool_input, { command: 'touch a', description: 'run it' });
    assert.equal((await s.get('/api/instances/claude-sess-allow')).body.state, 'awaiting');

    const decided = await s.post(`/api/approvals/${id}`, { behavior: 'allow' });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    assert.equal(decided.body.state, 'decided');
    assert.deepEqual([decided.body.decision.behavior, decided.body.decision.by], ['allow', 'loopback']);
    const r = await run;
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), { hookSpecificOutput: { hookEventName: 'PermissionRequest', decision: { behavior: 'allow' } } });

    const resolved = await feed.next('permission_resolved', (m) => m.approval.id === id);
    assert.equal(resolved.approval.decision?.behavior, 'allow');
    const rows = await readRows(home.dir, `SELECT event_type, details FROM events WHERE event_type LIKE 'approval.%' AND details LIKE ?`, [`%${id}%`]);
    const decidedRow = rows.find((e) => e.event_type === 'approval.decided');
    assert.ok(decidedRow);
    assert.equal(JSON.parse(String(decidedRow.details)).by, 'loopback');
    const again = await s.post(`/api/approvals/${id}`, { behavior: 'deny' });
    assert.equal(again.status, 409, 'a second decision is a conflict');
  });

  it('denied through its signed link: the hook prints deny with a message; the link is single use, a prefetch decides nothing', async () => {
    const { id, run } = await ask('sess-link', 'touch b');
    const a = (await s.get(`/api/approvals/${id}`)).body;
    const prefetch = await fetch(s.url + a.links.deny, { headers: { 'Sec-Purpose': 'prefetch' } });
    assert.equal(prefetch.status, 200);
    assert.equal(((await prefetch.json()) as { state: string }).state, 'pending', 'a prefetch only looks');
    const forged = await fetch(s.url + a.links.deny.replace(/t=[^.]+/, 't=eyJmb3JnZWQiOjF9'));
    assert.equal(forged.status, 400);
    const swapped = await fetch(s.url + a.links.approve.replace('/approve?', '/deny?'));
    assert.equal(swapped.status, 400, 'an allow link does not deny');
    const opened = await fetch(s.url + a.links.deny);
    assert.equal(opened.status, 200);
    const body = (await opened.json()) as { state: string; decision: { behavior: string; by: string } };
    assert.deepEqual([body.state, body.decision.behavior, body.decision.by], ['decided', 'deny', 'link']);
    const r = await run;
    const out = JSON.parse(r.stdout);
    assert.equal(out.hookSpecificOutput.decision.behavior, 'deny');
    assert.match(out.hookSpecificOutput.decision.message, /denied/i);
    assert.equal((await fetch(s.url + a.links.deny)).status, 409, 'the link is single use');
  });

  it('decided from the feed with permission_response: answered with permission_decided', async () => {
    const { id, run } = await ask('sess-ws', 'touch c');
    feed.send({ type: 'permission_response', id: 'r1', approval_id: id, behavior: 'deny', message: 'not now' });
    const reply = await feed.next('permission_decided', (m) => m.id === 'r1');
    assert.equal(reply.approval.decision?.by, 'loopback');
    const r = await run;
    assert.deepEqual(JSON.parse(r.stdout).hookSpecificOutput.decision, { behavior: 'deny', message: 'not now' });
    feed.send({ type: 'permission_response', id: 'r2', approval_id: id, behavior: 'allow' });
    const err = await feed.next('error', (m) => m.id === 'r2');
    assert.equal(err.error, 'conflict');
  });

  it('answered in the terminal (the session goes on): closed as answered elsewhere, the hook ends printing nothing', async () => {
    const { id, run } = await ask('sess-term', 'touch d');
    const post = await s.post('/api/hooks', hookPayload('sess-term', 'PostToolUse', { tool_name: 'Bash', tool_input: { command: 'touch d' }, tool_response: {} }));
    assert.equal(post.status, 200);
    const r = await run;
    assert.equal(r.stdout, '');
    const a = (await s.get(`/api/approvals/${id}`)).body;
    assert.equal(a.state, 'answered_elsewhere');
    const late = await s.post(`/api/approvals/${id}`, { behavior: 'allow' });
    assert.equal(late.status, 410, 'too late: gone');
  });

  it('no decision before approval_timeout_seconds: expired, the hook prints nothing (Claude Code asks as usual)', async () => {
    const { id, run } = await ask('sess-late', 'touch e');
    clock.advance(60_000);
    const r = await run;
    assert.equal(r.stdout, '');
    assert.equal((await s.get(`/api/approvals/${id}`)).body.state, 'expired');
  });

  it('the hook going away withdraws the request', async () => {
    const gone = new AbortController();
    const call = fetch(`${s.url}/api/approvals/wait?event_id=withdrawn-0001`, { method: 'POST', body: JSON.stringify(permission('sess-gone', 'touch f')), signal: gone.signal }).catch(() => null);
    const prompt = await feed.next('permission_prompt', (m) => m.approval.session_id === 'sess-gone');
    assert.equal(prompt.approval.id, 'withdrawn-0001', "the hook's event id names the approval");
    gone.abort();
    await call;
    const resolved = await feed.next('permission_resolved', (m) => m.approval.id === 'withdrawn-0001');
    assert.equal(resolved.approval.state, 'withdrawn');
  });

  it('policies answer by themselves, each answer recorded with its rule; nobody is asked', async () => {
    const read = await runHookScript(['PermissionRequest'], JSON.stringify(hookPayload('sess-pol', 'PermissionRequest', { tool_name: 'Read', tool_input: { file_path: '/home/u/x' } })), env());
    assert.deepEqual(JSON.parse(read.stdout).hookSpecificOutput.decision, { behavior: 'allow' });
    const rm = await runHookScript(['PermissionRequest'], JSON.stringify(permission('sess-pol', 'rm -rf /tmp/x')), env());
    assert.deepEqual(JSON.parse(rm.stdout).hookSpecificOutput.decision, { behavior: 'deny', message: 'never rm -rf' });
    const decided = (await s.get('/api/approvals?state=decided&limit=500')).body.approvals.filter((a: { session_id: string }) => a.session_id === 'sess-pol');
    assert.deepEqual(decided.map((a: { decision: { by: string; rule_id: string } }) => [a.decision.by, a.decision.rule_id]).sort(), [['policy', 'no-rm'], ['policy', 'reads-are-fine']]);
    const inst = await s.get('/api/instances/claude-sess-pol');
    assert.equal(inst.status, 404, 'a request a policy answered bothers nobody');
  });

  it('bad input: 4xx in the error shape, and no row behind', async () => {
    const before = await s.counts();
    const cases: [string, string, unknown, number][] = [
      ['POST', '/api/approvals/nope-1234', { behavior: 'allow' }, 404],
      ['POST', '/api/approvals/x', { behavior: 'maybe' }, 400],
      ['POST', '/api/approvals/x', { behavior: 'allow', extra: 1 }, 400],
      ['POST', '/api/approvals/x?y=1', { behavior: 'allow' }, 400],
      ['POST', '/api/approvals/a%20b', { behavior: 'allow' }, 400],
      ['GET', '/api/approvals?state=nope', undefined, 400],
      ['GET', '/api/approvals?limit=0', undefined, 400],
      ['GET', '/api/approvals/x/approve', undefined, 400],
      ['GET', '/api/approvals/x/approve?t=short', undefined, 400],
      ['POST', '/api/approvals/wait', { hook_event_name: 'PermissionRequest' }, 400],
      ['POST', '/api/approvals/wait', hookPayload('s-bad', 'PreToolUse'), 400],
      ['POST', '/api/approvals/wait?bogus=1', permission('s-bad', 'x'), 400],
    ];
    for (const [method, path, body, status] of cases) {
      const r = await fetch(s.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: body === undefined ? {} : { 'content-type': 'application/json' } });
      assert.equal(r.status, status, `${method} ${path}`);
      const answer = (await r.json()) as { error: unknown; message: unknown };
      assert.equal(typeof answer.error, 'string', `${method} ${path}: the error shape`);
      assert.equal(typeof answer.message, 'string');
    }
    const wrongJson = await fetch(`${s.url}/api/approvals/wait`, { method: 'POST', body: '{nope' });
    assert.equal(wrongJson.status, 400);
    assert.deepEqual(await s.counts(), before);
  });
});

describe('approvals: token-api down, or restarted while a hook waits', () => {
  const home = tempHome('token-api-approvals-restart-');
  after(() => home.cleanup());

  it('with token-api down, the hook returns at once with nothing', async () => {
    const started = Date.now();
    const r = await runHookScript(['PermissionRequest'], JSON.stringify(permission('sess-down', 'x')), hookEnv('http://127.0.0.1:9', home.dir, { TOKEN_API_APPROVAL_WAIT: '130' }));
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
    assert.ok(Date.now() - started < 5000, 'not held up');
  });

  it('restarted while an approval waits: the hook reconnects to the same approval and gets its decision', async () => {
    const file = { notifications: { speech: { engine: 'none' as const }, sound: { player: 'none' as const } } };
    let s = await startFeedServer(home.dir, file);
    const port = s.port;
    let feed = await connectFeed(s.wsUrl);
    const run = runHookScript(['PermissionRequest'], JSON.stringify(permission('sess-restart', 'touch r')), hookEnv(s.url, home.dir, { TOKEN_API_AGENT_PID: String(process.pid), TOKEN_API_APPROVAL_WAIT: '130' }));
    const prompt = await feed.next('permission_prompt', (m) => m.approval.session_id === 'sess-restart');
    await feed.close();
    await s.close();
    s = await startFeedServer(home.dir, file, {}, port);
    try {
      feed = await connectFeed(s.wsUrl);
      const snapshot = await feed.next('snapshot');
      assert.ok(snapshot.approvals?.some((a) => a.id === prompt.approval.id), 'the waiting approval survived the restart');
      // The hook is back once the approval's held call is there again: a decision reaches it.
      const decided = await s.post(`/api/approvals/${prompt.approval.id}`, { behavior: 'allow' });
      assert.equal(decided.status, 200);
      const r = await run;
      assert.equal(JSON.parse(r.stdout).hookSpecificOutput.decision.behavior, 'allow');
      await feed.close();
    } finally {
      await s.close();
    }
  });
});

describe('approvals: the phone is told at once, with one-time links it can open', () => {
  const home = tempHome('token-api-approvals-phone-');
  after(() => home.cleanup());

  it("the webhook of a permission request carries approve and deny links; opening deny answers the waiting hook", async () => {
    const phone = await startPhone();
    const phoneIp = '100.102.92.24';
    const s = await startFeedServer(home.dir, {
      devices: [{ id: 'pixel-phone', type: 'mobile', tailscale_ip: phoneIp, notification_method: 'webhook', webhook_url: phone.url }],
      notifications: { speech: { engine: 'none' }, sound: { player: 'none' } },
    });
    try {
      const run = runHookScript(['PermissionRequest'], JSON.stringify(permission('sess-phone', 'git push --force')), hookEnv(s.url, home.dir, { SSH_CLIENT: `${phoneIp} 50000 22`, TOKEN_API_AGENT_PID: String(process.pid), TOKEN_API_APPROVAL_WAIT: '130' }));
      await phone.waitFor(1);
      const body = phone.received[0]!.body as { event: string; actions?: { approve: string; deny: string } };
      assert.equal(body.event, 'needs_permission');
      assert.ok(body.actions, `the webhook carries the links: ${JSON.stringify(body)}`);
      assert.ok(body.actions.deny.startsWith(`${s.url}/api/approvals/`), body.actions.deny);
      const opened = await fetch(body.actions.deny);
      assert.equal(opened.status, 200, await opened.clone().text());
      const r = await run;
      assert.ok(r.stdout, `the hook printed the decision (exit ${r.code}, stderr ${r.stderr}; ${JSON.stringify(await s.get('/api/approvals'))})`);
      assert.equal(JSON.parse(r.stdout).hookSpecificOutput.decision.behavior, 'deny');
      assert.equal((await fetch(body.actions.approve)).status, 409, 'the other link is spent too: the approval is decided');
    } finally {
      await s.close();
      await phone.down();
    }
  });
});

describe('approvals beyond loopback: the token decides, a link needs none, nothing else gets in', () => {
  const home = tempHome('token-api-approvals-remote-');
  after(() => home.cleanup());

  it('a caller without the token is refused and changes nothing; with it the decision says token; a link says link', async () => {
    const s = await startFeedServer(home.dir, { notifications: { speech: { engine: 'none' }, sound: { player: 'none' } } }, { peerAddress: () => '100.102.92.24' });
    try {
      const token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
      const auth = { authorization: `Bearer ${token}` };
      const env = () => hookEnv(s.url, home.dir, { TOKEN_API_TOKEN: token, TOKEN_API_AGENT_PID: String(process.pid), TOKEN_API_APPROVAL_WAIT: '130' });
      const pendingOf = async (session: string) => {
        for (;;) {
          const list = await s.get(`/api/approvals?state=pending`, auth);
          const a = (list.body.approvals as { id: string; session_id: string; links: { approve: string; deny: string } }[]).find((x) => x.session_id === session);
          if (a) return a;
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      const one = runHookScript(['PermissionRequest'], JSON.stringify(permission('remote-1', 'make deploy')), env());
      const a = await pendingOf('remote-1');
      assert.equal((await s.post(`/api/approvals/${a.id}`, { behavior: 'allow' })).status, 401);
      assert.equal((await s.get(`/api/approvals/${a.id}`)).status, 401);
      assert.equal((await s.get(`/api/approvals/${a.id}`, auth)).body.state, 'pending', 'a refused call changed nothing');
      const ok = await s.post(`/api/approvals/${a.id}`, { behavior: 'allow' }, auth);
      assert.equal(ok.body.decision.by, 'token');
      assert.equal(JSON.parse((await one).stdout).hookSpecificOutput.decision.behavior, 'allow');

      const two = runHookScript(['PermissionRequest'], JSON.stringify(permission('remote-2', 'make deploy')), env());
      const b = await pendingOf('remote-2');
      const viaLink = await s.get(b.links.approve);
      assert.equal(viaLink.status, 200, 'a link needs no token');
      assert.equal(viaLink.body.decision.by, 'link');
      assert.equal(JSON.parse((await two).stdout).hookSpecificOutput.decision.behavior, 'allow');
      const bare = await s.get(b.links.approve.replace(/\?t=.*$/, '?t=not-a-real-token-at-all'));
      assert.equal(bare.status, 400, 'an unsigned link is refused');
    } finally {
      await s.close();
    }
  });
});
