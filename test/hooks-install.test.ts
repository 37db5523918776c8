// The installer: merging token-api's entries into Claude Code settings that have the person's
// own hooks, JSON edge cases (indentation, CRLF, BOM, empty, big numbers), invalid JSON and a
// read-only file refused without a change, backups, symlinks, uninstall restoring the
// original; Codex's config.toml notify (chained, multi-line, invalid TOML refused).
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'smol-toml';
import { HOOK_EVENTS, formatSettings, hookStatus, installHooks, isTokenApiHandler, parseSettings, uninstallHooks, type HandlerOptions, type JsonObject } from '../src/cli/install/claude-settings.js';
import { installNotify, uninstallNotify } from '../src/cli/install/codex-config.js';
import { runCli } from './support/process.js';
import { tempHome } from './support/system.js';

const opts: HandlerOptions = { mode: 'command', scriptPath: '/opt/token-api/hooks/token-api-hook.sh', url: 'http://127.0.0.1:7777', env: {}, withToken: false };

const personal: JsonObject = {
  model: 'opus',
  permissions: { allow: ['Bash(npm test:*)'] },
  hooks: {
    PreToolUse: [
      { matcher: 'Bash', hooks: [{ type: 'command', command: '~/bin/guard.sh', timeout: 5 }] },
      { matcher: 'Edit|Write', hooks: [{ type: 'command', command: 'prettier --check "$FILE"' }] },
    ],
    Stop: [{ hooks: [{ type: 'command', command: 'say done' }] }],
    PreCompact: [{ hooks: [{ type: 'command', command: 'echo compacting' }] }],
  },
};

