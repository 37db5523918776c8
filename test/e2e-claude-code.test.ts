// The real Claude Code CLI (test/claude-cli, pinned; `.ci/run` installs it) driving the real
// token-api server through the hooks `token-api hooks install` writes, offline: the model is
// the fake Messages API of test/support/fake-anthropic.ts on 127.0.0.1. Headless turns with a
// Bash tool call, a background subagent, a session run with --agent, a permission request,
// and a turn while the server is down (spooled, replayed at its next start). Everything is
// asserted on token-api's API: states, events, tool counts, subagents, and usage equal to what
// the fake billed, counted once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { isToolResult, lastUserText, startFakeAnthropic, text, toolResultOf, toolUse, type FakeAnthropic, type FakeRequest } from './support/fake-anthropic.js';
import { connectFeed } from './support/feed.js';
import { getJson, runCli, startServerProcess, type ServerProcess } from './support/process.js';
import { tempHome } from './support/system.js';

const CLAUDE = process.env.TOKEN_API_TEST_CLAUDE ?? fileURLToPath(new URL('./claude-cli/node_modules/.bin/claude', import.meta.url));
const missing = existsSync(CLAUDE) ? null : `the Claude Code CLI is not installed at ${CLAUDE}: run \`npm ci --prefix test/claude-cli\` (.ci/run does) to run this test`;
if (missing) process.stdout.write(`# skipped: ${missing}\n`);

/** What the fake model does, decided by the prompt: the same script for every scenario. */
function script(req: FakeRequest) {
  const said = lastUserText(req);
  if (said.includes('do the sub-task')) return isToolResult(req) ? text('sub-task done', { input_tokens: 31, output_tokens: 7 }) : toolUse('Bash', { command: 'echo sub', description: 'sub' }, { input_tokens: 29, output_tokens: 11 });
  if (isToolResult(req)) return text('All done.', { input_tokens: 23, output_tokens: 5, cache_read_input_tokens: 100 });
  if (said.includes('please delegate')) return toolUse('Agent', { description: 'sub', prompt: 'do the sub-task', subagent_type: 'general-purpose' }, { input_tokens: 19, output_tokens: 13 });
  const touch = /please (approve|deny|restart)-touch/.exec(said);
  if (touch) return toolUse('Bash', { command: `touch ${join(process.env.E2E_SCRATCH ?? '/tmp', `${touch[1]}-file`)}`, description: `make the ${touch[1]} file` }, { input_tokens: 17, output_tokens: 9 });
  if (said.includes('please touch')) return toolUse('Bash', { command: `touch ${join(process.env.E2E_SCRATCH ?? '/tmp', 'made-by-claude')}`, description: 'make a file' }, { input_tokens: 17, output_tokens: 9 });
  if (said.includes('please run')) return toolUse('Bash', { command: 'echo hi', description: 'say hi' }, { input_tokens: 13, output_tokens: 8, cache_creation_input_tokens: 40 });
  return text('Done.', { input_tokens: 11, output_tokens: 3 });
}

