// The real Codex CLI (test/codex-cli, pinned; `.ci/run` installs it) driven by the real token-api
// server as a managed session, offline: the model is the fake Responses API of
// test/support/fake-openai.ts on 127.0.0.1, named in a config.toml the test writes into its own
// CODEX_HOME, where `token-api hooks install --codex` also points Codex's notify at token-api.
// Asserted on token-api's API and feed: the session's output (answers, a shell tool call, results),
// the thread carried to the next prompt, the `codex` instance the rollout watcher registers, the
// notify reaching token-api, usage equal to what the fake billed, counted once, and a cancel
// (SIGINT) during a long command, after which the thread goes on.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { conversationTexts, functionOutput, lastUserText, say, shell, startFakeOpenAI, type FakeOpenAI, type FakeOpenAIRequest } from './support/fake-openai.js';
import { connectFeed } from './support/feed.js';
import { getJson, postJson, runCli, startServerProcess, type ServerProcess } from './support/process.js';
import { until } from './support/sessions.js';
import { tempHome } from './support/system.js';

const CODEX = process.env.TOKEN_API_TEST_CODEX ?? fileURLToPath(new URL('./codex-cli/node_modules/.bin/codex', import.meta.url));
const missing = existsSync(CODEX) ? null : `the Codex CLI is not installed at ${CODEX}: run \`npm ci --prefix test/codex-cli\` (.ci/run does) to run this test`;
if (missing) process.stdout.write(`# skipped: ${missing}\n`);

/** Real Codex processes on a busy machine: up to about two minutes of polling before a wait fails. */
const PATIENCE = 4800;

/** What the fake model does, decided by the conversation: the same script for every turn. */
function script(req: FakeOpenAIRequest) {
  const ran = functionOutput(req);
  if (ran !== null) return say(`the command printed: ${/\bhi\b/.test(ran) ? 'hi' : ran}`, { input_tokens: 23, cached_tokens: 8, output_tokens: 5 });
  const said = lastUserText(req);
  if (said.includes('please run echo')) return shell('echo hi', { input_tokens: 19, output_tokens: 9 });
  if (said.includes('please touch')) return shell('touch made-by-codex', { input_tokens: 17, output_tokens: 7 });
  if (said.includes('please wait long')) return shell('sleep 60', { input_tokens: 13, output_tokens: 4 });
  if (said.includes('what did I say')) return say(`you said: ${conversationTexts(req).find((t) => t.startsWith('hello codex')) ?? 'nothing'}`, { input_tokens: 31, cached_tokens: 12, output_tokens: 6 });
  return say('Hello from the fake model.', { input_tokens: 11, output_tokens: 3 });
}

