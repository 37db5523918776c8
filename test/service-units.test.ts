// `token-api service`: the generated systemd unit passes `systemd-analyze verify`, the launchd
// plist reads back through a real plist parser, the Task Scheduler command quotes arguments
// the way Windows splits them; install/status/uninstall with the real systemctl (which enables
// unit files without a running systemd) in a temporary home, and status asks the real server.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SERVER_NODE_FLAGS } from '../src/service/heap.js';
import { serviceSpec } from '../src/service/manager.js';
import { launchdPlist, psLiteral, systemdUnit, windowsArg, windowsTask, type ServiceSpec } from '../src/service/units.js';
import { runCli, startServerProcess } from './support/process.js';
import { tempHome, testConfig } from './support/system.js';

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function dir(): string {
  const h = tempHome('token-api-service-');
  cleanups.push(h.cleanup);
  return h.dir;
}

const has = (program: string, args: string[]) => !spawnSync(program, args, { stdio: 'ignore' }).error;
const AWKWARD = `/tmp/token api's "data" 100%Zeta $HOME\\x`;

function spec(home: string): ServiceSpec {
  return {
    node: process.execPath,
    entry: '/opt/token api/bin/token-api.js',
    args: ['serve', '--log-file-only', '--home', home],
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', CODEX_HOME: `${home}/co"dex` },
    stopTimeoutSeconds: 50,
    logDir: `${home}/logs`,
    version: '0.1.0',
  };
}

describe('service definitions', () => {
  it('the systemd unit passes systemd-analyze verify, even with a data directory full of special characters', { skip: !has('systemd-analyze', ['--version']) && 'systemd-analyze is not installed' }, () => {
    const d = dir();
    for (const home of ['/home/u/.token-api', AWKWARD]) {
      const unit = join(d, 'token-api.service');
      writeFileSync(unit, systemdUnit(spec(home)));
      // A runtime directory of its own: verify needs one, and no user manager is involved.
      const runtime = mkdtempSync(join(tmpdir(), 'token-api-runtime-'));
      cleanups.push(() => spawnSync('rm', ['-rf', runtime]));
      const r = spawnSync('systemd-analyze', ['--user', 'verify', unit], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: runtime } });
      assert.equal(r.status, 0, `${r.stderr}\n${readFileSync(unit, 'utf8')}`);
      assert.doesNotMatch(r.stderr, /ignoring|Unknown|Failed|specifier/i, r.stderr);
    }
  });

  it('the systemd unit runs this Node and entry point as serve --log-file-only, and stops with SIGTERM in time', () => {
    const unit = systemdUnit(spec(AWKWARD));
    const exec = /^ExecStart=(.*)$/m.exec(unit)![1]!;
    assert.ok(exec.startsWith(`${process.execPath} "/opt/token api/bin/token-api.js" serve --log-file-only --home `), exec);
    // systemd expands % and $ in ExecStart: both doubled; quotes and backslashes escaped.
    assert.equal(exec.slice(exec.indexOf('--home ') + 7), `"/tmp/token api's \\"data\\" 100%%Zeta $$HOME\\\\x"`);
    assert.match(unit, /^KillSignal=SIGTERM$/m);
    assert.match(unit, /^TimeoutStopSec=50$/m);
    assert.match(unit, /^WantedBy=default.target$/m);
    assert.match(unit, /^Environment="PATH=\/usr\/local\/bin:\/usr\/bin:\/bin"$/m);
  });

  it('the service runs Node with the server\'s memory flags, as `npm start` does', () => {
    const home = dir();
    const s = serviceSpec({ config: testConfig(home), entry: '/opt/token-api/bin/token-api.js' });
    assert.deepEqual(s.nodeFlags, SERVER_NODE_FLAGS);
    const exec = /^ExecStart=(.*)$/m.exec(systemdUnit(s))![1]!;
    assert.ok(exec.startsWith(`${process.execPath} ${SERVER_NODE_FLAGS.join(' ')} /opt/token-api/bin/token-api.js serve `), exec);
    assert.ok(launchdPlist(s).includes(`<string>${SERVER_NODE_FLAGS[0]}</string>\n    <string>/opt/token-api/bin/token-api.js</string>`));
    assert.match(windowsTask(s).install[0]!, new RegExp(`-Argument '${SERVER_NODE_FLAGS.join(' ')} /opt/token-api/bin/token-api.js serve`));
    const start = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } }).scripts.start;
    assert.equal(start, `node ${SERVER_NODE_FLAGS.join(' ')} bin/token-api.js serve`);
  });

  it('the launchd agent reads back, value for value, through a real plist parser', { skip: !has('python3', ['-c', 'import plistlib']) && 'python3 with plistlib is not here' }, () => {
    const s = spec(`${AWKWARD} <&> ]]>`);
    const r = spawnSync('python3', ['-c', 'import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'], { input: launchdPlist(s), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const plist = JSON.parse(r.stdout);
    assert.equal(plist.Label, 'local.token-api');
    assert.deepEqual(plist.ProgramArguments, [s.node, s.entry, ...s.args]);
    assert.deepEqual(plist.EnvironmentVariables, s.env);
    assert.equal(plist.RunAtLoad, true);
    assert.deepEqual(plist.KeepAlive, { SuccessfulExit: false }, 'restarted after a crash, not after a clean stop');
    assert.equal(plist.ExitTimeOut, 50);
    assert.equal(plist.StandardErrorPath, `${s.logDir}/service.err.log`);
  });

  it('the Task Scheduler command quotes each argument so that Windows splits it back the same', () => {
    const args = ['C:\\Program Files\\token-api\\bin\\token-api.js', 'serve', '--home', 'C:\\Users\\o\'neil\\my data\\', 'say "hi"', 'a\\\\"b', ''];
    assert.deepEqual(splitWindowsCommandLine(args.map(windowsArg).join(' ')), args);
    const s = { ...spec('C:\\Users\\o\'neil\\.token-api'), node: 'C:\\Program Files\\nodejs\\node.exe', entry: 'C:\\Program Files\\token-api\\bin\\token-api.js' };
    const [action] = windowsTask(s).install;
    const m = /^\$action = New-ScheduledTaskAction -Execute ('(?:[^']|'')*') -Argument ('(?:[^']|'')*')$/.exec(action!);
    assert.ok(m, action);
    assert.equal(readPsLiteral(m[1]!), s.node);
    assert.deepEqual(splitWindowsCommandLine(readPsLiteral(m[2]!)), [s.entry, ...s.args]);
    assert.equal(psLiteral("it's"), "'it''s'");
    assert.ok(windowsTask(s).install.some((l) => l.includes('-ExecutionTimeLimit ([TimeSpan]::Zero)')), 'no three-day limit on a server');
  });
});

