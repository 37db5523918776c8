// Where each platform keeps a login service and how it is loaded: the systemd user unit and
// `systemctl --user` (Linux), the launchd agent and `launchctl` (macOS); Windows gets the
// commands to run. The spec uses this Node and this package's entry point, so the service
// runs the token-api that installed it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { VERSION } from '../lib/version.js';
import { SERVER_NODE_FLAGS } from './heap.js';
import { LAUNCHD_LABEL, SYSTEMD_UNIT, launchdPlist, systemdUnit, windowsTask, type Platform, type ServiceSpec } from './units.js';

/** Environment variables that change what the server does, carried into the service when set. */
const CARRIED_ENV = ['PATH', 'TOKEN_API_HOST', 'TOKEN_API_PORT', 'TOKEN_API_LOG_LEVEL', 'CODEX_HOME', 'CLAUDE_CONFIG_DIR', 'XDG_CONFIG_HOME'] as const;

export function thisPlatform(): Platform | null {
  if (process.platform === 'linux') return 'linux';
  if (process.platform === 'darwin') return 'macos';
  if (process.platform === 'win32') return 'windows';
  return null;
}

export function parsePlatform(text: string): Platform | null {
  const t = text.toLowerCase();
  if (t === 'linux' || t === 'systemd') return 'linux';
  if (t === 'macos' || t === 'darwin' || t === 'mac' || t === 'launchd') return 'macos';
  if (t === 'windows' || t === 'win32') return 'windows';
  return null;
}

export interface SpecInputs {
  config: Config;
  /** The entry point the service runs (bin/token-api.js of this package). */
  entry: string;
  node?: string;
  env?: NodeJS.ProcessEnv;
}

export function serviceSpec({ config, entry, node = process.execPath, env = process.env }: SpecInputs): ServiceSpec {
  const args = ['serve', '--log-file-only', '--home', config.home];
  if (config.configFile !== join(config.home, 'config.json')) args.push('--config', config.configFile);
  const carried: Record<string, string> = {};
  for (const name of CARRIED_ENV) {
    const value = env[name];
    if (value) carried[name] = value;
  }
  return {
    node,
    nodeFlags: SERVER_NODE_FLAGS,
    entry,
    args,
    env: carried,
    // The grace for requests in flight, then time to write what is pending and close.
    stopTimeoutSeconds: Math.ceil(config.shutdownGraceMs / 1000) * 2 + 30,
    logDir: join(config.home, 'logs'),
    version: VERSION,
  };
}

/** The file that defines the service, or null (Windows keeps it inside Task Scheduler). */
export function definitionFile(platform: Platform, env: NodeJS.ProcessEnv = process.env): string | null {
  const home = env.HOME || homedir();
  if (platform === 'linux') return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'systemd', 'user', SYSTEMD_UNIT);
  if (platform === 'macos') return join(home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
  return null;
}

export function definitionText(platform: Platform, spec: ServiceSpec): string {
  if (platform === 'linux') return systemdUnit(spec);
  if (platform === 'macos') return launchdPlist(spec);
  return `${windowsTask(spec).install.join('\n')}\n`;
}

export interface CommandResult {
  command: string;
  ok: boolean;
  /** False when the program itself is missing. */
  found: boolean;
  output: string;
}

/** Runs a service manager command (systemctl, launchctl) and keeps what it said. */
export function runTool(program: string, args: string[]): CommandResult {
  const r = spawnSync(program, args, { encoding: 'utf8', timeout: 20_000 });
  const command = [program, ...args].join(' ');
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    return { command, ok: false, found: !missing, output: missing ? `${program} is not installed` : r.error.message };
  }
  return { command, ok: r.status === 0, found: true, output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

/** systemctl --user as the Linux service manager: enable/disable work on the unit files even when the user manager is not running. */
export const systemctl = (...args: string[]): CommandResult => runTool('systemctl', ['--user', ...args]);
export const launchctl = (...args: string[]): CommandResult => runTool('launchctl', args);

/** systemd's user manager could not be reached (no session bus: a container, WSL without systemd, ssh without lingering). */
export function noUserManager(r: CommandResult): boolean {
  return !r.ok && (!r.found || /Failed to connect to bus|DBUS_SESSION_BUS_ADDRESS|XDG_RUNTIME_DIR|No medium found/i.test(r.output));
}

export interface ManagerState {
  /** What the service manager says, in a few words. */
  summary: string;
  /** The server process the manager runs, when it says. */
  pid: number | null;
}

/** What the service manager says about the service: enabled or loaded, running, main pid. */
export function managerState(platform: Platform, uid: number): ManagerState {
  if (platform === 'linux') {
    const enabled = systemctl('is-enabled', SYSTEMD_UNIT);
    if (!enabled.found) return { summary: 'systemctl is not installed', pid: null };
    const enabledWord = /^(enabled|disabled|static|masked|linked|indirect|generated|alias)/.exec(enabled.output)?.[1] ?? 'not known to systemd';
    const active = systemctl('is-active', SYSTEMD_UNIT);
    if (noUserManager(active)) return { summary: `${enabledWord}; running or not is unknown: systemd's user manager is not reachable (${firstLine(active.output)})`, pid: null };
    const main = Number(systemctl('show', '--property', 'MainPID', '--value', SYSTEMD_UNIT).output.trim());
    return { summary: `${enabledWord}, ${firstLine(active.output) || 'unknown'}`, pid: Number.isInteger(main) && main > 0 ? main : null };
  }
  if (platform === 'macos') {
    const printed = launchctl('print', `gui/${uid}/${LAUNCHD_LABEL}`);
    if (!printed.found) return { summary: 'launchctl is not available', pid: null };
    if (!printed.ok) return { summary: 'not loaded', pid: null };
    const state = /^\s*state = (.+)$/m.exec(printed.output)?.[1] ?? 'loaded';
    const pid = Number(/^\s*pid = (\d+)$/m.exec(printed.output)?.[1] ?? NaN);
    return { summary: `loaded, ${state}`, pid: Number.isInteger(pid) ? pid : null };
  }
  return { summary: 'ask Task Scheduler with the command below', pid: null };
}

function firstLine(text: string): string {
  return text.split('\n')[0]?.trim() ?? '';
}

/** Is the compiled code the entry point needs there (bin/token-api.js runs dist/cli/main.js)? */
export function compiledCodeMissing(entry: string): boolean {
  return !existsSync(join(entry, '..', '..', 'dist', 'cli', 'main.js'));
}
