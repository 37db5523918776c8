// The Codex rollout watcher on real files: lines written one by one while it runs (partial
// lines wait), a restart in between (resumes from the committed offset, nothing twice), the
// idle timeout, old history not replayed, the poll timer, and Codex's notify.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { readRows } from './support/sqlite.js';
import { FakeClock } from './support/clock.js';
import { hookPayload, startTestServer, tempHome, type TestServer } from './support/system.js';

const SESSION = '0199a0c2-7d8e-7a41-9c51-3f2b8e6d1a77';

function dayDir(codexHome: string, at = Date.now()): string {
  const d = new Date(at);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return join(codexHome, 'sessions', String(d.getFullYear()), p2(d.getMonth() + 1), p2(d.getDate()));
}

describe('Codex rollout watcher', () => {
  let home: ReturnType<typeof tempHome>;
  let codexHome: string;
  let s: TestServer;
  let clock: FakeClock;
  let file: string;

  const ts = () => new Date(clock.now()).toISOString();
  const meta = (id = SESSION) => JSON.stringify({ timestamp: ts(), type: 'session_meta', payload: { id, timestamp: ts(), cwd: '/home/u/shop', originator: 'codex_cli_rs', cli_version: '0.46.0', git: {} } });
  const msg = (type: string, extra: Record<string, unknown> = {}) => JSON.stringify({ timestamp: ts(), type: 'event_msg', payload: { type, ...extra } });
  const item = (payload: Record<string, unknown>) => JSON.stringify({ timestamp: ts(), type: 'response_item', payload });
  const write = (...lines: string[]) => appendFileSync(file, lines.map((l) => `${l}\n`).join(''));

  async function start(): Promise<void> {
    s = await startTestServer(home.dir, { codex: { home: codexHome, idle_minutes: 5, poll_seconds: 1 } }, { clock });
  }
  /** The notify intents the instances emitted, as committed (each becomes a notification_intents row). */
  const intents = async () => (await readRows(home.dir, 'SELECT intent, detail FROM notification_intents ORDER BY at, rowid')) as { intent: string; detail: string | null }[];
  /** One poll of the watcher (poll_seconds: 1 on the injected clock), and everything it caused. */
  const scan = async () => {
    clock.advance(1000);
    await s.system.settle();
  };
  /** Polls until one of them was a scan of the whole sessions tree (one poll in 30 is). */
  const fullScan = async () => {
    for (let i = 0; i < 30; i++) await scan();
  };
  const instance = async (id = `codex-${SESSION}`) => (await s.request('GET', `/api/instances/${id}`)).body;
  const codexEvents = async () =>
    (await s.request('GET', `/api/events?instance=codex-${SESSION}&type=codex.*&limit=200`)).body.events.map((e: { type: string }) => e.type).reverse();

  beforeEach(async () => {
    await s?.close();
    home?.cleanup();
    home = tempHome('token-api-codex-');
    codexHome = join(home.dir, 'codex-home');
    clock = new FakeClock(Date.now());
    mkdirSync(dayDir(codexHome), { recursive: true });
    file = join(dayDir(codexHome), `rollout-2026-11-23T12-00-00-${SESSION}.jsonl`);
    await start();
  });
  after(async () => {
    await s?.close();
    home?.cleanup();
  });

  it('follows a rollout written line by line: registers, works, runs tools, finishes', async () => {
    write(meta());
    await scan();
    let inst = await instance();
    assert.equal(inst.agent_type, 'codex');
    assert.equal(inst.display_name, 'Codex #1');
    assert.equal(inst.state, 'idle');
    assert.equal(inst.working_dir, '/home/u/shop');
    assert.equal(inst.transcript_path, file);

    clock.advance(1000);
    write(msg('task_started', { model_context_window: 272000 }), msg('user_message', { message: 'add a cart', kind: 'plain' }));
    await scan();
    assert.equal((await instance()).state, 'working');

    clock.advance(1000);
    write(item({ type: 'function_call', name: 'shell', arguments: '{"command":["ls"]}', call_id: 'call_1' }));
    // Half a line: Codex is still writing it. Nothing happens until it is whole.
    const output = item({ type: 'function_call_output', call_id: 'call_1', output: '{"output":"src\\n","metadata":{"exit_code":0}}' });
    appendFileSync(file, output.slice(0, 20));
    await scan();
    inst = await instance();
    assert.equal(inst.current_tool, 'shell');
    assert.equal(inst.tool_count, 0);
    appendFileSync(file, `${output.slice(20)}\n`);
    write(msg('token_count', { info: null }), msg('agent_message', { message: 'Done.' }));
    await scan();
    inst = await instance();
    assert.equal(inst.tool_count, 1);
    assert.equal(inst.current_tool, null);

    clock.advance(1000);
    write(msg('task_complete', { last_agent_message: 'Added the cart.' }));
    await scan();
    inst = await instance();
    assert.equal(inst.state, 'idle');
    assert.deepEqual(
      (await intents()).map((i) => [i.intent, i.detail]),
      [['finished', 'Added the cart.']],
    );
    assert.deepEqual(await codexEvents(), [
      'codex.session_meta',
      'codex.task_started',
      'codex.user_message',
      'codex.tool_call',
      'codex.tool_output',
      'codex.task_complete',
    ]);

    // Claude and Codex side by side, each with its agent type.
    await s.hook(hookPayload('claude-side', 'SessionStart', { source: 'startup' }));
    const list = await s.request('GET', '/api/instances');
    assert.deepEqual(list.body.instances.map((i: { agent_type: string; display_name: string }) => [i.agent_type, i.display_name]).sort(), [
      ['claude', 'Claude #1'],
      ['codex', 'Codex #1'],
    ]);
    const codexOnly = await s.request('GET', '/api/instances?agent_type=codex');
    assert.equal(codexOnly.body.instances.length, 1);
  });

  it('resumes after a restart from the committed offset: lines written while down are read once', async () => {
    write(meta(), msg('user_message', { message: 'one' }));
    await scan();
    await s.close();
    clock.advance(2000);
    write(msg('task_complete', { last_agent_message: 'one done' }), msg('user_message', { message: 'two' }));
    await start(); // the start-up scan reads what was written meanwhile
    assert.equal((await instance()).state, 'working');
    await scan();
    assert.deepEqual(await codexEvents(), ['codex.session_meta', 'codex.user_message', 'codex.task_complete', 'codex.user_message']);
    const [offset] = (await readRows(home.dir, 'SELECT offset, session_id FROM codex_files WHERE path = ?', [file])) as { offset: number; session_id: string }[];
    assert.equal(offset?.session_id, SESSION);
    assert.equal(offset?.offset, statSync(file).size);
    await s.close();
    await start();
    assert.equal((await codexEvents()).length, 4, 'a second restart reads nothing again');
  });

  it('a working session whose rollout is untouched for the idle timeout goes idle, without a notification', async () => {
    write(meta(), msg('user_message', { message: 'long job' }), item({ type: 'function_call', name: 'shell', arguments: '{}', call_id: 'c9' }));
    await scan();
    assert.equal((await instance()).state, 'working');
    const fourMinutesAgo = (Date.now() - 4 * 60_000) / 1000;
    utimesSync(file, fourMinutesAgo, fourMinutesAgo);
    await scan();
    assert.equal((await instance()).state, 'working');
    const sixMinutesAgo = (Date.now() - 6 * 60_000) / 1000;
    utimesSync(file, sixMinutesAgo, sixMinutesAgo);
    await scan();
    const inst = await instance();
    assert.equal(inst.state, 'idle');
    assert.equal(inst.current_tool, null);
    assert.equal((await intents()).length, 0);
    assert.equal((await codexEvents()).at(-1), 'codex.idle');
    // When the turn does end later, that is still news.
    write(msg('task_complete', { last_agent_message: 'built' }));
    await scan();
    assert.deepEqual((await intents()).map((i) => i.intent), ['finished']);
  });

  it('a session whose rollout is quiet for 30 minutes is stopped quietly (idle), and comes back when the rollout grows', async () => {
    write(meta(), msg('user_message', { message: 'job' }), msg('task_complete', { last_agent_message: 'done' }));
    await scan();
    assert.equal((await instance()).state, 'idle');
    const before = (await intents()).length;
    const minutesAgo = (m: number) => (Date.now() - m * 60_000) / 1000;
    utimesSync(file, minutesAgo(29), minutesAgo(29));
    await scan();
    assert.equal((await instance()).state, 'idle');
    utimesSync(file, minutesAgo(31), minutesAgo(31));
    await scan();
    const stopped = await instance();
    assert.equal(stopped.state, 'stopped');
    assert.equal(stopped.stop_reason, 'idle');
    assert.equal((await intents()).length, before, 'nobody is told: no "timed out"');
    write(msg('user_message', { message: 'one more thing' }));
    await scan();
    const back = await instance();
    assert.equal(back.state, 'working');
    assert.equal(back.id, `codex-${SESSION}`);
    assert.equal(back.display_name, 'Codex #1');
  });

  it('does not replay history from before it watched, yet reads an old session that is resumed', async () => {
    const oldDir = dayDir(codexHome, Date.now() - 10 * 86_400_000);
    mkdirSync(oldDir, { recursive: true });
    const old = join(oldDir, 'rollout-2026-11-13T09-00-00-0199a0c2-0000-7000-8000-000000000001.jsonl');
    writeFileSync(old, [meta('0199a0c2-0000-7000-8000-000000000001'), msg('user_message', { message: 'old' })].map((l) => `${l}\n`).join(''));
    const tenDaysAgo = (Date.now() - 10 * 86_400_000) / 1000;
    utimesSync(old, tenDaysAgo, tenDaysAgo);
    await fullScan();
    assert.equal((await s.request('GET', '/api/instances?agent_type=codex')).body.instances.length, 0);
    // `codex resume` appends to the old file: its new lines count (the session comes back).
    appendFileSync(old, `${msg('user_message', { message: 'again' })}\n`);
    await fullScan();
    const inst = await instance('codex-0199a0c2-0000-7000-8000-000000000001');
    assert.equal(inst.state, 'working');
    assert.equal(inst.working_dir, '/home/u/shop');
  });

  it('polls on its own clock, and skips lines that are not JSON', async () => {
    write(meta(), 'not json at all', msg('user_message', { message: 'hi' }));
    clock.advance(1000);
    await s.system.settle();
    assert.equal((await instance()).state, 'working');
  });

  it('a finished Codex turn makes its usage read at once: tokens on the instance', async () => {
    await s.close();
    s = await startTestServer(home.dir, { codex: { home: codexHome, idle_minutes: 5, poll_seconds: 1 }, usage_codex_dirs: [codexHome], usage_live_interval_seconds: 0, usage_scan_interval_minutes: 0 }, { clock });
    write(meta(), JSON.stringify({ timestamp: ts(), type: 'turn_context', payload: { model: 'gpt-5-codex', cwd: '/home/u/shop' } }));
    write(msg('task_started', {}), msg('user_message', { message: 'count' }));
    write(msg('token_count', { info: { total_token_usage: { input_tokens: 1200, cached_input_tokens: 200, output_tokens: 300, total_tokens: 1500 } } }));
    write(msg('task_complete', { last_agent_message: 'Counted.' }));
    await scan();
    const inst = await instance();
    assert.equal(inst.state, 'idle');
    assert.equal(inst.usage.input_tokens, 1000);
    assert.equal(inst.usage.cache_read_tokens, 200);
    assert.equal(inst.usage.output_tokens, 300);
  });

  it('notify: makes the watcher read a session it follows now; ends the turn itself for one it does not', async () => {
    write(meta(), msg('user_message', { message: 'quick' }));
    await scan();
    write(msg('task_complete', { last_agent_message: 'quick done' }));
    const r = await s.request('POST', '/api/codex/notify', { type: 'agent-turn-complete', 'thread-id': SESSION, 'turn-id': '12', cwd: '/home/u/shop', 'input-messages': ['quick'], 'last-assistant-message': 'quick done' });
    assert.equal(r.status, 200);
    assert.equal(r.body.outcome, 'scanned');
    assert.equal(r.body.instance.state, 'idle');
    assert.deepEqual((await intents()).map((i) => i.intent), ['finished'], 'one turn, one notification');

    const other = '0199a0c2-1111-7000-8000-00000000abcd';
    const body = { type: 'agent-turn-complete', 'thread-id': other, 'turn-id': 't1', cwd: '/srv/api', 'last-assistant-message': 'deployed' };
    const first = await s.request('POST', '/api/codex/notify', body);
    assert.equal(first.status, 200);
    assert.equal(first.body.outcome, 'applied');
    assert.equal(first.body.instance.agent_type, 'codex');
    assert.equal(first.body.instance.working_dir, '/srv/api');
    const again = await s.request('POST', '/api/codex/notify', body);
    assert.equal(again.body.outcome, 'duplicate');
    assert.deepEqual((await intents()).map((i) => i.intent), ['finished', 'finished']);

    const noThread = await s.request('POST', '/api/codex/notify', { type: 'agent-turn-complete', cwd: '/nowhere' });
    assert.equal(noThread.status, 202);
    const bad = await s.request('POST', '/api/codex/notify', { 'thread-id': 'x' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.fields.type, 'is missing; expected text');
  });

  it('notify for a turn that ended before any poll saw its new rollout: the file is read now, the turn ends once, the notify is logged', async () => {
    // Real Codex (0.171, a quick turn): the whole first turn is written and notify runs within
    // a poll interval. The notify used to end the turn itself, then the rollout ended it again.
    write(meta(), msg('task_started', {}), msg('task_complete', { last_agent_message: 'quick done' }));
    const r = await s.request('POST', '/api/codex/notify', { type: 'agent-turn-complete', 'thread-id': SESSION, 'turn-id': 't1', cwd: '/home/u/shop', 'last-assistant-message': 'quick done' });
    assert.equal(r.status, 200);
    assert.equal(r.body.outcome, 'scanned');
    assert.equal(r.body.instance.state, 'idle');
    await scan();
    assert.deepEqual((await intents()).map((i) => i.intent), ['finished'], 'one turn, one notification');
    assert.deepEqual(await codexEvents(), ['codex.session_meta', 'codex.task_started', 'codex.task_complete', 'codex.notify']);
  });
});
