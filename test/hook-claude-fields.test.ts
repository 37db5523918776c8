// A hook body is Claude Code's: its own agent_id and agent_type (subagents, `--agent`) and
// whatever else it sends, however typed, are taken; subagents are tracked by agent_id, and a
// session run as a custom agent shows that agent's name.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FakeClock } from './support/clock.js';
import { hookPayload, startTestServer, tempHome, type TestServer } from './support/system.js';
import { databaseOf } from './support/sqlite.js';

describe("Claude Code's own hook fields", () => {
  let home: ReturnType<typeof tempHome>;
  let s: TestServer;
  let clock: FakeClock;

  beforeEach(async () => {
    home = tempHome();
    clock = new FakeClock();
    s = await startTestServer(home.dir, {}, { clock });
  });
  afterEach(async () => {
    await s.close();
    home.cleanup();
  });

  const hook = async (session: string, name: string, extra: Record<string, unknown> = {}) => {
    clock.advance(100);
    const r = await s.hook(hookPayload(session, name, extra));
    assert.ok(r.status === 200 || r.status === 202, `${name}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const instance = async (session: string) => (await s.request('GET', `/api/instances/claude-${session}`)).body;

  it('takes SubagentStart with agent_id and agent_type general-purpose (it was a 400)', async () => {
    const r = await s.request('POST', '/api/hooks', {
      session_id: 's',
      transcript_path: '/t',
      cwd: '/',
      hook_event_name: 'SubagentStart',
      agent_id: 'a1',
      agent_type: 'general-purpose',
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.instance.subagent_count, 1);
    assert.deepEqual(
      r.body.instance.subagents.map((a: { agent_id: string; agent_type: string }) => [a.agent_id, a.agent_type]),
      [['a1', 'general-purpose']],
    );
    assert.equal(r.body.instance.agent_type, 'claude', "token-api's agent kind is not Claude Code's agent_type");
  });

  it('takes any object with session_id and hook_event_name, however Claude Code types its other fields', async () => {
    const odd = {
      tool_name: { nested: true },
      cwd: 42,
      transcript_path: ['x'],
      source: 'x'.repeat(500),
      notification_type: 7,
      message: { text: 'not a string' },
      reason: null,
      pid: 'not ours',
      ssh_client: 'not ours either',
      agent_type: 12,
      agent_id: false,
      tab_name: 3,
    };
    for (const name of ['SessionStart', 'PreToolUse', 'PostToolUse', 'Notification', 'Stop', 'SessionEnd']) {
      const r = await s.request('POST', '/api/hooks', { session_id: 'odd', hook_event_name: name, ...odd });
      assert.ok(r.status === 200 || r.status === 202, `${name}: ${r.status} ${r.text}`);
    }
    const ev = await s.request('GET', '/api/events?type=hook.pre_tool_use');
    assert.deepEqual(ev.body.events[0].details.payload.tool_name, { nested: true }, 'kept as sent');
    const i = await s.request('GET', '/api/instances/claude-odd');
    assert.equal(i.body.tool_count, 1);
    assert.equal(i.body.origin.type, 'local', "Claude Code's fields never set token-api's");
    assert.equal(i.body.pid, null);
  });

  it('tracks subagents by agent_id, with their tools, and stays working while a background one runs after the Stop', async () => {
    // The sequence Claude Code 2.1 sends for an Agent-tool subagent run in the background.
    const sub = { agent_id: 'a20d0417', agent_type: 'general-purpose' };
    await hook('bg', 'SessionStart', { source: 'startup' });
    await hook('bg', 'UserPromptSubmit', { prompt: 'delegate it' });
    await hook('bg', 'PreToolUse', { tool_name: 'Agent' });
    await hook('bg', 'SubagentStart', sub);
    await hook('bg', 'SubagentStart', sub); // a repeated start counts once
    await hook('bg', 'PostToolUse', { tool_name: 'Agent' });
    let r = await hook('bg', 'PreToolUse', { tool_name: 'Bash', ...sub });
    assert.equal(r.instance.current_tool, null, "the main agent's tool is not the subagent's");
    assert.equal(r.instance.subagents[0].current_tool, 'Bash');
    r = await hook('bg', 'Stop', { last_assistant_message: 'Main done.', background_tasks: [{ id: sub.agent_id, type: 'subagent', status: 'running' }] });
    assert.equal(r.to, 'working', 'a background subagent still works');
    assert.equal(r.instance.subagent_count, 1);
    r = await hook('bg', 'PostToolUse', { tool_name: 'Bash', ...sub });
    assert.equal(r.instance.tool_count, 2, "the subagent's tool counts on the instance");
    assert.equal(r.instance.subagents[0].tool_count, 1);
    assert.equal(r.instance.subagents[0].current_tool, null);
    r = await hook('bg', 'SubagentStop', { ...sub, agent_transcript_path: '/t/sub.jsonl' });
    assert.equal(r.to, 'idle', 'the last subagent stopped after the main turn did');
    assert.equal(r.instance.subagent_count, 0);
    // Claude Code then tells the main agent in a turn of its own.
    assert.equal((await hook('bg', 'UserPromptSubmit', { prompt: '<task-notification>' })).to, 'working');
    assert.equal((await hook('bg', 'Stop', { last_assistant_message: 'Done.', background_tasks: [] })).to, 'idle');
    const finished = await databaseOf(s.system).all<{ intent: string }>("SELECT intent FROM notification_intents WHERE intent = 'finished'");
    assert.equal(finished.length, 1, 'finished is announced once, when everything is done');
  });

  it('counts two subagents apart and frees each by its own SubagentStop', async () => {
    await hook('two', 'UserPromptSubmit');
    await hook('two', 'SubagentStart', { agent_id: 'x1', agent_type: 'general-purpose' });
    await hook('two', 'SubagentStart', { agent_id: 'x2', agent_type: 'reviewer' });
    await hook('two', 'PostToolUse', { tool_name: 'Read', agent_id: 'x2', agent_type: 'reviewer' });
    let r = await hook('two', 'SubagentStop', { agent_id: 'x1', agent_type: 'general-purpose' });
    assert.deepEqual(
      r.instance.subagents.map((a: { agent_id: string; tool_count: number }) => [a.agent_id, a.tool_count]),
      [['x2', 1]],
    );
    r = await hook('two', 'SubagentStop', { agent_id: 'x2', agent_type: 'reviewer' });
    assert.equal(r.instance.subagent_count, 0);
    assert.equal(r.to, 'working', 'no Stop yet: the main turn goes on');
  });

  it("a subagent's permission request makes the instance wait; the main agent's tools do not end that wait", async () => {
    const sub = { agent_id: 'p1', agent_type: 'general-purpose' };
    await hook('perm', 'UserPromptSubmit');
    await hook('perm', 'SubagentStart', sub);
    await hook('perm', 'PreToolUse', { tool_name: 'Bash', ...sub });
    assert.equal((await hook('perm', 'PermissionRequest', { tool_name: 'Bash', ...sub })).to, 'awaiting');
    assert.equal((await hook('perm', 'PostToolUse', { tool_name: 'Read' })).to, 'awaiting', 'the main agent ran a tool meanwhile');
    assert.equal((await hook('perm', 'PostToolUse', { tool_name: 'Bash', ...sub })).to, 'working', 'approved: the subagent ran it');
  });

  it('a session started as a custom agent (--agent NAME) shows that name', async () => {
    const r = await hook('ag', 'SessionStart', { source: 'startup', agent_type: 'reviewer' });
    assert.equal(r.instance.agent_name, 'reviewer');
    assert.equal(r.instance.agent_type, 'claude');
    await hook('ag', 'PreToolUse', { tool_name: 'Bash', agent_type: 'reviewer' });
    const i = await instance('ag');
    assert.equal(i.agent_name, 'reviewer');
    assert.equal(i.subagent_count, 0, 'its own tools are not a subagent');
    assert.equal(i.current_tool, 'Bash');
    const listed = await s.request('GET', '/api/instances');
    assert.equal(listed.body.instances[0].agent_name, 'reviewer');
  });

  it("token-api's own agent kind goes in the query (agent=) or the body (x_token_api_agent)", async () => {
    const q = await s.hook(hookPayload('k1', 'SessionStart'), '?agent=codex');
    assert.equal(q.body.instance.agent_type, 'codex');
    const b = await s.hook(hookPayload('k2', 'SessionStart', { x_token_api_agent: 'codex', agent_type: 'general-purpose' }));
    assert.equal(b.body.instance.agent_type, 'codex');
  });
});
