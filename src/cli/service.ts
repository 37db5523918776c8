// `token-api service install | uninstall | status`: token-api as a login service. Writes and
// loads a systemd user unit (Linux) or a launchd agent (macOS), prints the Task Scheduler
// commands (Windows), and says what it did; status also asks whether a server answers.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config/config.js';
import { describeHolder, readLock } from '../service/lock.js';
import {
  compiledCodeMissing,
  definitionFile,
  definitionText,
  launchctl,
  managerState,
  noUserManager,
  parsePlatform,
  serviceSpec,
  systemctl,
  thisPlatform,
  type CommandResult,
} from '../service/manager.js';
import { LAUNCHD_LABEL, SYSTEMD_UNIT, UnitError, WINDOWS_TASK, windowsTask, type Platform } from '../service/units.js';
import { BIN_PATH, clientUrl, configFrom } from './common.js';

type Values = Record<string, string | boolean | undefined>;

class ServiceUsageError extends Error {}

export const SERVICE_USAGE = `token-api service <install|uninstall|status> [options]

  install     make token-api start when you log in, and start it now:
                Linux    a systemd user unit, ~/.config/systemd/user/${SYSTEMD_UNIT},
                         enabled and started with systemctl --user
                macOS    a launchd agent, ~/Library/LaunchAgents/${LAUNCHD_LABEL}.plist,
                         loaded with launchctl
                Windows  prints the PowerShell commands that register a Task Scheduler task
              The service runs this Node (${process.execPath}) and this token-api
              (bin/token-api.js) as \`token-api serve --log-file-only --home DIR\`, with the
              current PATH. Running install again rewrites the definition and restarts it.
  uninstall   stop the service and remove its definition
  status      whether the definition is installed and current, what the service manager
              says, and whether a server answers (exit code 0 if one does, 3 if not)

Options:
  --dry-run          install/uninstall: print what would be written and run; change nothing
  --no-start         install: write and enable the service, but do not start it now
  --platform NAME    linux, macos or windows: show that platform's definition (on another
                     platform this is a dry run)
  --home DIR         data directory the service uses (default ~/.token-api; env TOKEN_API_HOME)
  --config FILE      config file the service uses
  -h, --help         this help

Logs: $TOKEN_API_HOME/logs/token-api.log (on Linux, start-up lines also in
journalctl --user -u ${SYSTEMD_UNIT}).`;

function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

function platformFrom(values: Values): { platform: Platform; here: boolean } {
  const here = thisPlatform();
  if (typeof values.platform === 'string') {
    const p = parsePlatform(values.platform);
    if (!p) throw new ServiceUsageError(`--platform must be linux, macos or windows, got "${values.platform}"`);
    return { platform: p, here: p === here };
  }
  if (!here) throw new ServiceUsageError(`no service manager is supported on ${process.platform}; use --platform linux, macos or windows to see a definition`);
  return { platform: here, here: true };
}

function uid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : 0;
}

function writeAtomically(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.token-api-${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, file);
}

function said(r: CommandResult): string {
  return r.output ? `: ${r.output.split('\n')[0]}` : '';
}

/** Say (and do not start beside it) when a server outside the service already holds the data directory. */
function foreignServer(config: Config, servicePid: number | null): string | null {
  const lock = readLock(config.home);
  if (!lock?.alive || lock.info.pid === servicePid) return null;
  return `a token-api server is already running for ${config.home} (${describeHolder(lock.info)}), outside the service; one server per data directory, so the service cannot start beside it`;
}

