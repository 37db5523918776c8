// The command line in words: `serve` refuses stray arguments (`npm start --port 5555` used to
// start on 7777) and options npm kept for itself, and a mistyped or incomplete option is
// named with the one meant, never with Node's own parser text. Each case exits 2 and starts
// nothing (no lock file appears in the data directory).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from './support/process.js';
import { tempHome } from './support/system.js';

describe('command-line errors in words', () => {
  const home = tempHome('token-api-cli-words-');
  after(() => home.cleanup());

  const cases: { name: string; args: string[]; env?: NodeJS.ProcessEnv; message: string }[] = [
    {
      name: 'npm start --port 5555 (npm keeps --port, serve gets "5555")',
      args: ['serve', '5555'],
      env: { npm_lifecycle_event: 'start', npm_config_port: 'true' },
      message: 'token-api serve: serve takes no arguments, but got "5555"; npm kept the options for itself: put them after --, as in npm start -- --port 5555\n',
    },
    {
      name: 'npm start --port=5555 (serve gets nothing)',
      args: ['serve'],
      env: { npm_lifecycle_event: 'start', npm_config_port: '5555' },
      message: 'token-api serve: npm took --port for itself, so token-api never saw it: run npm start -- --port 5555\n',
    },
    {
      name: 'a stray argument outside npm',
      args: ['serve', 'now'],
      message: 'token-api serve: serve takes no arguments, but got "now"; options start with --, as in --port 5555\n',
    },
    {
      name: 'a mistyped option',
      args: ['serve', '--prot', '5555'],
      message: 'token-api serve: unknown option --prot; did you mean --port? (token-api serve --help lists the options)\n',
    },
    {
      name: 'an option without its value',
      args: ['serve', '--port'],
      message: 'token-api serve: option --port needs a value, as in --port VALUE (token-api serve --help lists the options)\n',
    },
    {
      name: 'a value for a switch',
      args: ['serve', '--inspect=yes'],
      message: 'token-api serve: option --inspect takes no value (token-api serve --help lists the options)\n',
    },
    {
      name: 'an unknown log format',
      args: ['serve', '--log-format', 'xml'],
      message: 'token-api serve: --log-format is "xml"; expected text or json\n',
    },
    {
      name: 'a mistyped option of another command',
      args: ['hooks', 'status', '--setings', 'x'],
      message: 'token-api hooks: unknown option --setings; did you mean --settings? (token-api hooks --help lists the options)\n',
    },
  ];

  for (const c of cases) {
    it(`${c.name}: exits 2 and says so`, async () => {
      const r = await runCli([...c.args, '--home', home.dir], { npm_lifecycle_event: undefined, npm_config_port: undefined, ...c.env });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr, c.message);
      assert.equal(existsSync(join(home.dir, 'token-api.lock')), false, 'nothing started');
    });
  }

  it('the help shows npm start -- for options through npm, and every serve option', async () => {
    const r = await runCli(['serve', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /npm start -- --port 5555/);
    for (const option of ['--port', '--host', '--home', '--config', '--log-level', '--log-format', '--log-file-only', '--inspect']) assert.ok(r.stdout.includes(option), option);
  });
});
