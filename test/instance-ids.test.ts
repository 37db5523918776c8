// Instance ids and session ids: an id derived from a session never lands on an instance
// registered explicitly (no 500, no merged sessions), an event id is recorded with the commit
// that applied the event (a replay never applies it twice), and session ids are normalised
// (a lone surrogate, which SQLite stores as U+FFFD) before they are stored and compared.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { hookPayload, startTestServer, tableCounts, tempHome, type TestServer } from './support/system.js';
import { databaseOf } from './support/sqlite.js';

const homes: ReturnType<typeof tempHome>[] = [];
const servers: TestServer[] = [];
async function serve(dir?: string): Promise<TestServer> {
  if (!dir) {
    const h = tempHome('token-api-ids-');
    homes.push(h);
    dir = h.dir;
  }
  const s = await startTestServer(dir);
  servers.push(s);
  return s;
}
after(async () => {
  for (const s of servers) await s.close().catch(() => undefined);
  for (const h of homes) h.cleanup();
});

/** How many times an event id was recorded (once: its event was applied once). */
async function hookRows(s: TestServer, eventId: string): Promise<number> {
  const r = await databaseOf(s.system).get<{ n: number }>('SELECT COUNT(*) AS n FROM hook_event_ids WHERE event_id = ?', [eventId]);
  return r!.n;
}

describe('instance ids derived from a session', () => {
  it('never land on an instance registered with that id for another session: the hook gets an instance of its own', async () => {
    const s = await serve();
    const reg = await s.request('POST', '/api/instances/register', { instance_id: 'claude-foo', session_id: 'bar' });
    assert.equal(reg.status, 201);

    const r = await s.hook(hookPayload('foo', 'UserPromptSubmit'), '?event_id=evt-collide-1');
    assert.equal(r.status, 200, r.body?.message);
    assert.equal(r.body.outcome, 'applied');
    assert.equal(r.body.registered, true);
    assert.notEqual(r.body.instance.id, 'claude-foo');
    assert.equal(r.body.instance.session_id, 'foo');
    assert.equal(r.body.instance.state, 'working');

    const explicit = await s.request('GET', '/api/instances/claude-foo');
    assert.equal(explicit.body.session_id, 'bar', 'the explicit instance keeps its session');
    assert.equal(explicit.body.state, 'idle', 'and took none of the other session\'s events');
    const explicitHooks = await s.request('GET', '/api/events?instance=claude-foo&type=hook.*');
    assert.deepEqual(explicitHooks.body.events, []);

    // The next event of session foo goes to the same (new) instance, and so does a replay.
    const next = await s.hook(hookPayload('foo', 'PreToolUse', { tool_name: 'Bash' }), '?event_id=evt-collide-2');
    assert.equal(next.body.instance.id, r.body.instance.id);
    const replay = await s.request('POST', '/api/hooks/spool', `${JSON.stringify({ event_id: 'evt-collide-1', spooled_at: Date.now(), query: 'event_id=evt-collide-1', body: hookPayload('foo', 'UserPromptSubmit') })}\n`);
    assert.equal(replay.status, 200);
    assert.deepEqual(replay.body, { replayed: 0, duplicates: 1, invalid: [] });
    assert.equal(await hookRows(s, 'evt-collide-1'), 1);
    const hooks = await s.request('GET', `/api/events?instance=${r.body.instance.id}&type=hook.*`);
    assert.equal(hooks.body.events.length, 2);

    // The same holds after a restart (the derived id is found through the session's link).
    const dir = s.config.home;
    await s.close();
    const s2 = await serve(dir);
    const after = await s2.hook(hookPayload('foo', 'PostToolUse', { tool_name: 'Bash' }));
    assert.equal(after.status, 200);
    assert.equal(after.body.instance.id, r.body.instance.id);
    assert.equal((await s2.request('GET', '/api/instances/claude-foo')).body.session_id, 'bar');
  });

  it('a stopped instance holding the id is not taken over either', async () => {
    const s = await serve();
    await s.request('POST', '/api/instances/register', { instance_id: 'claude-gone', session_id: 'other' });
    await s.request('DELETE', '/api/instances/claude-gone');
    const r = await s.hook(hookPayload('gone', 'SessionStart', { source: 'startup' }));
    assert.equal(r.status, 200, r.body?.message);
    assert.notEqual(r.body.instance.id, 'claude-gone');
    const gone = await s.request('GET', '/api/instances/claude-gone');
    assert.equal(gone.body.state, 'stopped');
    assert.equal(gone.body.session_id, 'other');

    // After a restart, the ids of stopped instances are read back: still not taken over.
    await s.request('POST', '/api/instances/register', { instance_id: 'claude-later', session_id: 'another' });
    await s.request('DELETE', '/api/instances/claude-later');
    const dir = s.config.home;
    await s.close();
    const s2 = await serve(dir);
    const later = await s2.hook(hookPayload('later', 'UserPromptSubmit'));
    assert.equal(later.status, 200, later.body?.message);
    assert.equal(later.body.registered, true);
    assert.notEqual(later.body.instance.id, 'claude-later');
    assert.equal((await s2.request('GET', '/api/instances/claude-later')).body.session_id, 'another');
  });

  it('registering an explicit id that a session already owns, for another session, is a 409 that writes nothing', async () => {
    const s = await serve();
    await s.hook(hookPayload('owner', 'SessionStart', { source: 'startup' }));
    const counts = await tableCounts(s.system);
    const r = await s.request('POST', '/api/instances/register', { instance_id: 'claude-owner', session_id: 'intruder' });
    assert.equal(r.status, 409);
    assert.equal(r.body.error, 'conflict');
    assert.ok('instance_id' in r.body.fields);
    assert.deepEqual(await tableCounts(s.system), counts);
    assert.equal((await s.request('GET', '/api/instances/claude-owner')).body.session_id, 'owner');
    // The same id with its own session is the idempotent registration it always was.
    const same = await s.request('POST', '/api/instances/register', { instance_id: 'claude-owner', session_id: 'owner' });
    assert.equal(same.status, 200);
    assert.equal(same.body.created, false);
  });
});