describe('merging token-api hooks into Claude Code settings', () => {
  it('adds one marked entry per event after the person’s own, and is idempotent', () => {
    const { settings, changed } = installHooks(personal, opts);
    assert.deepEqual(changed, [...HOOK_EVENTS]);
    const hooks = settings.hooks as Record<string, { matcher?: string; hooks: JsonObject[] }[]>;
    assert.deepEqual(hooks.PreToolUse!.slice(0, 2), (personal.hooks as Record<string, unknown[]>).PreToolUse);
    assert.deepEqual(hooks.PreToolUse![2], { hooks: [{ type: 'command', command: 'exec sh /opt/token-api/hooks/token-api-hook.sh PreToolUse', timeout: 10 }] });
    assert.deepEqual(hooks.PreCompact, (personal.hooks as Record<string, unknown>).PreCompact);
    assert.equal(settings.model, 'opus');
    const again = installHooks(settings, opts);
    assert.deepEqual(again.changed, []);
    assert.deepEqual(again.settings, settings);
    assert.deepEqual((personal.hooks as Record<string, unknown[]>).PreToolUse!.length, 2, 'the input is not modified');
  });

  it('http mode: Claude Code POSTs with the SSH header; SessionStart keeps the script; switching modes replaces in place', () => {
    const first = installHooks(personal, opts).settings;
    const http = installHooks(first, { ...opts, mode: 'http', withToken: true });
    const hooks = http.settings.hooks as Record<string, { hooks: JsonObject[] }[]>;
    assert.deepEqual(hooks.PreToolUse![2]!.hooks[0], {
      type: 'http',
      url: 'http://127.0.0.1:7777/api/hooks?reply=none',
      headers: { 'X-Token-Api-Hook': '1', 'X-Token-Api-Ssh-Client': '$SSH_CLIENT', Authorization: 'Bearer $TOKEN_API_TOKEN' },
      allowedEnvVars: ['SSH_CLIENT', 'TOKEN_API_TOKEN'],
      timeout: 5,
    });
    assert.equal(hooks.SessionStart![0]!.hooks[0]!.type, 'command');
    assert.equal(hooks.PreToolUse!.length, 3, 'replaced, not added');
    assert.deepEqual(
      hookStatus(http.settings).filter((r) => r.event === 'PreToolUse' || r.event === 'SessionStart').map((r) => [r.event, r.tokenApi, r.others]),
      [['SessionStart', 'command', 0], ['PreToolUse', 'http', 2]],
    );
  });

  it('the PermissionRequest entry waits: its timeout is above approval_timeout_seconds, and the script knows how long to wait', () => {
    const command = installHooks({}, { ...opts, approvalTimeoutSeconds: 90 }).settings.hooks as Record<string, { hooks: JsonObject[] }[]>;
    assert.deepEqual(command.PermissionRequest![0]!.hooks[0], {
      type: 'command',
      command: 'exec env TOKEN_API_APPROVAL_WAIT=100 sh /opt/token-api/hooks/token-api-hook.sh PermissionRequest',
      timeout: 120,
    });
    assert.equal(command.PreToolUse![0]!.hooks[0]!.timeout, 10, 'the other events keep the short timeout');
    const http = installHooks({}, { ...opts, mode: 'http' }).settings.hooks as Record<string, { hooks: JsonObject[] }[]>;
    assert.equal(http.PermissionRequest![0]!.hooks[0]!.url, 'http://127.0.0.1:7777/api/approvals/wait');
    assert.equal(http.PermissionRequest![0]!.hooks[0]!.timeout, 150, 'the default approval timeout (120) plus 30');
    assert.ok(isTokenApiHandler(http.PermissionRequest![0]!.hooks[0]!), 'still recognised as token-api’s');
  });

  it('uninstall removes exactly token-api’s entries, giving back the original', () => {
    const installed = installHooks(personal, { ...opts, env: { TOKEN_API_HOME: "/home/o'neil/.token-api" } }).settings;
    // The person added a hook of their own beside token-api's, in the same group.
    const hooks = installed.hooks as Record<string, { hooks: JsonObject[] }[]>;
    hooks.Notification![0]!.hooks.push({ type: 'command', command: 'notify-send claude' });
    const { settings, changed } = uninstallHooks(installed);
    assert.equal(changed.length, HOOK_EVENTS.length);
    assert.deepEqual(settings, { ...personal, hooks: { ...(personal.hooks as object), Notification: [{ hooks: [{ type: 'command', command: 'notify-send claude' }] }] } });
    assert.deepEqual(uninstallHooks(installHooks({}, opts).settings).settings, {});
    assert.deepEqual(uninstallHooks(personal), { settings: personal, changed: [] });
    assert.equal(isTokenApiHandler({ type: 'command', command: 'sh /x/my-hook.sh' }), false);
  });

  it('refuses shapes it would have to guess about', () => {
    assert.throws(() => installHooks({ hooks: [] as unknown as JsonObject }, opts), /"hooks" in the settings is not an object/);
    assert.throws(() => installHooks({ hooks: { Stop: { hooks: [] } } }, opts), /"hooks.Stop" in the settings is not a list/);
  });

  it('keeps the file’s indentation, line endings, final newline and BOM; refuses numbers it would change', () => {
    for (const text of ['{\n\t"a": [1, 2],\n\t"b": {"c": "é\\u00e9"}\n}\n', '{\r\n    "a": 1\r\n}', '\ufeff{\n  "x": true\n}\n']) {
      const parsed = parseSettings(text, 's.json');
      assert.equal(formatSettings(parsed.value, parsed), text.replace('[1, 2]', '[\n\t\t1,\n\t\t2\n\t]').replace('{"c": "é\\u00e9"}', '{\n\t\t"c": "éé"\n\t}'));
    }
    assert.deepEqual(parseSettings('', 's.json').value, {});
    assert.deepEqual(parseSettings('  \n', 's.json').value, {});
    assert.throws(() => parseSettings('{"n": 12345678901234567890}', 's.json'), /numbers that would change/);
    assert.throws(() => parseSettings('{"n": 1e999}', 's.json'), /numbers that would change/);
    assert.doesNotThrow(() => parseSettings('{"n": 1.5, "s": "12345678901234567890", "m": -42}', 's.json'));
    assert.throws(() => parseSettings('[1]', 's.json'), /does not hold a JSON object/);
    assert.throws(() => parseSettings('{"a": 1,}', 's.json'), /is not valid JSON/);
  });
});

