// Accounts and one-shot prompts of managed sessions, through the real server with the fake
// `claude` (test/support/fake-claude.mjs): a session takes its repository's account or the
// first not rate-limited one (its CLAUDE_CONFIG_DIR), a rate limit the agent reports marks the
// account until the reset time it gave (surviving a restart), new sessions rotate, reset-limit
// clears it; a one-shot prompt answers the agent's result.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FAKE_CLAUDE, until } from './support/sessions.js';
import { startTestServer, tempHome, type TestServer } from './support/system.js';
import { readRows } from './support/sqlite.js';

describe('accounts of managed sessions', () => {
  const home = tempHome('token-api-accounts-');
  const envFile = join(home.dir, 'child-env.json');
  const file = () => ({
    repos: [
      { name: 'free', path: join(home.dir, 'free') },
      { name: 'pinned', path: join(home.dir, 'pinned'), account: 'b' },
    ],
    accounts: [
      { id: 'a', config_dir: join(home.dir, 'cfg-a') },
      { id: 'b', config_dir: join(home.dir, 'cfg-b') },
    ],
    sessions: { claude_bin: FAKE_CLAUDE, prompt_max_bytes: 1000 },
  });
  let server: TestServer;

  before(async () => {
    mkdirSync(join(home.dir, 'free'));
    mkdirSync(join(home.dir, 'pinned'));
    process.env.FAKE_CLAUDE_ENV_FILE = envFile;
    server = await startTestServer(home.dir, file());
  });
  after(async () => {
    delete process.env.FAKE_CLAUDE_ENV_FILE;
    await server.close();
    home.cleanup();
  });

  async function startIn(repo: string): Promise<any> {
    rmSync(envFile, { force: true });
    const r = await server.request('POST', '/api/sessions', { repo });
    assert.equal(r.status, 201, r.text);
    await until(async () => existsSync(envFile), Boolean, 'the child');
    return { ...r.body, env: JSON.parse(readFileSync(envFile, 'utf8')) };
  }

  it('gives a session the first free account, its config dir, and rotates when the agent reports a rate limit', async () => {
    const first = await startIn('free');
    assert.equal(first.account, 'a');
    assert.equal(first.env.claude_config_dir, join(home.dir, 'cfg-a'));

    const resetsAt = Math.floor(Date.now() / 1000) + 3600;
    await server.request('POST', `/api/sessions/${first.id}/send`, { prompt: `RATELIMIT ${resetsAt}` });
    const limited = await until(() => server.request('GET', '/api/accounts'), (r) => r.body.accounts[0].limited, 'account a limited');
    assert.equal(limited.body.accounts[0].limited_until, new Date(resetsAt * 1000).toISOString());
    assert.equal(limited.body.accounts[0].limit_reason, 'five_hour');
    assert.equal(limited.body.accounts[0].sessions_running, 1);

    const second = await startIn('free');
    assert.equal(second.account, 'b', 'the next account not limited');
    assert.equal(second.env.claude_config_dir, join(home.dir, 'cfg-b'));

    // A repository that names its account always gets it.
    assert.equal((await startIn('pinned')).account, 'b');

    // A limit without a reset time (a 429 only) lasts the fallback; with both limited, a new session is refused.
    await server.request('POST', `/api/sessions/${second.id}/send`, { prompt: 'RATELIMIT' });
    await until(() => server.request('GET', '/api/accounts'), (r) => r.body.accounts[1].limited, 'account b limited');
    const refused = await server.request('POST', '/api/sessions', { repo: 'free' });
    assert.equal(refused.status, 409);
    assert.match(refused.body.message, /every account is rate-limited/);

    const reset = await server.request('POST', '/api/accounts/a/reset-limit');
    assert.equal(reset.status, 200, reset.text);
    assert.equal(reset.body.limited, false);
    assert.equal((await startIn('free')).account, 'a');

    const events = await readRows(home.dir, "SELECT event_type, details FROM events WHERE event_type LIKE 'account.%' ORDER BY id");
    assert.deepEqual(events.map((e) => e.event_type), ['account.limited', 'account.limited', 'account.limit_reset']);
    assert.equal(JSON.parse(String(events[2]!.details)).by, 'loopback');
  });

  it('keeps a limit across a restart', async () => {
    await server.close();
    server = await startTestServer(home.dir, file());
    const r = await server.request('GET', '/api/accounts');
    assert.equal(r.body.accounts[0].limited, false);
    assert.equal(r.body.accounts[1].limited, true);
  });

  it('answers a one-shot prompt with the agent result, in the session repository and account', async () => {
    const s = (await server.request('GET', '/api/sessions')).body.sessions.find((x: any) => x.repo === 'pinned');
    const r = await server.request('POST', `/api/sessions/${s.id}/oneshot`, { prompt: 'how many tests?' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.result.result, 'echo: how many tests?');
    assert.equal(r.body.result.config_dir, join(home.dir, 'cfg-b'));
    assert.equal((await server.request('POST', `/api/sessions/${s.id}/oneshot`, { prompt: 'x'.repeat(1001) })).status, 413);
    assert.equal((await server.request('POST', '/api/sessions/ses-000000000000/oneshot', { prompt: 'x' })).status, 404);
  });

  it('refuses unknown accounts and bad input', async () => {
    assert.equal((await server.request('POST', '/api/accounts/nope/reset-limit')).status, 404);
    assert.equal((await server.request('POST', '/api/accounts/a%20b/reset-limit')).status, 400);
    assert.equal((await server.request('POST', '/api/accounts/a/reset-limit', { now: true })).status, 400);
    assert.equal((await server.request('POST', '/api/sessions', { repo: 'free', account: 'nope' })).status, 404);
    assert.equal((await server.request('GET', '/api/accounts?x=1')).status, 400);
  });
});
