// End to end: the real server process, a realistic hook sequence, SIGKILL midway, restart,
// and every acknowledged change is there.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { getJson, postJson, startServerProcess, type ServerProcess } from './support/process.js';
import { hookPayload, tempHome } from './support/system.js';

describe('the real server survives SIGKILL without losing an acknowledged change', () => {
  const home = tempHome('token-api-e2e-');
  let server: ServerProcess | undefined;
  after(async () => {
    await server?.kill();
    home.cleanup();
  });

  it('drives hooks, is killed midway, restarts and has everything it acknowledged', async () => {
    server = await startServerProcess(home.dir);
    const hook = (name: string, extra: Record<string, unknown> = {}) => postJson(`${server!.url}/api/hooks?pid=${process.pid}`, hookPayload('e2e-1', name, extra));

    for (const [name, extra] of [
      ['SessionStart', { source: 'startup' }],
      ['UserPromptSubmit', { prompt: 'run the tests' }],
      ['PreToolUse', { tool_name: 'Bash', tool_input: { command: 'npm test' } }],
      ['PostToolUse', { tool_name: 'Bash', tool_response: { stdout: 'ok' } }],
    ] as const) {
      const r = await hook(name, extra);
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    await server.kill('SIGKILL');

    server = await startServerProcess(home.dir);
    let inst = await getJson(`${server.url}/api/instances/claude-e2e-1`);
    assert.equal(inst.status, 200);
    assert.equal(inst.body.state, 'working');
    assert.equal(inst.body.tool_count, 1);
    assert.equal(inst.body.pid, process.pid);

    for (const [name, extra, state] of [
      ['Notification', { notification_type: 'permission_prompt', message: 'Claude needs your permission to use Bash' }, 'awaiting'],
      ['Stop', {}, 'idle'],
      ['SessionEnd', { reason: 'exit' }, 'stopped'],
    ] as const) {
      const r = await hook(name, extra);
      assert.equal(r.body.to, state);
    }
    await server.kill('SIGKILL');

    server = await startServerProcess(home.dir);
    inst = await getJson(`${server.url}/api/instances/claude-e2e-1`);
    assert.equal(inst.body.state, 'stopped');
    assert.equal(inst.body.stop_reason, 'session_end: exit');
    const events = await getJson(`${server.url}/api/events?instance=claude-e2e-1&type=hook.*&limit=100`);
    assert.deepEqual(
      events.body.events.map((e: { type: string }) => e.type).reverse(),
      ['hook.session_start', 'hook.user_prompt_submit', 'hook.pre_tool_use', 'hook.post_tool_use', 'hook.notification', 'hook.stop', 'hook.session_end'],
    );
  });

  it('under concurrent load, every acknowledged event survives a SIGKILL at an arbitrary moment', async () => {
    await server?.kill();
    server = await startServerProcess(home.dir);
    const acked: string[] = [];
    const url = `${server.url}/api/hooks`;
    let stop = false;
    const sender = async (n: number) => {
      for (let i = 0; !stop; i++) {
        const session = `load-${n}-${i % 5}`;
        try {
          const r = await postJson(url, hookPayload(session, 'PreToolUse', { tool_name: `T${i}` }));
          if (r.status === 200) acked.push(`${session}:T${i}`);
        } catch {
          return; // connection refused or reset: the server is gone
        }
      }
    };
    const senders = Array.from({ length: 8 }, (_, n) => sender(n));
    while (acked.length < 300) await new Promise((r) => setTimeout(r, 5));
    await server.kill('SIGKILL');
    stop = true;
    await Promise.all(senders);

    server = await startServerProcess(home.dir);
    const rows = await getJson(`${server.url}/api/events?type=hook.pre_tool_use&limit=1000`);
    const stored = new Set<string>();
    // limit is 1000 per page; page back through everything
    let page = rows.body.events as { id: number; instance_id: string; details: { payload: { session_id: string; tool_name: string } } }[];
    while (page.length > 0) {
      for (const e of page) stored.add(`${e.details.payload.session_id}:${e.details.payload.tool_name}`);
      const next = await getJson(`${server.url}/api/events?type=hook.pre_tool_use&limit=1000&before=${page[page.length - 1]!.id}`);
      page = next.body.events;
    }
    const missing = acked.filter((a) => !stored.has(a));
    assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged events were lost`);
    // and the state each produced: every instance's current tool is at least as new as the
    // last one acknowledged for it (a later, unacknowledged event may also have landed)
    const lastAcked = new Map<string, number>();
    for (const a of acked) {
      const [session, tool] = a.split(':') as [string, string];
      lastAcked.set(session, Math.max(lastAcked.get(session) ?? -1, Number(tool.slice(1))));
    }
    for (const [session, i] of lastAcked) {
      const inst = await getJson(`${server.url}/api/instances/claude-${session}`);
      assert.equal(inst.body.state, 'working');
      assert.ok(Number(String(inst.body.current_tool).slice(1)) >= i, `${session}: current tool ${inst.body.current_tool}, last acknowledged T${i}`);
    }
  });
});