function install(values: Values): number {
  const config = configFrom(values);
  const { platform, here } = platformFrom(values);
  const spec = serviceSpec({ config, entry: BIN_PATH });
  const text = definitionText(platform, spec);
  const dryRun = values['dry-run'] === true || !here;
  const noStart = values['no-start'] === true;
  if (here && compiledCodeMissing(BIN_PATH)) {
    out(`note: ${BIN_PATH} needs the compiled code (dist/cli/main.js), which is missing: run \`npm run build\` in ${dirname(dirname(BIN_PATH))} first, or the service cannot start`);
  }

  if (platform === 'windows') {
    out(`Run these in PowerShell (as ${here ? 'yourself' : 'the Windows user'}) to start token-api at logon${noStart ? '; leave out Start-ScheduledTask to start it at the next logon only' : ''}:`);
    out();
    out(indent(text));
    out();
    out(`To remove it: ${windowsTask(spec).uninstall.join('; ')}`);
    out('Task Scheduler ends the task without a signal: acknowledged changes are safe in the database, requests in flight are cut off.');
    return 0;
  }

  const file = definitionFile(platform)!;
  const start = platform === 'linux' ? [`systemctl --user daemon-reload`, `systemctl --user enable ${SYSTEMD_UNIT}`, ...(noStart ? [] : [`systemctl --user restart ${SYSTEMD_UNIT}`])] : [`launchctl bootout gui/${uid()}/${LAUNCHD_LABEL}`, `launchctl bootstrap gui/${uid()} ${file}`];
  if (dryRun) {
    out(`would write ${file}${here ? '' : ` (on ${platform})`}:`);
    out();
    out(indent(text));
    out();
    out(`would run:\n${start.map((c) => `    ${c}`).join('\n')}`);
    out('(dry run: nothing written)');
    return 0;
  }

  const current = existsSync(file) ? readFileSync(file, 'utf8') : null;
  if (current === text) out(`${file} is already up to date`);
  else {
    writeAtomically(file, text);
    out(`${current === null ? 'wrote' : 'rewrote'} ${file}`);
  }

  if (platform === 'macos') {
    if (noStart) {
      out(`not loaded now (--no-start): launchd loads it at your next login, or now with: launchctl bootstrap gui/${uid()} ${file}`);
      return 0;
    }
    const foreign = foreignServer(config, managerState('macos', uid()).pid);
    launchctl('bootout', `gui/${uid()}/${LAUNCHD_LABEL}`);
    if (foreign) {
      out(`${foreign}. Stop it, then: launchctl bootstrap gui/${uid()} ${file}`);
      return 0;
    }
    const boot = launchctl('bootstrap', `gui/${uid()}`, file);
    if (!boot.ok) {
      out(`could not load it with launchctl${said(boot)}`);
      out(`the agent is written; it loads at your next login, or try: launchctl bootstrap gui/${uid()} ${file}`);
      return 1;
    }
    out(`loaded ${LAUNCHD_LABEL} with launchctl: token-api runs now and at every login`);
    return 0;
  }

  const reload = systemctl('daemon-reload');
  if (!reload.found) {
    out('systemctl is not installed here: the unit is written, but nothing will start it (is this system run by systemd?)');
    return 1;
  }
  const enable = systemctl('enable', SYSTEMD_UNIT);
  if (!enable.ok) {
    out(`could not enable ${SYSTEMD_UNIT}${said(enable)}`);
    return 1;
  }
  out(`enabled ${SYSTEMD_UNIT}: it starts when you log in (to start it at boot without a login: loginctl enable-linger $USER)`);
  if (noStart) {
    out(`not started now (--no-start): systemctl --user start ${SYSTEMD_UNIT}`);
    return 0;
  }
  if (noUserManager(reload)) {
    out(`not started now: systemd's user manager is not reachable here${said(reload)}. Log in again, or run: systemctl --user start ${SYSTEMD_UNIT}`);
    return 0;
  }
  const state = managerState('linux', uid());
  const foreign = foreignServer(config, state.pid);
  if (foreign) {
    out(`not started now: ${foreign}. Stop it, then: systemctl --user start ${SYSTEMD_UNIT}`);
    return 0;
  }
  const restart = systemctl('restart', SYSTEMD_UNIT);
  if (!restart.ok) {
    out(`could not start ${SYSTEMD_UNIT}${said(restart)}; see: journalctl --user -u ${SYSTEMD_UNIT}`);
    return 1;
  }
  out(`started ${SYSTEMD_UNIT}; logs in ${config.logFile}`);
  return 0;
}

function uninstall(values: Values): number {
  const config = configFrom(values);
  const { platform, here } = platformFrom(values);
  const dryRun = values['dry-run'] === true || !here;
  if (platform === 'windows') {
    out('Run these in PowerShell to remove the token-api task:');
    out();
    out(indent(windowsTask(serviceSpec({ config, entry: BIN_PATH })).uninstall.join('\n')));
    return 0;
  }
  const file = definitionFile(platform)!;
  const steps =
    platform === 'linux'
      ? [`systemctl --user disable ${SYSTEMD_UNIT}`, `systemctl --user stop ${SYSTEMD_UNIT}`, `rm ${file}`, 'systemctl --user daemon-reload']
      : [`launchctl bootout gui/${uid()}/${LAUNCHD_LABEL}`, `rm ${file}`];
  if (!existsSync(file)) {
    out(`token-api's service is not installed (no ${file})`);
    return 0;
  }
  if (dryRun) {
    out(`would run:\n${steps.map((c) => `    ${c}`).join('\n')}`);
    out('(dry run: nothing changed)');
    return 0;
  }
  if (platform === 'macos') {
    const out1 = launchctl('bootout', `gui/${uid()}/${LAUNCHD_LABEL}`);
    out(out1.ok ? `stopped and unloaded ${LAUNCHD_LABEL}` : `${LAUNCHD_LABEL} was not loaded`);
    rmSync(file, { force: true });
    out(`removed ${file}`);
    return 0;
  }
  const disable = systemctl('disable', SYSTEMD_UNIT);
  out(disable.ok ? `disabled ${SYSTEMD_UNIT}` : `could not disable ${SYSTEMD_UNIT}${said(disable)}`);
  const stop = systemctl('stop', SYSTEMD_UNIT);
  if (stop.ok) out(`stopped ${SYSTEMD_UNIT}`);
  else if (noUserManager(stop)) out(`not stopped: systemd's user manager is not reachable here${said(stop)}`);
  else out(`could not stop ${SYSTEMD_UNIT}${said(stop)}`);
  rmSync(file, { force: true });
  out(`removed ${file}`);
  systemctl('daemon-reload');
  return disable.ok ? 0 : 1;
}