describe('session ids are normalised', () => {
  it('a lone surrogate is the same session before and after a restart (stored as U+FFFD), never a 500', async () => {
    const s = await serve();
    const first = await s.hook(hookPayload('lone-\ud800', 'SessionStart', { source: 'startup' }), '?event_id=evt-lone-0001');
    assert.equal(first.status, 200, first.body?.message);
    const id = first.body.instance.id as string;
    assert.equal(first.body.instance.session_id, 'lone-\ufffd');
    // Written with U+FFFD in place of the surrogate, the same session.
    const same = await s.hook(hookPayload('lone-\ufffd', 'UserPromptSubmit'));
    assert.equal(same.body.instance.id, id);

    const dir = s.config.home;
    await s.close();
    const s2 = await serve(dir);
    const again = await s2.hook(hookPayload('lone-\ud800', 'PreToolUse', { tool_name: 'Bash' }), '?event_id=evt-lone-0002');
    assert.equal(again.status, 200, again.body?.message);
    assert.equal(again.body.instance.id, id);
    assert.equal(again.body.registered, false);
    assert.equal(again.body.instance.tool_count, 0);
    assert.equal(again.body.instance.current_tool, 'Bash');
    const list = await s2.request('GET', '/api/instances?status=all');
    assert.equal(list.body.instances.filter((i: { session_id: string }) => i.session_id.startsWith('lone-')).length, 1);
    // Registering the surrogate form of a session id that exists is the conflict it is, not a new session.
    const reg = await s2.request('POST', '/api/instances/register', { instance_id: 'claude-lone-twin', session_id: 'lone-\udfff' });
    assert.equal(reg.status, 409);
  });
});