describe('token-api hooks (the command)', () => {
  const home = tempHome('token-api-install-');
  after(() => home.cleanup());
  const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(['hooks', ...args, '--home', join(home.dir, 'data')], { CLAUDE_CONFIG_DIR: join(home.dir, 'claude'), TOKEN_API_URL: '', ...extra });
  const backups = (dir: string) => readdirSync(dir).filter((n) => n.includes('.token-api-backup-'));

  it('installs with a backup, atomically, idempotently; uninstall gives back the same bytes', async () => {
    const dir = join(home.dir, 'round');
    mkdirSync(dir);
    const path = join(dir, 'settings.json');
    const original = `${JSON.stringify(personal, null, 4)}\n`;
    writeFileSync(path, original);
    const r = await cli(['install', '--settings', path]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /installed \(hook script\) for SessionStart, UserPromptSubmit/);
    assert.equal(backups(dir).length, 1);
    assert.equal(readFileSync(join(dir, backups(dir)[0]!), 'utf8'), original);
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
    const installed = readFileSync(path, 'utf8');
    assert.match(installed, /^ {4}"model"/m, 'the file’s four-space indentation is kept');
    assert.match(installed, new RegExp(`"exec env TOKEN_API_HOME=${join(home.dir, 'data')} sh `));

    const again = await cli(['install', '--settings', path]);
    assert.match(again.stdout, /already installed/);
    assert.equal(readFileSync(path, 'utf8'), installed);
    assert.equal(backups(dir).length, 1, 'no change, no backup');

    const status = await cli(['status', '--settings', path]);
    assert.match(status.stdout, /PreToolUse\s+token-api \(hook script\)\s+2 other hooks/);
    assert.match(status.stdout, /PreCompact\s+-\s+1 other hook/);

    const un = await cli(['uninstall', '--settings', path]);
    assert.equal(un.code, 0);
    assert.equal(readFileSync(path, 'utf8'), original);
  });

  it('refuses invalid JSON and a read-only file, changing nothing', async () => {
    const dir = join(home.dir, 'refuse');
    mkdirSync(dir);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "hooks": { // a comment\n } }\n');
    const r = await cli(['install', '--settings', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.json is not valid JSON .*nothing was changed/);
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace');
    assert.equal(readFileSync(bad, 'utf8'), '{ "hooks": { // a comment\n } }\n');

    const ro = join(dir, 'ro.json');
    writeFileSync(ro, '{"model":"opus"}');
    chmodSync(ro, 0o444);
    const r2 = await cli(['install', '--settings', ro]);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /ro\.json is read-only; nothing was changed/);
    assert.equal(readFileSync(ro, 'utf8'), '{"model":"opus"}');
    assert.deepEqual(backups(dir), []);
  });

  it('a settings path under a regular file is a sentence and exit 1, not a stack trace', async () => {
    const dir = join(home.dir, 'under-file');
    mkdirSync(dir);
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'not a directory');
    for (const path of [join(file, 'settings.json'), join(file, 'deeper', 'settings.json')]) {
      const r = await cli(['install', '--settings', path]);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr.trim(), /^token-api hooks install: cannot write .*settings\.json: a part of .*plain-file.* is a file, not a directory; nothing was changed$/);
      assert.doesNotMatch(r.stderr, /    at |unexpected error/);
    }
    assert.equal(readFileSync(file, 'utf8'), 'not a directory');
  });

  it('follows a symlinked settings file, creates a missing one, and --project writes the project’s', async () => {
    const dir = join(home.dir, 'links');
    mkdirSync(join(dir, 'dotfiles'), { recursive: true });
    writeFileSync(join(dir, 'dotfiles', 'claude.json'), '{}\n');
    symlinkSync(join(dir, 'dotfiles', 'claude.json'), join(dir, 'settings.json'));
    assert.equal((await cli(['install', '--settings', join(dir, 'settings.json')])).code, 0);
    assert.ok(lstatSync(join(dir, 'settings.json')).isSymbolicLink(), 'the link stays a link');
    assert.match(readFileSync(join(dir, 'dotfiles', 'claude.json'), 'utf8'), /token-api-hook\.sh SessionStart/);

    const fresh = await cli(['install', '--mode', 'http']);
    assert.equal(fresh.code, 0, fresh.stderr);
    const created = JSON.parse(readFileSync(join(home.dir, 'claude', 'settings.json'), 'utf8'));
    assert.equal(created.hooks.Stop[0].hooks[0].type, 'http');

    const project = join(dir, 'project');
    mkdirSync(project);
    const child = await runCli(['hooks', 'install', '--project'], {}, undefined, project);
    assert.equal(child.code, 0, child.stderr);
    assert.ok(existsSync(join(project, '.claude', 'settings.json')));

    const usage = await cli(['install', '--mode', 'pigeon']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--mode must be command or http/);
  });
});

