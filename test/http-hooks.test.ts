import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { FakeClock } from './support/clock.js';
import { hookPayload, startTestServer, tableCounts, tempHome, type TestServer } from './support/system.js';
import { databaseOf } from './support/sqlite.js';

describe('POST /api/hooks', () => {
  let home: ReturnType<typeof tempHome>;
  let s: TestServer;
  let clock: FakeClock;

  beforeEach(async () => {
    await s?.close();
    home?.cleanup();
    home = tempHome();
    clock = new FakeClock();
    s = await startTestServer(home.dir, { devices: [{ id: 'pixel-phone', type: 'mobile', tailscale_ip: '100.102.92.24' }] }, { clock });
  });
  after(async () => {
    await s?.close();
    home?.cleanup();
  });

  it('drives an instance through a realistic turn and answers with the committed state', async () => {
    const steps: [string, Record<string, unknown>, string][] = [
      ['SessionStart', { source: 'startup' }, 'idle'],
      ['UserPromptSubmit', { prompt: 'fix the tests' }, 'working'],
      ['PreToolUse', { tool_name: 'Bash', tool_input: { command: 'npm test' } }, 'working'],
      ['PermissionRequest', { tool_name: 'Bash' }, 'awaiting'],
      ['PostToolUse', { tool_name: 'Bash', tool_response: { stdout: 'ok' } }, 'working'],
      ['Notification', { notification_type: 'permission_prompt', message: 'Claude needs your permission to use Bash' }, 'awaiting'],
      ['Stop', { stop_hook_active: false }, 'idle'],
      ['SessionEnd', { reason: 'exit' }, 'stopped'],
    ];
    let previous = 'idle';
    for (const [name, extra, state] of steps) {
      clock.advance(1000);
      const r = await s.hook(hookPayload('sess-1', name, extra));
      assert.equal(r.status, 200, `${name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.outcome, 'applied');
      assert.equal(r.body.from, previous);
      assert.equal(r.body.to, state, name);
      assert.equal(r.body.instance.state, state);
      assert.equal(r.body.event_type, `hook.${name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase()}`);
      previous = state;
      // Acknowledged means committed: the projection row already says so.
      const row = await databaseOf(s.system).get<{ state: string; tool_count: number }>('SELECT state, tool_count FROM claude_instances WHERE id = ?', ['claude-sess-1']);
      assert.equal(row?.state, state);
    }
    const inst = await s.request('GET', '/api/instances/claude-sess-1');
    assert.equal(inst.body.tool_count, 1);
    assert.equal(inst.body.status, 'stopped');
    assert.equal(inst.body.stop_reason, 'session_end: exit');
    const events = await s.request('GET', '/api/events?instance=claude-sess-1&limit=100');
    // Notification decisions and deliveries are logged for the instance too; test/notify-*.test.ts covers them.
    const types = events.body.events.map((e: { type: string }) => e.type).filter((t: string) => !t.startsWith('notification.')).reverse();
    assert.deepEqual(types, [
      'instance.registered',
      'hook.session_start',
      'hook.user_prompt_submit',
      'hook.pre_tool_use',
      'hook.permission_request',
      'hook.post_tool_use',
      'hook.notification',
      'hook.stop',
      'hook.session_end',
      'instance.stopped',
    ]);
    const pre = events.body.events.find((e: { type: string }) => e.type === 'hook.pre_tool_use');
    assert.deepEqual(pre.details.payload.tool_input, { command: 'npm test' });
    assert.deepEqual([pre.details.from, pre.details.to], ['working', 'working']);
  });

  it('registers an unknown session on the fly, from any event, so nothing is dropped', async () => {
    const r = await s.hook(hookPayload('mid-session', 'PreToolUse', { tool_name: 'Read' }));
    assert.equal(r.status, 200);
    assert.equal(r.body.registered, true);
    assert.equal(r.body.to, 'working');
    assert.equal(r.body.instance.current_tool, 'Read');
    assert.equal(r.body.instance.display_name, 'Claude #1');
    const again = await s.hook(hookPayload('mid-session', 'PostToolUse', { tool_name: 'Read' }));
    assert.equal(again.body.registered, false);
    assert.equal(again.body.instance.tool_count, 1);
  });

  it('takes ssh_client, pid, tab_name and tty from the query string, leaving the body untouched', async () => {
    const body = hookPayload('q1', 'SessionStart', { source: 'startup', some_future_field: { nested: [1, 2] } });
    const r = await s.hook(body, '?ssh_client=100.102.92.24%2054022%2022&pid=4242&tab_name=api%20work&tty=%2Fdev%2Fpts%2F3');
    assert.equal(r.status, 200);
    const i = r.body.instance;
    assert.deepEqual(i.origin, { type: 'ssh', source_ip: '100.102.92.24', device_id: 'pixel-phone' });
    assert.equal(i.pid, 4242);
    assert.equal(i.display_name, 'api work');
    const ev = await s.request('GET', '/api/events?type=hook.session_start');
    assert.deepEqual(ev.body.events[0].details.payload, body, 'unknown fields are kept as sent');
  });

  it('accepts the extras in the body too, under x_token_api_ names, and an unknown SSH address gives device "unknown"', async () => {
    const r = await s.hook(hookPayload('b1', 'SessionStart', { x_token_api_ssh_client: '10.9.9.9 5 22', x_token_api_pid: 99 }));
    assert.equal(r.body.instance.origin.device_id, 'unknown');
    assert.equal(r.body.instance.origin.type, 'ssh');
    assert.equal(r.body.instance.pid, 99);
  });

  it('parses the body as JSON whatever the content type (curl -d sends a form type)', async () => {
    const res = await fetch(`${s.url}/api/hooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: JSON.stringify(hookPayload('form', 'SessionStart')),
    });
    assert.equal(res.status, 200);
  });

  it('gives display numbers and profiles that are unique among active instances; frees the profile on stop, the number an hour later', async () => {
    const a = await s.hook(hookPayload('n1', 'SessionStart'));
    const b = await s.hook(hookPayload('n2', 'SessionStart'));
    assert.equal(a.body.instance.display_name, 'Claude #1');
    assert.equal(b.body.instance.display_name, 'Claude #2');
    assert.notEqual(a.body.instance.profile.name, b.body.instance.profile.name);
    assert.notEqual(a.body.instance.profile.color, b.body.instance.profile.color);
    await s.hook(hookPayload('n1', 'SessionEnd'));
    const c = await s.hook(hookPayload('n3', 'SessionStart'));
    // Claude #1 is still on screen as stopped: its number is not given again yet.
    assert.equal(c.body.instance.display_name, 'Claude #3');
    assert.equal(c.body.instance.profile.name, a.body.instance.profile.name);
    clock.advance(60 * 60_000);
    const d = await s.hook(hookPayload('n4', 'SessionStart'));
    assert.equal(d.body.instance.display_name, 'Claude #1');
  });

  it('keeps the instance across resume, clear and compact (by session, transcript or pid)', async () => {
    const first = await s.hook(hookPayload('r1', 'SessionStart', { source: 'startup', transcript_path: '/t/r1.jsonl' }), '?pid=5000');
    const id = first.body.instance.id;
    // /clear: a new session id and a new transcript, the same process.
    const cleared = await s.hook(hookPayload('r2', 'SessionStart', { source: 'clear', transcript_path: '/t/r2.jsonl' }), '?pid=5000');
    assert.equal(cleared.body.registered, false);
    assert.equal(cleared.body.instance.id, id);
    assert.equal(cleared.body.instance.session_id, 'r2');
    // resume in another process, same transcript
    const resumed = await s.hook(hookPayload('r3', 'SessionStart', { source: 'resume', transcript_path: '/t/r2.jsonl' }), '?pid=6000');
    assert.equal(resumed.body.instance.id, id);
    // events under any of its session ids reach it
    const old = await s.hook(hookPayload('r1', 'UserPromptSubmit'));
    assert.equal(old.body.instance.id, id);
    assert.equal(old.body.to, 'working');
    const list = await s.request('GET', '/api/instances');
    assert.equal(list.body.count, 1);
    // a startup source never continues another instance, even with the same pid
    const fresh = await s.hook(hookPayload('r4', 'SessionStart', { source: 'startup', transcript_path: '/t/r2.jsonl' }), '?pid=6000');
    assert.notEqual(fresh.body.instance.id, id);
  });

  it('after a SessionEnd, a later event of the session revives the instance, saying from which stop', async () => {
    await s.hook(hookPayload('z1', 'SessionStart'));
    await s.hook(hookPayload('z1', 'SessionEnd', { reason: 'exit' }));
    const lateEnd = await s.hook(hookPayload('z1', 'SessionEnd', { reason: 'exit' }));
    assert.equal(lateEnd.status, 202, 'a second SessionEnd only records');
    assert.equal(lateEnd.body.instance, null);
    const late = await s.hook(hookPayload('z1', 'PreToolUse', { tool_name: 'Bash' }));
    assert.equal(late.status, 200);
    assert.equal(late.body.outcome, 'applied');
    assert.equal(late.body.registered, true);
    assert.equal(late.body.instance.id, 'claude-z1');
    assert.equal(late.body.instance.state, 'working');
    assert.equal(late.body.instance.display_name, 'Claude #1');
    const revived = await s.request('GET', '/api/events?type=instance.revived&instance=claude-z1');
    assert.equal(revived.body.count, 1);
    assert.equal(revived.body.events[0].details.from, 'session_end: exit');
    assert.equal(revived.body.events[0].details.by, 'hook.pre_tool_use');

    await s.hook(hookPayload('z1', 'SessionEnd'));
    const again = await s.hook(hookPayload('z1', 'SessionStart', { source: 'resume' }));
    assert.equal(again.status, 200);
    assert.equal(again.body.registered, true);
    assert.equal(again.body.instance.id, 'claude-z1');
    assert.equal(again.body.instance.state, 'idle');
    const reg = await s.request('GET', '/api/events?type=instance.registered&instance=claude-z1');
    assert.equal(reg.body.count, 1, 'registered once; the rest are revivals');
    assert.equal((await s.request('GET', '/api/events?type=instance.revived&instance=claude-z1')).body.count, 2);
  });

  it('records hook events it does not know with 202 and no transition', async () => {
    await s.hook(hookPayload('u1', 'UserPromptSubmit'));
    const r = await s.hook(hookPayload('u1', 'PreCompact', { trigger: 'auto' }));
    assert.equal(r.status, 202);
    assert.equal(r.body.outcome, 'recorded');
    assert.equal(r.body.event_type, 'hook.pre_compact');
    assert.equal(r.body.to, 'working');
    const ev = await s.request('GET', '/api/events?type=hook.pre_compact');
    assert.equal(ev.body.events[0].details.payload.trigger, 'auto');
  });

  it('truncates large payloads in the event log but accepts them', async () => {
    const big = 'x'.repeat(2 * 1024 * 1024);
    const r = await s.hook(hookPayload('big', 'PostToolUse', { tool_name: 'Read', tool_response: { content: big } }));
    assert.equal(r.status, 200);
    const row = await databaseOf(s.system).get<{ details: string }>("SELECT details FROM events WHERE event_type = 'hook.post_tool_use'");
    assert.ok(row!.details.length <= s.config.eventDetailsMaxBytes, `details is ${row!.details.length} bytes`);
    const details = JSON.parse(row!.details);
    assert.equal(details.payload.tool_name, 'Read');
    assert.match(details.payload.tool_response.content, /more chars\]$/);
  });

  describe('bad input gets a 4xx with { error, message, fields } and writes nothing', () => {
    const cases: [string, string | Record<string, unknown>, string, number, string?][] = [
      ['malformed JSON', '{"session_id": "x", ', '', 400],
      ['a JSON array', '[1,2]', '', 400],
      ['a JSON string', '"hello"', '', 400],
      ['missing session_id', { hook_event_name: 'Stop' }, '', 400, 'session_id'],
      ['empty session_id', { session_id: '', hook_event_name: 'Stop' }, '', 400, 'session_id'],
      ['missing hook_event_name', { session_id: 's' }, '', 400, 'hook_event_name'],
      ['hook_event_name with spaces', { session_id: 's', hook_event_name: 'Pre Tool' }, '', 400, 'hook_event_name'],
      ['numeric session_id', { session_id: 12, hook_event_name: 'Stop' }, '', 400, 'session_id'],
      ['x_token_api_pid as text in the body', { session_id: 's', hook_event_name: 'Stop', x_token_api_pid: 'abc' }, '', 400, 'x_token_api_pid'],
      ['x_token_api_agent that is no agent kind', { session_id: 's', hook_event_name: 'Stop', x_token_api_agent: 'gpt' }, '', 400, 'x_token_api_agent'],
      ['agent in the query that is no agent kind', { session_id: 's', hook_event_name: 'Stop' }, '?agent=gpt', 400, 'agent'],
      ['negative pid in the query', { session_id: 's', hook_event_name: 'Stop' }, '?pid=-1', 400, 'pid'],
      ['unknown query parameter', { session_id: 's', hook_event_name: 'Stop' }, '?color=red', 400, 'color'],
      ['repeated query parameter', { session_id: 's', hook_event_name: 'Stop' }, '?pid=1&pid=2', 400, 'pid'],
      ['x_token_api_ssh_client that is not an address', { session_id: 's', hook_event_name: 'SessionStart', x_token_api_ssh_client: 'garbage' }, '', 400, 'x_token_api_ssh_client'],
      ['ssh_client in the query that is not an address', { session_id: 's', hook_event_name: 'SessionStart' }, '?ssh_client=somehost%2050000%2022', 400, 'ssh_client'],
    ];
    for (const [name, body, query, status, field] of cases) {
      it(name, async () => {
        const beforeCounts = await tableCounts(s.system);
        const r = await s.request('POST', `/api/hooks${query}`, body);
        assert.equal(r.status, status, r.text);
        assert.equal(typeof r.body.error, 'string');
        assert.equal(typeof r.body.message, 'string');
        if (field) assert.ok(r.body.fields && field in r.body.fields, `fields ${JSON.stringify(r.body.fields)} should name ${field}`);
        assert.deepEqual(await tableCounts(s.system), beforeCounts);
      });
    }

    it('a body over the hook limit is 413', async () => {
      const beforeCounts = await tableCounts(s.system);
      const r = await s.request('POST', '/api/hooks', { ...hookPayload('huge', 'Stop'), blob: 'y'.repeat(5 * 1024 * 1024) });
      assert.equal(r.status, 413);
      assert.equal(r.body.error, 'payload_too_large');
      assert.deepEqual(await tableCounts(s.system), beforeCounts);
    });

    it('a wrong method is 405 and an unknown path 404, in the same shape', async () => {
      const m = await s.request('GET', '/api/hooks');
      assert.equal(m.status, 405);
      assert.equal(m.body.error, 'method_not_allowed');
      const p = await s.request('POST', '/api/hookz', {});
      assert.equal(p.status, 404);
      assert.equal(p.body.error, 'not_found');
    });
  });
});

