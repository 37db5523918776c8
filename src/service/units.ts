// The text of the service definitions that start `token-api serve` at login: a systemd user
// unit (Linux), a launchd agent (macOS), and the Task Scheduler commands (Windows, in
// PowerShell). Pure functions of a ServiceSpec; src/service/manager.ts writes and loads them.

export const SERVICE_NAME = 'token-api';
export const SYSTEMD_UNIT = `${SERVICE_NAME}.service`;
export const LAUNCHD_LABEL = `local.${SERVICE_NAME}`;
export const WINDOWS_TASK = SERVICE_NAME;

export type Platform = 'linux' | 'macos' | 'windows';

export interface ServiceSpec {
  /** The Node that runs token-api (process.execPath). */
  node: string;
  /** Node's own options, before the entry point (src/service/heap.ts). */
  nodeFlags?: readonly string[];
  /** token-api's entry point (bin/token-api.js). */
  entry: string;
  /** Arguments after the entry point: serve --log-file-only --home ... */
  args: string[];
  /** Environment the server needs (PATH, so that it finds speech and sound players). */
  env: Record<string, string>;
  /** Seconds the service manager waits after SIGTERM before it kills the server. */
  stopTimeoutSeconds: number;
  /** Where launchd writes the server's stdout and stderr. */
  logDir: string;
  version: string;
}

export class UnitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnitError';
  }
}

function noNewlines(what: string, value: string): string {
  if (/[\n\r\0]/.test(value)) throw new UnitError(`${what} contains a line break or NUL, which a service definition cannot hold: ${JSON.stringify(value)}`);
  return value;
}

// ---- systemd ----

/** One ExecStart word: quoted when needed; `%` and `$` doubled (systemd specifiers, variables). */
export function systemdWord(word: string): string {
  noNewlines('an argument', word);
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_@+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function systemdEnv(name: string, value: string): string {
  noNewlines(`the environment variable ${name}`, value);
  const v = `${name}=${value}`.replace(/%/g, '%%').replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return `Environment="${v}"`;
}

export function systemdUnit(spec: ServiceSpec): string {
  const exec = [spec.node, ...(spec.nodeFlags ?? []), spec.entry, ...spec.args].map(systemdWord).join(' ');
  const env = Object.entries(spec.env).map(([k, v]) => systemdEnv(k, v));
  return [
    `# Written by \`token-api service install\` (token-api ${spec.version}); \`token-api service uninstall\` removes it.`,
    '# Running `token-api service install` again rewrites it.',
    '[Unit]',
    'Description=token-api: local control plane for AI coding agents',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec}`,
    ...env,
    'Restart=on-failure',
    'RestartSec=5',
    'KillSignal=SIGTERM',
    'KillMode=mixed',
    `TimeoutStopSec=${spec.stopTimeoutSeconds}`,
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
}

// ---- launchd ----

function xml(text: string): string {
  noNewlines('a value', text);
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function launchdPlist(spec: ServiceSpec): string {
  const args = [spec.node, ...(spec.nodeFlags ?? []), spec.entry, ...spec.args].map((a) => `    <string>${xml(a)}</string>`);
  const env = Object.entries(spec.env).flatMap(([k, v]) => [`    <key>${xml(k)}</key>`, `    <string>${xml(v)}</string>`]);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    `<!-- Written by token-api service install (token-api ${xml(spec.version)}); token-api service uninstall removes it. -->`,
    '<plist version="1.0">',
    '<dict>',
    '  <key>Label</key>',
    `  <string>${LAUNCHD_LABEL}</string>`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...args,
    '  </array>',
    '  <key>EnvironmentVariables</key>',
    '  <dict>',
    ...env,
    '  </dict>',
    '  <key>RunAtLoad</key>',
    '  <true/>',
    '  <key>KeepAlive</key>',
    '  <dict>',
    '    <key>SuccessfulExit</key>',
    '    <false/>',
    '  </dict>',
    '  <key>ExitTimeOut</key>',
    `  <integer>${spec.stopTimeoutSeconds}</integer>`,
    '  <key>StandardOutPath</key>',
    `  <string>${xml(`${spec.logDir}/service.out.log`)}</string>`,
    '  <key>StandardErrorPath</key>',
    `  <string>${xml(`${spec.logDir}/service.err.log`)}</string>`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}

// ---- Windows Task Scheduler (PowerShell) ----

/** A PowerShell single-quoted literal. */
export function psLiteral(text: string): string {
  return `'${noNewlines('a value', text).replace(/'/g, "''")}'`;
}

/** One argument on a Windows command line (the rules CommandLineToArgvW and the C runtime read). */
export function windowsArg(arg: string): string {
  noNewlines('an argument', arg);
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  let out = '"';
  let slashes = 0;
  for (const ch of arg) {
    if (ch === '\\') {
      slashes++;
      continue;
    }
    if (ch === '"') out += '\\'.repeat(slashes * 2 + 1) + '"';
    else out += '\\'.repeat(slashes) + ch;
    slashes = 0;
  }
  return `${out}${'\\'.repeat(slashes * 2)}"`;
}

export interface WindowsCommands {
  install: string[];
  uninstall: string[];
  status: string[];
}

export function windowsTask(spec: ServiceSpec): WindowsCommands {
  const argument = [...(spec.nodeFlags ?? []), spec.entry, ...spec.args].map(windowsArg).join(' ');
  const task = psLiteral(WINDOWS_TASK);
  return {
    install: [
      `$action = New-ScheduledTaskAction -Execute ${psLiteral(spec.node)} -Argument ${psLiteral(argument)}`,
      '$trigger = New-ScheduledTaskTrigger -AtLogOn -User $env:USERNAME',
      // No three-day run limit (the default), restarted after a crash, on battery too.
      '$settings = New-ScheduledTaskSettingsSet -ExecutionTimeLimit ([TimeSpan]::Zero) -RestartCount 3 -RestartInterval (New-TimeSpan -Minutes 1) -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries',
      `Register-ScheduledTask -TaskName ${task} -Action $action -Trigger $trigger -Settings $settings -Description ${psLiteral(`token-api ${spec.version}: local control plane for AI coding agents`)} -Force`,
      `Start-ScheduledTask -TaskName ${task}`,
    ],
    uninstall: [`Stop-ScheduledTask -TaskName ${task}`, `Unregister-ScheduledTask -TaskName ${task} -Confirm:$false`],
    status: [`Get-ScheduledTask -TaskName ${task} | Get-ScheduledTaskInfo`],
  };
}
