// A managed Codex session through the real server with test/support/fake-codex.mjs: each
// prompt is one `codex exec --json` process, the second resumes the first's thread, a long
// turn is cancelled (SIGINT) and the session takes prompts again, a command's item is a
// tool_result; stop ends it. Bad input: a terminal Codex session, an account for Codex, a
// one-shot prompt (claude only), no codex.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FAKE_CODEX, until } from './support/sessions.js';
import { startTestServer, tempHome, type TestServer } from './support/system.js';

describe('managed Codex sessions', () => {
  const home = tempHome('token-api-codex-sessions-');
  let server: TestServer;
  before(async () => {
    mkdirSync(join(home.dir, 'cx'));
    server = await startTestServer(home.dir, { repos: [{ name: 'cx', path: join(home.dir, 'cx'), agent: 'codex' }], sessions: { codex_bin: FAKE_CODEX, claude_bin: join(home.dir, 'no-claude') } });
  });
  after(async () => {
    await server.close();
    home.cleanup();
  });

  it('runs a prompt per process on one thread, cancels a turn, and stops', async () => {
    const started = await server.request('POST', '/api/sessions', { repo: 'cx', prompt: 'first' });
    assert.equal(started.status, 201, started.text);
    const id = started.body.id;
    assert.equal(started.body.agent, 'codex');
    const output = async () => (await server.request('GET', `/api/sessions/${id}?limit=1000`)).body.output.messages as any[];
    const answers = async () => (await output()).filter((m) => m.kind === 'assistant').map((m) => m.message.item.text);

    await until(answers, (a) => a.length === 1, 'the first answer');
    const thread = (await output()).find((m) => m.kind === 'init').message.thread_id;
    // The thread id is the session id of Codex's rollout, by which its instance is found.
    await until(() => server.request('GET', `/api/sessions/${id}`), (r) => r.body.claude_session_id === thread, 'the thread as the session id');
    await until(() => server.request('GET', `/api/sessions/${id}`), (r) => r.body.state === 'ready', 'ready');
    assert.equal((await server.request('POST', `/api/sessions/${id}/send`, { prompt: 'second' })).status, 202);
    const two = await until(answers, (a) => a.length === 2, 'the second answer');
    assert.deepEqual(two, ['echo: first', `resumed ${thread}: echo: second`]);

    await until(() => server.request('GET', `/api/sessions/${id}`), (r) => r.body.state === 'ready', 'ready');
    await server.request('POST', `/api/sessions/${id}/send`, { prompt: 'SLOW 500' });
    await until(output, (o) => o.some((m) => m.kind === 'init' && o.indexOf(m) > 2), 'the long turn started');
    assert.equal((await server.request('POST', `/api/sessions/${id}/cancel`)).status, 200);
    await until(output, (o) => o.some((m) => m.message.type === 'turn.ended' && m.message.completed === false), 'the cancelled turn');
    await until(() => server.request('GET', `/api/sessions/${id}`), (r) => r.body.state === 'ready', 'ready after the cancel');
    assert.equal((await server.request('POST', `/api/sessions/${id}/send`, { prompt: 'third' })).status, 202);
    await until(answers, (a) => a.length === 3, 'an answer after the cancel');
    await until(() => server.request('GET', `/api/sessions/${id}`), (r) => r.body.state === 'ready', 'ready after the third');
    assert.equal((await server.request('POST', `/api/sessions/${id}/send`, { prompt: 'RUN echo hi' })).status, 202);
    await until(answers, (a) => a.length === 4, 'the answer after a command');
    const tool = (await output()).find((m) => m.kind === 'tool_result');
    assert.deepEqual([tool.message.item.type, tool.message.item.aggregated_output, tool.message.item.exit_code], ['command_execution', 'hi\n', 0]);

    assert.equal((await server.request('POST', `/api/sessions/${id}/oneshot`, { prompt: 'x' })).status, 409);
    const stopped = await server.request('DELETE', `/api/sessions/${id}`);
    assert.equal(stopped.body.state, 'exited');
    assert.equal(stopped.body.exit.reason, 'stopped');
    assert.equal((await server.request('POST', `/api/sessions/${id}/send`, { prompt: 'late' })).status, 409);
  });

  it('refuses what Codex sessions cannot do', async () => {
    assert.equal((await server.request('POST', '/api/sessions', { repo: 'cx', kind: 'terminal' })).status, 400);
    assert.equal((await server.request('POST', '/api/sessions', { repo: 'cx', account: 'a' })).status, 400);
    assert.equal((await server.request('POST', '/api/sessions', { repo: 'cx', agent: 'gemini' })).status, 400);
    const r = await server.request('POST', '/api/sessions', { repo: 'cx', agent: 'claude' });
    assert.equal(r.status, 503, 'claude_bin points nowhere');
  });
});
