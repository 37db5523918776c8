// POST /api/hooks with the hook script's event id (a repeat changes nothing), reply=none and
// the native http hooks' SSH header; POST /api/hooks/spool (order, duplicates, refusals).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { createHookEventIds } from '../src/actors/instances/hook-event-ids.js';
import { FakeClock } from './support/clock.js';
import { hookPayload, startTestServer, tableCounts, tempHome, type TestServer } from './support/system.js';
import { databaseOf, withDatabase } from './support/sqlite.js';

describe('hook event ids, reply=none and the spool upload', () => {
  let home: ReturnType<typeof tempHome>;
  let s: TestServer;
  let clock: FakeClock;

  beforeEach(async () => {
    await s?.close();
    home?.cleanup();
    home = tempHome();
    clock = new FakeClock();
    s = await startTestServer(home.dir, {}, { clock });
  });
  after(async () => {
    await s?.close();
    home?.cleanup();
  });

  const line = (eventId: string, body: Record<string, unknown>, at: number, query = '') =>
    JSON.stringify({ event_id: eventId, spooled_at: at, query: `event_id=${eventId}${query}`, body });

  it('answers a repeated event id as a duplicate and applies it once', async () => {
    const first = await s.hook(hookPayload('dup', 'PostToolUse', { tool_name: 'Bash' }), '?event_id=evt-00000001');
    assert.equal(first.status, 200);
    assert.equal(first.body.outcome, 'applied');
    const again = await s.hook(hookPayload('dup', 'PostToolUse', { tool_name: 'Bash' }), '?event_id=evt-00000001');
    assert.equal(again.status, 200);
    assert.equal(again.body.outcome, 'duplicate');
    assert.equal(again.body.instance.tool_count, 1);
    const rows = await databaseOf(s.system).all('SELECT event_id FROM hook_event_ids');
    assert.deepEqual(rows, [{ event_id: 'evt-00000001' }]);
    const events = await s.request('GET', '/api/events?instance=claude-dup&type=hook.*');
    assert.equal(events.body.events.length, 1);
  });

  it('reply=none answers 204 with no body; the SSH header of native http hooks gives the origin', async () => {
    const r = await s.request('POST', '/api/hooks?reply=none', hookPayload('native', 'UserPromptSubmit'), { 'X-Token-Api-Ssh-Client': '100.102.92.24 50022 22' });
    assert.equal(r.status, 204);
    assert.equal(r.text, '');
    const inst = await s.request('GET', '/api/instances/claude-native');
    assert.equal(inst.body.state, 'working');
    assert.deepEqual(inst.body.origin, { type: 'ssh', source_ip: '100.102.92.24', device_id: 'unknown' });
    // An unset variable interpolates to an empty header: local.
    await s.request('POST', '/api/hooks?reply=none', hookPayload('native-2', 'UserPromptSubmit'), { 'X-Token-Api-Ssh-Client': '' });
    assert.equal((await s.request('GET', '/api/instances/claude-native-2')).body.origin.type, 'local');
  });

  it('refuses a bad event id or reply value and writes nothing', async () => {
    const before = await tableCounts(s.system);
    for (const q of ['?event_id=short', '?event_id=has%20space%20in%20it', '?reply=maybe']) {
      const r = await s.hook(hookPayload('bad', 'Stop'), q);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.error, 'validation_failed');
    }
    assert.deepEqual(await tableCounts(s.system), before);
  });

  it('an id still committing is not known to a spool replay (which then waits for it), only one committed is', async () => {
    await withDatabase(s.config.databaseFile, async (db) => {
      const ids = createHookEventIds({ db });
      ids.claim('evt-inflight-1');
      assert.equal(ids.has('evt-inflight-1'), true, 'a live repeat waits for it');
      assert.deepEqual([...(await ids.known(['evt-inflight-1']))], [], 'a replay does not skip it');
      ids.release('evt-inflight-1');
      assert.equal(ids.has('evt-inflight-1'), false);
      ids.claim('evt-inflight-2');
      ids.confirm('evt-inflight-2');
      assert.deepEqual([...(await ids.known(['evt-inflight-1', 'evt-inflight-2']))], ['evt-inflight-2']);
    });
    // and through the server: once its event committed, a spool replay of that id is a duplicate
    await s.hook(hookPayload('kn', 'SessionStart', { source: 'startup' }), '?event_id=evt-known-01');
    const upload = await s.request('POST', '/api/hooks/spool', line('evt-known-01', hookPayload('kn', 'SessionStart', { source: 'startup' }), clock.now()), { 'content-type': 'application/x-ndjson' });
    assert.deepEqual(upload.body, { replayed: 0, duplicates: 1, invalid: [] });
  });

  it('replays an uploaded spool in order with the spooled times, skipping ids it has', async () => {
    await s.hook(hookPayload('up', 'SessionStart', { source: 'startup' }), '?event_id=up-event-0');
    const started = clock.now();
    clock.advance(120_000);
    const t0 = clock.now() - 60_000;
    const text = [
      line('up-event-0', hookPayload('up', 'SessionStart', { source: 'startup' }), t0 - 1000),
      line('up-event-1', hookPayload('up', 'UserPromptSubmit'), t0, '&pid=4242&ssh_client=100.64.0.9%201%2022'),
      line('up-event-2', hookPayload('up', 'PreToolUse', { tool_name: 'Bash' }), t0 + 1000),
      line('up-event-2', hookPayload('up', 'PreToolUse', { tool_name: 'Bash' }), t0 + 1000),
      line('up-event-3', hookPayload('up', 'PostToolUse', { tool_name: 'Bash' }), t0 + 2000),
    ].join('\n');
    const r = await s.request('POST', '/api/hooks/spool', text, { 'content-type': 'application/x-ndjson' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { replayed: 3, duplicates: 2, invalid: [] });
    const events = (await s.request('GET', '/api/events?instance=claude-up&type=hook.*')).body.events.reverse();
    assert.deepEqual(
      events.map((e: { type: string; created_at: string }) => [e.type, e.created_at]),
      [
        ['hook.session_start', new Date(started).toISOString()],
        ['hook.user_prompt_submit', new Date(t0).toISOString()],
        ['hook.pre_tool_use', new Date(t0 + 1000).toISOString()],
        ['hook.post_tool_use', new Date(t0 + 2000).toISOString()],
      ],
    );
    const inst = await s.request('GET', '/api/instances/claude-up');
    assert.equal(inst.body.tool_count, 1);
    assert.equal(inst.body.pid, 4242);
    // Uploading the same spool again changes nothing.
    const again = await s.request('POST', '/api/hooks/spool', text);
    assert.deepEqual(again.body, { replayed: 0, duplicates: 5, invalid: [] });
  });

  it('replays in the order the hooks ran (their sequence numbers), not the order of the lines', async () => {
    const t0 = clock.now() - 10_000;
    const seqLine = (eventId: string, seq: number, body: Record<string, unknown>, at: number) =>
      JSON.stringify({ event_id: eventId, seq, spooled_at: at, query: `event_id=${eventId}`, body });
    const text = [
      seqLine('ord-event-3', 1_764_000_000_000_003, hookPayload('ord', 'Stop'), t0 + 3),
      seqLine('ord-event-1', 1_764_000_000_000_001, hookPayload('ord', 'UserPromptSubmit'), t0 + 1),
      seqLine('ord-event-2', 1_764_000_000_000_002, hookPayload('ord', 'PreToolUse', { tool_name: 'Bash' }), t0 + 2),
    ].join('\n');
    const r = await s.request('POST', '/api/hooks/spool', text);
    assert.deepEqual(r.body, { replayed: 3, duplicates: 0, invalid: [] });
    const events = (await s.request('GET', '/api/events?instance=claude-ord&type=hook.*')).body.events.reverse();
    assert.deepEqual(events.map((e: { type: string }) => e.type), ['hook.user_prompt_submit', 'hook.pre_tool_use', 'hook.stop']);
    assert.equal((await s.request('GET', '/api/instances/claude-ord')).body.state, 'idle');
  });

  it('records a spooled event no earlier than the last activity of its instance (a clock with seconds only, another machine\'s)', async () => {
    await s.hook(hookPayload('late', 'UserPromptSubmit'), '?event_id=late-live-1');
    clock.advance(691);
    await s.hook(hookPayload('late', 'PostToolUse', { tool_name: 'Bash' }), '?event_id=late-live-2');
    const live = clock.now();
    // The Stop came after, but its time was written rounded down to the second.
    const rounded = Math.floor(live / 1000) * 1000;
    assert.ok(rounded < live);
    const r = await s.request('POST', '/api/hooks/spool', line('late-spooled', hookPayload('late', 'Stop'), rounded));
    assert.equal(r.body.replayed, 1);
    const events = (await s.request('GET', '/api/events?instance=claude-late&type=hook.*')).body.events.reverse();
    assert.deepEqual(events.map((e: { type: string }) => e.type), ['hook.user_prompt_submit', 'hook.post_tool_use', 'hook.stop']);
    const times = events.map((e: { created_at: string }) => Date.parse(e.created_at));
    assert.deepEqual([...times].sort((a, b) => a - b), times, 'no event is recorded before one that preceded it');
    assert.equal(times[2], live);
    assert.equal(Date.parse((await s.request('GET', '/api/instances/claude-late')).body.state_since), live);
  });

  it('keeps what it can replay, names the lines it cannot, and refuses an upload with nothing usable', async () => {
    const mixed = ['not json', line('mix-event-1', hookPayload('mix', 'Stop'), clock.now()), JSON.stringify({ event_id: 'mix-event-2', spooled_at: 1, query: '', body: { hook_event_name: 'Stop' } })].join('\n');
    const r = await s.request('POST', '/api/hooks/spool', mixed);
    assert.equal(r.status, 200);
    assert.equal(r.body.replayed, 1);
    assert.deepEqual(r.body.invalid.map((i: { line: number }) => i.line), [1, 3]);
    assert.match(r.body.invalid[1].reason, /session_id/);
    // The uploader keeps those lines aside, from the answer: nothing of another machine's is written here.
    assert.equal(existsSync(join(home.dir, 'spool', 'rejected.ndjson')), false);

    await s.close();
    home.cleanup();
    home = tempHome();
    s = await startTestServer(home.dir, {}, { clock });
    const before = await tableCounts(s.system);
    const bad = await s.request('POST', '/api/hooks/spool', 'garbage\n{"event_id":"x"}\n');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'invalid_spool');
    assert.deepEqual(Object.keys(bad.body.fields), ['line 1', 'line 2']);
    assert.deepEqual(await tableCounts(s.system), before);
    assert.equal(existsSync(join(home.dir, 'spool', 'rejected.ndjson')), false);
    const unknown = await s.request('POST', '/api/hooks/spool?x=1', '');
    assert.equal(unknown.status, 400);
    // An upload of blank lines only holds nothing to replay: refused as such, not answered "0 replayed".
    for (const blank of ['', '\t', '\n \n']) {
      const r = await s.request('POST', '/api/hooks/spool', blank, { 'content-type': 'application/x-ndjson' });
      assert.equal(r.status, 400, JSON.stringify(blank));
      assert.equal(r.body.error, 'invalid_spool');
    }
    assert.deepEqual(await tableCounts(s.system), before);
  });
});