describe("Codex's notify in config.toml", () => {
  const ours = ['/usr/bin/node', '/opt/token-api/bin/token-api.js', 'codex-notify'];

  it('adds notify before the first table, keeping comments and everything else', () => {
    const text = '# Codex settings\nmodel = "o3"  # fast\n\n[mcp_servers.docs]\ncommand = "npx"\nargs = ["-y", "docs-mcp"]\n';
    const r = installNotify(text, 'c.toml', ours);
    assert.equal(r.text, `# Codex settings\nmodel = "o3"  # fast\n\nnotify = ${JSON.stringify(ours).replaceAll(',', ', ')}\n\n[mcp_servers.docs]\ncommand = "npx"\nargs = ["-y", "docs-mcp"]\n`);
    assert.deepEqual(installNotify(r.text, 'c.toml', ours).changed, false);
    assert.equal(uninstallNotify(r.text, 'c.toml').text, text, 'uninstall gives back the same text');
  });

  it('chains a notify program the person had (even a multi-line one) and restores it on uninstall', () => {
    const text = 'notify = [\n  "python3",  # my notifier\n  "/home/u/notify.py", "a]b",\n]\nmodel = "o3"\n';
    const r = installNotify(text, 'c.toml', ours);
    assert.deepEqual(parse(r.text).notify, [...ours, '--', 'python3', '/home/u/notify.py', 'a]b']);
    assert.equal(parse(r.text).model, 'o3');
    assert.deepEqual(r.kept, ['python3', '/home/u/notify.py', 'a]b']);
    const back = uninstallNotify(r.text, 'c.toml');
    assert.deepEqual(parse(back.text), parse(text));
  });

  it('refuses invalid TOML and a notify that is not a list, changing nothing', () => {
    assert.throws(() => installNotify('model = \n', 'c.toml', ours), /c\.toml is not valid TOML/);
    assert.throws(() => installNotify('notify = "notify-send"\n', 'c.toml', ours), /not a list of strings/);
    assert.equal(installNotify('', 'c.toml', ours).text, `notify = ${JSON.stringify(ours).replaceAll(',', ', ')}\n`);
  });

  it('the command installs and uninstalls it with a backup', async () => {
    const home = tempHome('token-api-codex-install-');
    try {
      const path = join(home.dir, 'config.toml');
      writeFileSync(path, '[history]\npersistence = "none"\n');
      const r = await runCli(['hooks', 'install', '--settings', join(home.dir, 's.json'), '--codex', '--codex-config', path]);
      assert.equal(r.code, 0, r.stderr);
      const notify = parse(readFileSync(path, 'utf8')).notify as string[];
      assert.deepEqual(notify.slice(-1), ['codex-notify']);
      assert.match(notify[1]!, /bin\/token-api\.js$/);
      assert.equal(readdirSync(home.dir).filter((n) => n.startsWith('config.toml.token-api-backup-')).length, 1);
      const un = await runCli(['hooks', 'uninstall', '--settings', join(home.dir, 's.json'), '--codex', '--codex-config', path]);
      assert.equal(un.code, 0, un.stderr);
      assert.equal(readFileSync(path, 'utf8'), '[history]\npersistence = "none"\n');
    } finally {
      home.cleanup();
    }
  });
});