describe('the real Claude Code CLI drives token-api through its installed hooks', { skip: missing ?? false }, () => {
  const home = tempHome('token-api-e2e-claude-');
  const scratch = join(home.dir, 'scratch');
  const claudeHome = join(home.dir, 'user');
  const claudeConfig = join(claudeHome, '.claude');
  let server: ServerProcess;
  let fake: FakeAnthropic;
  let port = 0;

  before(async () => {
    process.env.E2E_SCRATCH = scratch;
    mkdirSync(join(claudeConfig, 'agents'), { recursive: true });
    mkdirSync(scratch, { recursive: true });
    writeFileSync(join(claudeConfig, 'agents', 'reviewer.md'), '---\nname: reviewer\ndescription: Reviews code\n---\nYou review code.\n');
    writeFileSync(
      join(home.dir, 'config.json'),
      JSON.stringify({
        usage_claude_dirs: [claudeConfig],
        usage_codex_dirs: [join(home.dir, 'codex')],
        codex: { enabled: false },
        notifications: { speech: { engine: 'none' }, sound: { player: 'none' } },
      }),
    );
    fake = await startFakeAnthropic({ responder: script });
    server = await startServerProcess(home.dir);
    port = Number(new URL(server.url).port);
    const installed = await runCli(['hooks', 'install', '--settings', join(claudeConfig, 'settings.json'), '--home', home.dir], { TOKEN_API_URL: '', TOKEN_API_PORT: '' });
    assert.equal(installed.code, 0, installed.stderr);
  });
  after(async () => {
    await server?.kill('SIGTERM');
    await fake?.close();
    home.cleanup();
  });

  /** Runs one headless Claude Code session; resolves with its session id (from its JSON result). */
  async function claude(args: string[]): Promise<{ sessionId: string; code: number | null; out: string }> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: claudeHome,
      CLAUDE_CONFIG_DIR: claudeConfig,
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_API_KEY: 'sk-ant-test-offline',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      IS_SANDBOX: '1',
    };
    const child = spawn(CLAUDE, ['-p', '--output-format', 'json', ...args], { env, cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const m = /"session_id"\s*:\s*"([^"]+)"/.exec(out);
    assert.ok(m, `no session id in Claude Code's output (exit ${code}): ${out.slice(0, 2000)}`);
    return { sessionId: m[1]!, code, out };
  }

  const api = async (path: string) => {
    const r = await getJson(`${server.url}${path}`);
    assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const eventsOf = async (id: string) =>
    ((await api(`/api/events?instance=${id}&limit=500`)).events as { type: string; details: { from?: string; to?: string; payload?: Record<string, unknown> } }[]).reverse();

  it('a headless turn with a Bash tool call: the instance works, runs the tool and ends with the session', async () => {
    const r = await claude(['please run it', '--dangerously-skip-permissions']);
    assert.equal(r.code, 0, r.out);
    const i = await api(`/api/instances/claude-${r.sessionId}`);
    assert.equal(i.tool_count, 1);
    assert.equal(i.state, 'stopped');
    assert.match(i.stop_reason, /^session_end/);
    const types = (await eventsOf(i.id)).map((e) => e.type);
    for (const t of ['instance.registered', 'hook.session_start', 'hook.user_prompt_submit', 'hook.pre_tool_use', 'hook.post_tool_use', 'hook.stop', 'hook.session_end']) {
      assert.ok(types.includes(t), `${t} in ${types.join(', ')}`);
    }
    const stop = (await eventsOf(i.id)).find((e) => e.type === 'hook.stop')!;
    assert.deepEqual([stop.details.from, stop.details.to], ['working', 'idle']);
  });

  it('a background subagent: tracked by agent_id, its tool counted, the instance working until it stops', async () => {
    const r = await claude(['please delegate', '--dangerously-skip-permissions']);
    assert.equal(r.code, 0, r.out);
    const id = `claude-${r.sessionId}`;
    const events = await eventsOf(id);
    const start = events.find((e) => e.type === 'hook.subagent_start');
    assert.ok(start, 'SubagentStart reached token-api (it was refused before)');
    assert.equal(start.details.payload!.agent_type, 'general-purpose');
    const subTool = events.find((e) => e.type === 'hook.post_tool_use' && e.details.payload!.agent_id === start.details.payload!.agent_id);
    assert.ok(subTool, "the subagent's tool reached token-api");
    // Where Claude Code ran the subagent in the background, its main Stop left the instance working.
    const firstStop = events.find((e) => e.type === 'hook.stop')!;
    const subStop = events.find((e) => e.type === 'hook.subagent_stop')!;
    if (events.indexOf(firstStop) < events.indexOf(subStop)) assert.equal(firstStop.details.to, 'working', 'a background subagent still worked');
    assert.equal(subStop.details.to !== 'stopped', true);
    const i = await api(`/api/instances/${id}`);
    assert.equal(i.tool_count, 2, 'the Agent call and the subagent\'s Bash');
    assert.equal(i.subagent_count, 0, 'none runs once the session ended');
  });

  it('a session run with --agent shows the agent\'s name', async () => {
    const r = await claude(['please run it', '--agent', 'reviewer', '--dangerously-skip-permissions']);
    assert.equal(r.code, 0, r.out);
    const i = await api(`/api/instances/claude-${r.sessionId}`);
    assert.equal(i.agent_name, 'reviewer');
    assert.equal(i.agent_type, 'claude');
    assert.equal(i.tool_count, 1);
  });

  /** Starts a headless session that asks for permission; resolves once token-api holds its approval. */
  async function askPermission(prompt: string) {
    const feed = await connectFeed(`${server.url.replace(/^http/, 'ws')}/ws`);
    try {
      const run = claude([prompt]);
      const asked = await feed.next('permission_prompt', (m) => m.approval.tool_name === 'Bash' && m.approval.summary.includes(prompt.replace(/^please (\w+)-touch.*$/, '$1-file')));
      return { run, approval: asked.approval };
    } finally {
      await feed.close();
    }
  }

  /** What Claude Code told the model about the tool call (the request after it). */
  const toolOutcome = (file: string) =>
    fake.requests
      .filter((q) => JSON.stringify(q.body.messages?.at(-2) ?? null).includes(file))
      .map((q) => toolResultOf(q))
      .find((t) => t !== null);

  it('a permission request approved through POST /api/approvals/{id}: the instance awaited, was announced, and the tool ran', async () => {
    const { run, approval } = await askPermission('please approve-touch');
    const id = approval.instance_id!;
    const i = await api(`/api/instances/${id}`);
    assert.equal(i.state, 'awaiting');
    const routed = (await api(`/api/events?instance=${id}&type=notification.routed`)).events as { details: { intent: string } }[];
    assert.ok(routed.some((e) => e.details.intent === 'needs_permission'));
    const decided = await fetch(`${server.url}/api/approvals/${approval.id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ behavior: 'allow' }) });
    assert.equal(decided.status, 200);
    const r = await run;
    assert.equal(r.code, 0, r.out);
    assert.ok(existsSync(join(scratch, 'approve-file')), 'Claude Code ran the tool');
    assert.equal(toolOutcome('approve-file')?.isError, false);
    const a = await api(`/api/approvals/${approval.id}`);
    assert.deepEqual([a.state, a.decision.behavior, a.decision.by], ['decided', 'allow', 'loopback']);
    assert.equal((await api(`/api/instances/${id}`)).state, 'stopped');
  });

  it('a permission request denied through its signed link: the tool did not run and the model was told why', async () => {
    const { run, approval } = await askPermission('please deny-touch');
    const link = await fetch(server.url + approval.links!.deny);
    assert.equal(link.status, 200);
    const r = await run;
    assert.ok(!existsSync(join(scratch, 'deny-file')), 'Claude Code did not run the tool');
    const told = toolOutcome('deny-file');
    assert.equal(told?.isError, true, `the model was told the tool failed: ${r.out.slice(0, 1000)}`);
    assert.match(told.text, /Denied through token-api \(link\)/, 'the deny message reached the model');
    assert.match(r.out, /permission_denials/);
    assert.equal((await api(`/api/approvals/${approval.id}`)).decision.by, 'link');
  });

  it('token-api restarted while a permission request waits: the hook calls again and gets the decision', async () => {
    const { run, approval } = await askPermission('please restart-touch');
    await server.kill('SIGTERM');
    server = await startServerProcess(home.dir, ['--port', String(port)]);
    const decided = await fetch(`${server.url}/api/approvals/${approval.id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ behavior: 'allow' }) });
    assert.equal(decided.status, 200, 'the waiting approval survived the restart');
    const r = await run;
    assert.equal(r.code, 0, r.out);
    assert.ok(existsSync(join(scratch, 'restart-file')), 'Claude Code ran the tool');
  });

  it('with the server down during a turn, the events are spooled and replayed once it starts again', async () => {
    await server.kill('SIGTERM');
    const r = await claude(['please run it', '--dangerously-skip-permissions']);
    assert.equal(r.code, 0, `the agent is not held up by a server that is down: ${r.out}`);
    server = await startServerProcess(home.dir, ['--port', String(port)]);
    const i = await api(`/api/instances/claude-${r.sessionId}`);
    assert.equal(i.tool_count, 1);
    assert.equal(i.state, 'stopped');
    const replayed = (await eventsOf(i.id)).filter((e) => e.type.startsWith('hook.')).map((e) => e.type);
    assert.deepEqual(replayed, ['hook.session_start', 'hook.user_prompt_submit', 'hook.pre_tool_use', 'hook.post_tool_use', 'hook.stop', 'hook.session_end'], 'each event once, in order');
  });

  it('usage equals what the fake billed, counted once', async () => {
    const put = await fetch(`${server.url}/api/usage/sync`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(put.status, 200);
    await fetch(`${server.url}/api/usage/sync`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    const t = (await api('/api/usage?group_by=session')).totals;
    const billed = fake.billed();
    assert.deepEqual(
      { input: t.input_tokens, output: t.output_tokens, cacheWrite: t.cache_creation_tokens, cacheRead: t.cache_read_tokens },
      { input: billed.input_tokens, output: billed.output_tokens, cacheWrite: billed.cache_creation_input_tokens, cacheRead: billed.cache_read_input_tokens },
    );
    assert.equal(t.records, fake.messages().length, 'one record per response');
  });
});