describe('the real Codex CLI as a managed session, watched through its rollouts and notify', { skip: missing ?? false }, () => {
  const home = tempHome('token-api-e2e-codex-');
  const codexHome = join(home.dir, 'codex-home');
  const repo = join(home.dir, 'repo');
  const editable = join(home.dir, 'editable');
  let server: ServerProcess;
  let fake: FakeOpenAI;
  let session = '';
  let thread = '';

  before(async () => {
    mkdirSync(codexHome, { recursive: true });
    mkdirSync(repo, { recursive: true });
    mkdirSync(editable, { recursive: true });
    fake = await startFakeOpenAI({ responder: script });
    // Codex's own configuration: the fake as its model provider, never the network.
    writeFileSync(
      join(codexHome, 'config.toml'),
      [
        'model = "gpt-fake"',
        'model_provider = "fake"',
        '',
        '[model_providers.fake]',
        'name = "fake"',
        `base_url = "${fake.url}"`,
        'wire_api = "responses"',
        'env_key = "FAKE_OPENAI_API_KEY"',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(home.dir, 'config.json'),
      JSON.stringify({
        repos: [
          { name: 'cx', path: repo, agent: 'codex' },
          { name: 'cxw', path: editable, agent: 'codex', permission_mode: 'acceptEdits' },
        ],
        sessions: { codex_bin: CODEX },
        usage_claude_dirs: [join(home.dir, 'no-claude')],
        notifications: { speech: { engine: 'none' }, sound: { player: 'none' } },
      }),
    );
    // The server's environment is its Codex sessions' (and their notify's): this CODEX_HOME, the key.
    const env = { CODEX_HOME: codexHome, HOME: join(home.dir, 'user'), FAKE_OPENAI_API_KEY: 'sk-offline-test', TOKEN_API_URL: '' };
    mkdirSync(env.HOME, { recursive: true });
    server = await startServerProcess(home.dir, [], env);
    const installed = await runCli(['hooks', 'install', '--codex', '--settings', join(home.dir, 'claude-settings.json'), '--home', home.dir], { ...env, TOKEN_API_PORT: '' });
    assert.equal(installed.code, 0, installed.stderr);
    assert.match(readFileSync(join(codexHome, 'config.toml'), 'utf8'), /^notify = \[.*"codex-notify"/m, 'notify points at token-api');
  });
  after(async () => {
    if (session) await fetch(`${server.url}/api/sessions/${session}`, { method: 'DELETE' }).catch(() => undefined);
    await server?.kill('SIGTERM');
    await fake?.close();
    home.cleanup();
  });

  const api = async (path: string) => {
    const r = await getJson(`${server.url}${path}`);
    assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  type Out = { kind: string; message: { type?: string; thread_id?: string; item?: { type: string; text?: string; command?: string; aggregated_output?: string; exit_code?: number | null } } };
  const output = async (): Promise<Out[]> => (await api(`/api/sessions/${session}?limit=1000`)).output.messages;
  const answers = async () => (await output()).filter((m) => m.kind === 'assistant').map((m) => m.message.item!.text!);
  const results = async () => (await output()).filter((m) => m.kind === 'result');
  const ready = () => until(() => api(`/api/sessions/${session}`), (s) => s.state === 'ready', `session ${session} ready`, PATIENCE);
  const send = async (prompt: string) => assert.equal((await postJson(`${server.url}/api/sessions/${session}/send`, { prompt })).status, 202);

  it('a managed session: the answer and a result, then a second prompt resumes the same thread', async () => {
    const feed = await connectFeed(`${server.url.replace(/^http/, 'ws')}/ws`);
    try {
      const started = await postJson(`${server.url}/api/sessions`, { repo: 'cx', prompt: 'hello codex, remember me' });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      session = started.body.id;
      assert.equal(started.body.agent, 'codex');
      await until(results, (r) => r.length === 1, 'the first turn completed', PATIENCE);
      assert.deepEqual(await answers(), ['Hello from the fake model.']);
      await feed.next('session_changed', (m) => m.session.id === session && m.session.state === 'ready');
    } finally {
      await feed.close();
    }
    await ready();
    thread = (await output()).find((m) => m.kind === 'init')!.message.thread_id!;
    assert.ok(thread, 'thread.started gave the thread id');

    await send('what did I say first?');
    await until(results, (r) => r.length === 2, 'the second turn completed', PATIENCE);
    assert.deepEqual((await answers()).at(-1), 'you said: hello codex, remember me', 'the second request carried the first prompt');
    const inits = (await output()).filter((m) => m.kind === 'init').map((m) => m.message.thread_id);
    assert.deepEqual(inits, [thread, thread], 'the second process resumed the same thread');
    const second = fake.responses().find((r) => lastUserText(r).includes('what did I say'))!;
    assert.ok(conversationTexts(second).includes('Hello from the fake model.'), 'the first answer was in the second request');
    await ready();
  });

  it('a turn with a shell call: Codex runs it, sends its output back, and the tool item is in the output', async () => {
    await send('please run echo for me');
    await until(results, (r) => r.length === 3, 'the tool turn completed', PATIENCE);
    const tool = (await output()).find((m) => m.kind === 'tool_result' && m.message.item?.type === 'command_execution');
    assert.ok(tool, 'the command item is in the output');
    assert.match(tool.message.item!.command!, /echo hi/);
    assert.equal(tool.message.item!.exit_code, 0);
    assert.equal(tool.message.item!.aggregated_output!.trim(), 'hi');
    assert.equal((await answers()).at(-1), 'the command printed: hi');
    const told = fake.responses().map(functionOutput).find((o) => o !== null);
    assert.match(told ?? '', /\bhi\b/, 'the function output went back to the model');
    await ready();
  });

  it('the rollout registers a codex instance, linked to the session, and notify reaches token-api', async () => {
    const id = `codex-${thread}`;
    const i = await until(() => getJson(`${server.url}/api/instances/${id}`), (r) => r.status === 200 && r.body.tool_count === 1 && r.body.state === 'idle', 'the codex instance, idle after three turns', PATIENCE);
    assert.equal(i.body.agent_type, 'codex');
    assert.equal(i.body.session_id, thread);
    const listed = (await api('/api/instances')).instances as { id: string; agent_type: string }[];
    assert.ok(listed.some((x) => x.id === id && x.agent_type === 'codex'), 'GET /api/instances lists it');
    const events = ((await api(`/api/events?instance=${id}&limit=500`)).events as { type: string; details: Record<string, any> }[]).reverse();
    const types = events.map((e) => e.type);
    for (const t of ['codex.session_meta', 'codex.task_started', 'codex.tool_call', 'codex.tool_output', 'codex.task_complete']) assert.ok(types.includes(t), `${t} in ${types.join(', ')}`);
    assert.equal(types.filter((t) => t === 'codex.task_complete').length, 3, 'one end per turn');
    const notified = await until(
      async () => ((await api(`/api/events?instance=${id}&type=codex.notify&limit=50`)).events as { details: Record<string, any> }[]),
      (e) => e.length === 3,
      'a notify per turn',
      PATIENCE,
    );
    for (const n of notified) assert.equal(n.details.payload['thread-id'], thread);
    assert.deepEqual(new Set(notified.map((n) => n.details.payload.type)), new Set(['agent-turn-complete']));
    // The managed session and the instance its rollout made are one agent, not a managed one and an external one.
    assert.equal((await api(`/api/sessions/${session}`)).instance_id, id);
    assert.ok(!((await api('/api/sessions')).external as { instance_id: string }[]).some((x) => x.instance_id === id), 'not listed as an external session');
  });

  it("the repository's permission mode is Codex's sandbox: default leaves it read-only, acceptEdits writes in the workspace", async () => {
    for (const [name, dir, writes] of [['cx', repo, false], ['cxw', editable, true]] as const) {
      const started = await postJson(`${server.url}/api/sessions`, { repo: name, prompt: 'please touch a file' });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      const id = started.body.id as string;
      await until(async () => (await api(`/api/sessions/${id}?limit=1000`)).output.messages as Out[], (o) => o.some((m) => m.kind === 'result'), `the touch turn in ${name}`, PATIENCE);
      assert.equal(existsSync(join(dir, 'made-by-codex')), writes, `${name}: the file was ${writes ? '' : 'not '}made`);
      if (!writes) assert.ok(fake.responses().map(functionOutput).some((o) => o !== null && /Read-only file system/.test(o)), 'the model was told the sandbox refused');
      assert.equal((await fetch(`${server.url}/api/sessions/${id}`, { method: 'DELETE' })).status, 200);
    }
  });

  it('usage read from the rollout equals what the fake billed, counted once', async () => {
    for (let n = 0; n < 2; n++) {
      const put = await fetch(`${server.url}/api/usage/sync`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(put.status, 200);
    }
    const t = (await api('/api/usage?group_by=session')).totals;
    const billed = fake.billed();
    assert.deepEqual(
      { input: t.input_tokens, cacheRead: t.cache_read_tokens, output: t.output_tokens },
      { input: billed.input_tokens - billed.cached_tokens, cacheRead: billed.cached_tokens, output: billed.output_tokens },
    );
    assert.equal(t.records, fake.responses().length, 'one record per response');
  });

  it('cancel interrupts a turn whose command runs long: the session is ready again, and the next prompt resumes the thread', async () => {
    const asked = fake.responses().length;
    await send('please wait long');
    // Codex has the call to run `sleep 60` and runs it.
    await until(async () => fake.responses().slice(asked).some((r) => lastUserText(r).includes('please wait long')), (got) => got, 'the long call handed to Codex', PATIENCE);
    await until(() => api(`/api/sessions/${session}`), (s) => s.state === 'busy', 'busy', PATIENCE);
    const cancelled = await postJson(`${server.url}/api/sessions/${session}/cancel`, {});
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    await ready();
    const turns = (await results()).length;
    await send('what did I say first?');
    await until(results, (r) => r.length === turns + 1, 'the turn after the cancel completed', PATIENCE);
    assert.equal((await answers()).at(-1), 'you said: hello codex, remember me');
    const inits = (await output()).filter((m) => m.kind === 'init').map((m) => m.message.thread_id);
    assert.ok(inits.every((t) => t === thread), `every turn on thread ${thread}: ${inits.join(', ')}`);
  });
});