describe('instance expiry and vanished processes, through the server', () => {
  let home: ReturnType<typeof tempHome>;
  let s: TestServer;
  const alive = new Set<number>();
  let clock: FakeClock;
  before(async () => {
    home = tempHome();
    clock = new FakeClock();
    s = await startTestServer(home.dir, { instance_expiry_minutes: 60 }, { clock, processExists: (pid) => alive.has(pid) });
  });
  after(async () => {
    await s.close();
    home.cleanup();
  });

  it('expires an inactive instance, committing the stop', async () => {
    await s.hook(hookPayload('e1', 'SessionStart'));
    clock.advance(59 * 60_000);
    await s.hook(hookPayload('e1', 'UserPromptSubmit'));
    clock.advance(59 * 60_000);
    assert.equal((await s.request('GET', '/api/instances/claude-e1')).body.state, 'working');
    clock.advance(60_000);
    await s.system.settle();
    const r = await s.request('GET', '/api/instances/claude-e1');
    assert.equal(r.body.state, 'stopped');
    assert.equal(r.body.stop_reason, 'expired');
    const ev = await s.request('GET', '/api/events?type=instance.stopped&instance=claude-e1');
    assert.equal(ev.body.events[0].details.reason, 'expired');
  });

  it('stops a local instance whose process has gone', async () => {
    alive.add(111);
    await s.hook(hookPayload('p1', 'SessionStart'), '?pid=111');
    // The process monitor checks every process_check_seconds, on the injected clock.
    const check = async () => {
      clock.advance(s.config.processCheckMs);
      await s.system.settle();
    };
    await check();
    assert.equal((await s.request('GET', '/api/instances/claude-p1')).body.state, 'idle');
    alive.delete(111);
    await check();
    const stopped = (await s.request('GET', '/api/events?type=instance.stopped')).body.events;
    assert.deepEqual(
      stopped.filter((e: { details: { reason: string } }) => e.details.reason === 'process_gone').map((e: { instance_id: string }) => e.instance_id),
      ['claude-p1'],
      'the monitor stops that instance, and no other',
    );
    const r = await s.request('GET', '/api/instances/claude-p1');
    assert.equal(r.body.state, 'stopped');
    assert.equal(r.body.stop_reason, 'process_gone');
  });
});
