// Every client command finds the server that actually runs: after `serve --port N`, `hooks
// install`, `hooks status`, `hooks doctor` (and tui, codex-notify) read the data directory's
// lock file; status and doctor say where the installed entries send and where token-api runs,
// and what to do when they differ; no command prints a stack trace when its output is cut.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { locateServer } from '../src/cli/common.js';
import { loadConfig } from '../src/config/config.js';
import { CLI, runCli, startServerProcess, type ServerProcess } from './support/process.js';
import { tempHome } from './support/system.js';

const TSX = new URL('../node_modules/tsx/dist/esm/index.mjs', import.meta.url).href;

/** The environment of a client on this machine that names no server (whatever the test runner has). */
const bare = { TOKEN_API_URL: '', TOKEN_API_PORT: '', TOKEN_API_HOST: '' };

describe('client commands find the running server', () => {
  const home = tempHome('token-api-discovery-');
  let server: ServerProcess;
  const settings = join(home.dir, 'settings.json');

  before(async () => {
    server = await startServerProcess(home.dir);
  });
  after(async () => {
    await server.kill('SIGTERM');
    home.cleanup();
  });

  it('takes, in order: the flag, the environment, the lock file, the config, the default', () => {
    const config = loadConfig({ home: home.dir }, {});
    assert.equal(locateServer(config, { flag: 'http://10.0.0.9:1', env: { TOKEN_API_URL: 'http://e:2' } }).source, 'flag');
    assert.deepEqual(locateServer(config, { env: { TOKEN_API_URL: 'http://e:2/' } }).url, 'http://e:2');
    const lock = locateServer(config, { env: {} });
    assert.equal(lock.source, 'lock');
    assert.equal(lock.url, server.url);
    const other = tempHome('token-api-discovery-none-');
    try {
      const none = locateServer(loadConfig({ home: other.dir }, {}), { env: {} });
      assert.deepEqual([none.source, none.url], ['default', 'http://127.0.0.1:7777']);
      const port = locateServer(loadConfig({ home: other.dir }, { TOKEN_API_PORT: '17777' }), { env: { TOKEN_API_PORT: '17777' } });
      assert.deepEqual([port.source, port.url], ['environment', 'http://127.0.0.1:17777']);
    } finally {
      other.cleanup();
    }
  });

  it('hooks install points the entries at the running server, and status says so', async () => {
    const installed = await runCli(['hooks', 'install', '--settings', settings, '--home', home.dir], bare);
    assert.equal(installed.code, 0, installed.stderr);
    assert.match(installed.stdout, new RegExp(`token-api is at ${server.url} \\(from the running server's lock file`));
    assert.ok(readFileSync(settings, 'utf8').includes(`TOKEN_API_URL=${server.url}`), 'each entry carries the URL');
    const status = await runCli(['hooks', 'status', '--settings', settings, '--home', home.dir], bare);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`the entries send to ${server.url}\\.`));
    assert.match(status.stdout, new RegExp(`token-api is at ${server.url} \\(from the running server's lock file`));
    assert.doesNotMatch(status.stdout, /Warning/);
    const doctor = await runCli(['hooks', 'doctor', '--settings', settings, '--home', home.dir], bare);
    assert.match(doctor.stdout, new RegExp(`^\\[ok\\]\\s+token-api \\S+ answers at ${server.url} \\(from the running server's lock file`, 'm'));
    assert.match(doctor.stdout, new RegExp(`every event is hooked, sending to ${server.url}`));
  });

  it('status and doctor say plainly when the installed entries send elsewhere, and how to fix it', async () => {
    const stale = join(home.dir, 'stale.json');
    await runCli(['hooks', 'install', '--settings', stale, '--home', home.dir], { TOKEN_API_URL: 'http://127.0.0.1:7777' });
    const status = await runCli(['hooks', 'status', '--settings', stale, '--home', home.dir], bare);
    assert.match(status.stdout, /the entries send to http:\/\/127\.0\.0\.1:7777\./);
    assert.match(status.stdout, new RegExp(`Warning: the hooks send to http://127\\.0\\.0\\.1:7777, not to the server at ${server.url}`));
    assert.match(status.stdout, /Fix: run `token-api hooks install` again/);
    const doctor = await runCli(['hooks', 'doctor', '--settings', stale, '--home', home.dir], bare);
    assert.equal(doctor.code, 1);
    assert.match(doctor.stdout, new RegExp(`^\\[FAIL\\] .*stale\\.json: the hooks send to http://127\\.0\\.0\\.1:7777, but token-api is at ${server.url}`, 'm'));
    assert.match(doctor.stdout, /→ run `token-api hooks install` again to point them at/);
  });

  it("doctor checks the Codex home the server watches, and says when this command's differs", async () => {
    const doctor = await runCli(['hooks', 'doctor', '--settings', settings, '--home', home.dir], { ...bare, CODEX_HOME: join(home.dir, 'elsewhere') });
    assert.match(doctor.stdout, new RegExp(`Codex: no sessions at ${join(home.dir, 'codex-home', 'sessions')}`));
    assert.match(doctor.stdout, new RegExp(`the running server watches ${join(home.dir, 'codex-home')}; this command's config says ${join(home.dir, 'elsewhere')}`));
  });

  it('no command prints a stack trace when the reader of its output goes away (EPIPE)', async () => {
    for (const args of [['hooks', 'status', '--settings', settings, '--home', home.dir], ['--help'], ['usage', '--help']]) {
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        // As bin/token-api.js runs it: main() returns, and the process ends when nothing is left to do.
        const run = `const { main } = await import(${JSON.stringify(pathToFileURL(CLI).href)}); process.exitCode = await main(${JSON.stringify(args)});`;
        const child = spawn(process.execPath, ['--import', TSX, '--input-type=module', '-e', run], { env: { ...process.env, ...bare }, stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout.destroy(); // like `| head -0`: the pipe's reader is gone before the first write
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => resolve({ code, stderr }));
      });
      assert.doesNotMatch(r.stderr, /EPIPE|Error|at /, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.code, 0, args.join(' '));
    }
  });
});