/** A PowerShell single-quoted literal's value. */
function readPsLiteral(lit: string): string {
  return lit.slice(1, -1).replace(/''/g, "'");
}

/** How the Microsoft C runtime splits a command line into argv (after the program name). */
function splitWindowsCommandLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (i >= line.length) break;
    let arg = '';
    let quoted = false;
    for (; i < line.length; i++) {
      const c = line[i]!;
      if (c === '\\') {
        let n = 0;
        while (line[i] === '\\') {
          n++;
          i++;
        }
        if (line[i] === '"') {
          arg += '\\'.repeat(Math.floor(n / 2));
          if (n % 2 === 1) arg += '"';
          else {
            quoted = !quoted;
          }
        } else {
          arg += '\\'.repeat(n);
          i--;
        }
        continue;
      }
      if (c === '"') {
        if (quoted && line[i + 1] === '"') {
          arg += '"';
          i++;
        } else quoted = !quoted;
        continue;
      }
      if (!quoted && (c === ' ' || c === '\t')) break;
      arg += c;
    }
    out.push(arg);
  }
  return out;
}

describe('token-api service install, status, uninstall', { skip: (!has('systemctl', ['--version']) || process.platform !== 'linux') && 'needs Linux and systemctl', timeout: 90_000 }, () => {
  // A home of its own, and no user manager reachable: systemctl works on the unit files only.
  const user = dir();
  const data = join(user, 'data dir');
  const env = {
    HOME: user,
    XDG_CONFIG_HOME: join(user, '.config'),
    XDG_RUNTIME_DIR: join(user, 'run'),
    DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(user, 'no-bus')}`,
    CODEX_HOME: join(user, 'codex'),
  };
  const unit = join(user, '.config', 'systemd', 'user', 'token-api.service');
  const wanted = join(user, '.config', 'systemd', 'user', 'default.target.wants', 'token-api.service');
  const cli = (...args: string[]) => runCli(['service', ...args, '--home', data], env);

  it('--dry-run shows the unit and the commands, and writes nothing', async () => {
    const r = await cli('install', '--dry-run');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`would write ${unit.replace(/[.]/g, '\\.')}:`));
    assert.match(r.stdout, /ExecStart=.* serve --log-file-only --home "[^"]*data dir"/);
    assert.match(r.stdout, /systemctl --user enable token-api\.service/);
    assert.match(r.stdout, /dry run: nothing written/);
    assert.equal(existsSync(unit), false);
  });

  it('install writes and enables the unit, and says it could not start it without a user manager', async () => {
    const r = await cli('install');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`wrote ${unit.replace(/[.]/g, '\\.')}`));
    assert.match(r.stdout, /enabled token-api\.service: it starts when you log in/);
    assert.match(r.stdout, /not started now: systemd's user manager is not reachable here/);
    assert.ok(existsSync(wanted), 'systemctl enable linked it into default.target.wants');
    assert.match(readFileSync(unit, 'utf8'), /--home "[^"]*data dir"/);
    const again = await cli('install', '--no-start');
    assert.match(again.stdout, /is already up to date/);
  });

  it('status says whether it is installed and current, what systemd says, and whether a server answers', async () => {
    const down = await cli('status');
    assert.equal(down.code, 3, down.stdout);
    assert.match(down.stdout, /^service: .*token-api\.service, up to date$/m);
    assert.match(down.stdout, /^systemd: enabled; running or not is unknown/m);
    assert.match(down.stdout, /^server: not running/m);

    const s = await startServerProcess(data);
    cleanups.push(() => s.kill());
    const up = await cli('status');
    assert.equal(up.code, 0, up.stdout);
    assert.match(up.stdout, new RegExp(`^server: answering at ${s.url.replace(/[.]/g, '\\.')} \\(pid ${s.child.pid}, version \\S+, ok`, 'm'));
    assert.equal(await s.kill('SIGTERM'), 0);

    writeFileSync(unit, readFileSync(unit, 'utf8').replace('RestartSec=5', 'RestartSec=1'));
    const edited = await cli('status');
    assert.match(edited.stdout, /differs from what install would write now/);
  });

  it('uninstall disables and removes it; a second uninstall says there is nothing to remove', async () => {
    const r = await cli('uninstall');
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /disabled token-api\.service/);
    assert.match(r.stdout, /removed .*token-api\.service/);
    assert.equal(existsSync(unit), false);
    assert.equal(existsSync(wanted), false);
    const again = await cli('uninstall');
    assert.equal(again.code, 0);
    assert.match(again.stdout, /is not installed/);
  });

  it('shows the macOS agent and the Windows commands anywhere, and refuses what it does not know', async () => {
    const mac = await cli('install', '--platform', 'macos');
    assert.equal(mac.code, 0);
    assert.match(mac.stdout, /would write .*Library\/LaunchAgents\/local\.token-api\.plist \(on macos\)/);
    assert.match(mac.stdout, /launchctl bootstrap gui\/\d+ /);
    assert.equal(existsSync(join(user, 'Library')), false);
    const win = await cli('install', '--platform', 'windows');
    assert.equal(win.code, 0);
    assert.match(win.stdout, /Register-ScheduledTask -TaskName 'token-api'/);
    const bad = await cli('reinstall');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown subcommand "reinstall"/);
    const badPlatform = await cli('status', '--platform', 'beos');
    assert.equal(badPlatform.code, 2);
    assert.match(badPlatform.stderr, /--platform must be linux, macos or windows/);
    const help = await runCli(['service', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /token-api service <install\|uninstall\|status>/);
  });
});
