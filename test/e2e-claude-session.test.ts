// The real Claude Code CLI (test/claude-cli, pinned) as a managed headless session of the real
// token-api server, offline against the fake Messages API (test/support/fake-anthropic.ts):
// two prompts answered in one process, then a long turn cancelled through the API (the CLI
// closes its request to the model and waits for the next prompt), then a third prompt. With
// token-api's hooks installed in the CLI's config directory, the session's instance is known.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { lastUserText, startFakeAnthropic, text, type FakeAnthropic, type FakeRequest } from './support/fake-anthropic.js';
import { runCli, startServerProcess, type ServerProcess } from './support/process.js';
import { tempHome } from './support/system.js';

const CLAUDE = process.env.TOKEN_API_TEST_CLAUDE ?? fileURLToPath(new URL('./claude-cli/node_modules/.bin/claude', import.meta.url));
const missing = existsSync(CLAUDE) ? null : `the Claude Code CLI is not installed at ${CLAUDE}: run \`npm ci --prefix test/claude-cli\` (.ci/run does) to run this test`;
if (missing) process.stdout.write(`# skipped: ${missing}\n`);

function script(req: FakeRequest) {
  // The prompt is the text's last line (a <system-reminder> may come before it).
  const said = lastUserText(req).split('\n').at(-1) ?? '';
  if (said.includes('take your time')) return { ...text('thinking about it'), hang: true };
  return text(`echo: ${said}`);
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 1200; i++) {
    const v = await fn();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never saw ${what}`);
}

describe('a managed headless session of the real Claude Code CLI', { skip: missing ?? false }, () => {
  const home = tempHome('token-api-e2e-session-');
  const repo = join(home.dir, 'repo');
  const claudeHome = join(home.dir, 'user');
  const claudeConfig = join(claudeHome, '.claude');
  let server: ServerProcess;
  let fake: FakeAnthropic;

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(server.url + path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };

  before(async () => {
    mkdirSync(repo, { recursive: true });
    mkdirSync(claudeConfig, { recursive: true });
    // The trust dialog is not shown in -p; the repo is trusted as a person would have done once.
    writeFileSync(join(claudeConfig, '.claude.json'), JSON.stringify({ hasCompletedOnboarding: true, projects: { [repo]: { hasTrustDialogAccepted: true } } }));
    writeFileSync(
      join(home.dir, 'config.json'),
      JSON.stringify({
        repos: [{ name: 'repo', path: repo }],
        sessions: { claude_bin: CLAUDE },
        usage_claude_dirs: [claudeConfig],
        codex: { enabled: false },
        notifications: { speech: { engine: 'none' }, sound: { player: 'none' } },
      }),
    );
    fake = await startFakeAnthropic({ responder: script });
    // The server's environment is what its agents inherit.
    server = await startServerProcess(home.dir, [], {
      HOME: claudeHome,
      CLAUDE_CONFIG_DIR: claudeConfig,
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_API_KEY: 'sk-ant-test-offline',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      IS_SANDBOX: '1',
    });
    const installed = await runCli(['hooks', 'install', '--settings', join(claudeConfig, 'settings.json'), '--home', home.dir], { TOKEN_API_URL: '', TOKEN_API_PORT: '' });
    assert.equal(installed.code, 0, installed.stderr);
  });
  after(async () => {
    await server?.kill('SIGTERM');
    await fake?.close();
    home.cleanup();
  });

  it('answers two prompts in one process, cancels a turn, and answers again', async () => {
    const started = await api('POST', '/api/sessions', { repo: 'repo', prompt: 'first prompt' });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const id = started.body.id as string;
    const pid = started.body.pid as number;
    const results = async () => ((await api('GET', `/api/sessions/${id}?limit=1000`)).body.output.messages as any[]).filter((m) => m.kind === 'result');

    await until(results, (r) => r.length === 1, 'the first result');
    assert.equal((await api('POST', `/api/sessions/${id}/send`, { prompt: 'second prompt' })).status, 202);
    const two = await until(results, (r) => r.length === 2, 'the second result');
    assert.deepEqual(two.map((m) => m.message.result), ['echo: first prompt', 'echo: second prompt']);
    assert.equal(two[1].message.session_id, started.body.claude_session_id);

    assert.equal((await api('POST', `/api/sessions/${id}/send`, { prompt: 'take your time' })).status, 202);
    await until(async () => fake.requests.filter((r) => r.reply?.hang).length, (n) => n === 1, 'the long request reaching the model');
    const cancel = await api('POST', `/api/sessions/${id}/cancel`);
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    const three = await until(results, (r) => r.length === 3, 'the interrupted result');
    assert.equal(three[2].message.is_error, true);
    assert.ok(fake.requests.find((r) => r.reply?.hang)?.abandoned, 'the CLI closed its request to the model');
    await until(() => api('GET', `/api/sessions/${id}`), (r) => r.body.state === 'ready', 'ready after the cancel');

    assert.equal((await api('POST', `/api/sessions/${id}/send`, { prompt: 'after the cancel' })).status, 202);
    const four = await until(results, (r) => r.length === 4, 'a result after the cancel');
    assert.equal(four[3].message.result, 'echo: after the cancel');

    // The hooks reported the same agent session: the session knows its instance.
    const linked = await until(() => api('GET', `/api/sessions/${id}`), (r) => r.body.instance_id !== null, 'the instance');
    const instance = await api('GET', `/api/instances/${encodeURIComponent(linked.body.instance_id)}`);
    assert.equal(instance.status, 200);
    assert.equal(linked.body.pid, pid, 'one process for every prompt');

    const stopped = await api('DELETE', `/api/sessions/${id}`);
    assert.equal(stopped.body.state, 'exited');
    assert.equal(stopped.body.exit.reason, 'stopped');
  });
});