interface Health {
  pid?: number;
  version?: string;
  status?: string;
  uptime_s?: number;
  database?: { file?: string };
}

async function health(url: string): Promise<Health | null> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(3000) });
    if (!res.ok) return null;
    return (await res.json()) as Health;
  } catch {
    return null;
  }
}

async function status(values: Values): Promise<number> {
  const config = configFrom(values);
  const { platform, here } = platformFrom(values);
  const spec = serviceSpec({ config, entry: BIN_PATH });
  if (platform === 'windows') {
    out(`service: a Task Scheduler task named ${WINDOWS_TASK}; ask Task Scheduler in PowerShell:`);
    out(indent(windowsTask(spec).status.join('\n')));
  } else {
    const file = definitionFile(platform)!;
    if (!existsSync(file)) out(`service: not installed (no ${file}); token-api service install installs it`);
    else {
      const current = readFileSync(file, 'utf8') === definitionText(platform, spec);
      out(`service: ${file}, ${current ? 'up to date' : 'differs from what install would write now (another Node, path or environment): run token-api service install to update it'}`);
      if (here) out(`${platform === 'linux' ? 'systemd' : 'launchd'}: ${managerState(platform, uid()).summary}`);
    }
  }

  const lock = readLock(config.home);
  const url = lock?.alive && lock.info.url ? lock.info.url : clientUrl(config);
  const h = await health(url);
  if (h && h.database?.file !== config.databaseFile) {
    out(`server: a token-api answers at ${url} (pid ${h.pid ?? '?'}), but with another database (${h.database?.file ?? 'unknown'}); none serves ${config.home}`);
    return 3;
  }
  if (h) {
    const up = typeof h.uptime_s === 'number' ? `, up ${h.uptime_s} s` : '';
    out(`server: answering at ${url} (pid ${h.pid ?? '?'}, version ${h.version ?? '?'}, ${h.status ?? 'unknown'}${up}); data in ${config.home}`);
    return 0;
  }
  if (lock?.alive) out(`server: pid ${lock.info.pid} holds ${config.home} (${describeHolder(lock.info)}) but does not answer at ${url}`);
  else if (lock) out(`server: not running (a stale lock from pid ${lock.info.pid} will be taken over at the next start); nothing answers at ${url}`);
  else out(`server: not running; nothing answers at ${url}`);
  return 3;
}

export const serviceCommand = {
  summary: 'start token-api at login: install, uninstall, status (systemd, launchd, Task Scheduler)',
  usage: SERVICE_USAGE,
  options: {
    home: { type: 'string' },
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    'dry-run': { type: 'boolean' },
    'no-start': { type: 'boolean' },
    platform: { type: 'string' },
  } as const,
  async run(values: Values, positionals: string[]): Promise<number> {
    const [sub, ...extra] = positionals;
    try {
      if (extra.length > 0) throw new ServiceUsageError(`unexpected argument "${extra[0]}"`);
      switch (sub) {
        case 'install':
          return install(values);
        case 'uninstall':
          return uninstall(values);
        case 'status':
          return await status(values);
        case undefined:
          throw new ServiceUsageError('a subcommand is needed: install, uninstall or status');
        default:
          throw new ServiceUsageError(`unknown subcommand "${sub}"`);
      }
    } catch (err) {
      if (err instanceof ServiceUsageError) {
        process.stderr.write(`token-api service: ${err.message}\n\n${SERVICE_USAGE}\n`);
        return 2;
      }
      if (err instanceof UnitError) {
        process.stderr.write(`token-api service: ${err.message}\n`);
        return 1;
      }
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS' || e.code === 'ENOSPC') {
        process.stderr.write(`token-api service: cannot write ${e.path ?? 'the service definition'}: ${e.message}\n`);
        return 1;
      }
      throw err;
    }
  },
};
