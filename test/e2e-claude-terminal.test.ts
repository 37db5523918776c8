// The real Claude Code CLI (test/claude-cli, pinned) as a managed terminal session: the
// interactive `claude` in token-api's tmux server, offline against the fake Messages API of
// test/support/fake-anthropic.ts. In a folder it has not seen, Claude Code first asks whether
// to trust it; token-api never types a prompt into that question (409, with the question and
// how to attach), and once a person has answered it in tmux, prompts reach the model.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { lastUserText, startFakeAnthropic, text, type FakeAnthropic } from './support/fake-anthropic.js';
import { postJson, startServerProcess, type ServerProcess } from './support/process.js';
import { hasTmux, until } from './support/sessions.js';
import { tempHome } from './support/system.js';
import { readScreen } from '../src/sessions/terminal-screen.js';

const CLAUDE = process.env.TOKEN_API_TEST_CLAUDE ?? fileURLToPath(new URL('./claude-cli/node_modules/.bin/claude', import.meta.url));
const skip = !existsSync(CLAUDE)
  ? `the Claude Code CLI is not installed at ${CLAUDE}: run \`npm ci --prefix test/claude-cli\` (.ci/run does) to run this test`
  : !hasTmux()
    ? 'tmux is not installed (.ci/run installs it)'
    : false;
if (skip) process.stdout.write(`# skipped: ${skip}\n`);

/** Real Claude Code under load: up to about 30 s of polling before a wait fails. */
const PATIENCE = 1200;

describe('the real Claude Code CLI as a managed terminal session', { skip }, () => {
  const home = tempHome('token-api-e2e-terminal-');
  const repo = join(home.dir, 'shop');
  const claudeConfig = join(home.dir, 'user', '.claude');
  const API_KEY = 'sk-ant-test-offline';
  let fake: FakeAnthropic;
  let server: ServerProcess;

  before(async () => {
    mkdirSync(repo, { recursive: true });
    mkdirSync(claudeConfig, { recursive: true });
    // A person who has used Claude Code before: past its first-run screens, its API key accepted.
    // This folder is new to it, so it asks whether to trust it.
    writeFileSync(join(claudeConfig, '.claude.json'), JSON.stringify({ hasCompletedOnboarding: true, theme: 'dark', customApiKeyResponses: { approved: [API_KEY.slice(-20)], rejected: [] } }));
    fake = await startFakeAnthropic({ responder: (req) => text(lastUserText(req).includes('hello from token-api') ? 'Hello back from the model' : 'Done.', { input_tokens: 7, output_tokens: 3 }) });
    writeFileSync(
      join(home.dir, 'config.json'),
      JSON.stringify({
        repos: [{ name: 'shop', path: repo }],
        sessions: { claude_bin: CLAUDE, stop_grace_seconds: 2 },
        codex: { enabled: false },
        notifications: { speech: { engine: 'none' }, sound: { player: 'none' } },
      }),
    );
    server = await startServerProcess(home.dir, [], {
      HOME: join(home.dir, 'user'),
      CLAUDE_CONFIG_DIR: claudeConfig,
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_API_KEY: API_KEY,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    });
  });
  after(async () => {
    await server?.kill('SIGTERM');
    try {
      execFileSync('tmux', ['-S', join(home.dir, 'tmux.sock'), 'kill-server'], { stdio: 'ignore' });
    } catch {
      // no tmux server left
    }
    await fake?.close();
    home.cleanup();
  });

  it('asks first whether to trust the folder: the prompt waits for a person, then reaches the model', async () => {
    const started = await postJson(`${server.url}/api/sessions`, { repo: 'shop', kind: 'terminal', prompt: 'first, into the question?' });
    assert.equal(started.status, 409, JSON.stringify(started.body));
    assert.match(started.body.message, /the agent asks: "Accessing workspace: .*trust/);
    const attach = /attach with tmux -S (\S+) attach -t (tapi-(ses-[0-9a-f]{12}))/.exec(started.body.message);
    assert.ok(attach, started.body.message);
    const [, socket, pane, id] = attach;
    const screen = () => execFileSync('tmux', ['-S', socket!, 'capture-pane', '-p', '-e', '-t', pane!]).toString();
    assert.equal(readScreen(screen()).kind, 'question');

    const refused = await postJson(`${server.url}/api/sessions/${id}/send`, { prompt: 'again, into the question?' });
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(fake.messages().length, 0, 'nothing reached the model');

    // The person attaches and trusts the folder (moving to Yes, then Enter, as often as the
    // screen still asks: a key pressed while it draws may be lost): Claude Code shows its input box.
    const plain = () => screen().replace(/\x1b\[[0-9;]*m/g, '');
    await until(
      async () => {
        const now = plain();
        if (readScreen(now).kind === 'question') {
          execFileSync('tmux', ['-S', socket!, 'send-keys', '-t', pane!, /❯ Yes, I trust this folder/.test(now) ? 'Enter' : 'Down']);
          await delay(500);
        }
        return plain();
      },
      (s) => readScreen(s).kind === 'prompt',
      'the input box',
      120,
    );

    const sent = await postJson(`${server.url}/api/sessions/${id}/send`, { prompt: 'hello from token-api' });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    await until(async () => fake.messages().map((r) => lastUserText(r)), (said) => said.some((t) => t.includes('hello from token-api')), 'the prompt at the model', PATIENCE);
    await until(async () => plain(), (s) => s.includes('Hello back from the model'), 'the answer on the screen', PATIENCE);
    assert.ok(!fake.messages().some((r) => lastUserText(r).includes('into the question')), 'the refused prompts never reached it');

    const stopped = await fetch(`${server.url}/api/sessions/${id}`, { method: 'DELETE' });
    assert.equal(stopped.status, 200);
  });
});
