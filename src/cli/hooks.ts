// `token-api hooks install | uninstall | status | doctor`: puts token-api's hooks into Claude
// Code's settings (and its notify into Codex's config.toml with --codex), takes exactly them
// out again, shows what is hooked, and checks the whole chain. Files are changed only
// atomically, after a timestamped backup, and never when they cannot be read safely.
import { join, resolve } from 'node:path';
import type { Config } from '../config/config.js';
import { entryUrl, formatSettings, hookStatus, installHooks, parseSettings, uninstallHooks, type HookMode } from './install/claude-settings.js';
import { installNotify, notifyStatus, uninstallNotify, NOTIFY_SUBCOMMAND } from './install/codex-config.js';
import { assertWritable, backupFile, InstallError, readSettingsText, writeAtomically } from './install/settings-file.js';
import { BIN_PATH, claudeDir, configFrom, DEFAULT_URL, defaultHome, HOOK_SCRIPT_PATH, locateServer } from './common.js';
import { runDoctor } from './doctor.js';

type Values = Record<string, string | boolean | undefined>;

class HooksUsageError extends Error {}

export const HOOKS_USAGE = `token-api hooks <install|uninstall|status|doctor> [options]

  install     add token-api's hooks to Claude Code's settings: every event it uses, each
              entry marked as token-api's, the person's own entries kept in order.
              Idempotent; writes a timestamped backup, then the file atomically.
  uninstall   remove exactly token-api's entries, nothing else
  status      which events are hooked, and how (the hook script, or native http)
  doctor      check that token-api answers, the hook script runs, which events arrived
              and when, the spool, the hook log; and say what to do about each problem

Options:
  --settings PATH       Claude Code settings file (default $CLAUDE_CONFIG_DIR/settings.json,
                        that is ~/.claude/settings.json)
  --project             the project's .claude/settings.json, in the current directory
  --mode command|http   install: command (default) runs hooks/token-api-hook.sh, which spools
                        events while token-api is down; http lets Claude Code POST them itself
                        (no process per event, but nothing is kept while token-api is down).
                        SessionStart stays a command hook either way.
  --codex               install/uninstall/status: also token-api's notify program in Codex's
                        config.toml ($CODEX_HOME/config.toml, default ~/.codex/config.toml)
  --codex-config PATH   that file elsewhere
  --dry-run             install/uninstall: say what would change, write nothing
  --url URL             the token-api server (default: TOKEN_API_URL, else TOKEN_API_HOST/PORT,
                        else the server running on this data directory (its lock file), else
                        the config file's host and port, else http://127.0.0.1:7777)
  --home DIR            token-api's data directory (default ~/.token-api; env TOKEN_API_HOME)
  --config FILE         token-api's config file
  -h, --help            this help

install writes the server's URL (found as --url says) into each entry when it is not the
default; status and doctor say where the installed entries send and where token-api runs,
and what to do when the two differ.`;

function settingsPath(values: Values): string {
  if (typeof values.settings === 'string' && values.project) throw new HooksUsageError('use --settings PATH or --project, not both');
  if (typeof values.settings === 'string') return resolve(values.settings);
  if (values.project) return join(process.cwd(), '.claude', 'settings.json');
  return join(claudeDir(), 'settings.json');
}

function codexConfigPath(values: Values, config: Config): string {
  return typeof values['codex-config'] === 'string' ? resolve(values['codex-config']) : join(config.codex.home, 'config.toml');
}

function hookEnv(config: Config, url: string): Record<string, string> {
  const env: Record<string, string> = {};
  if (config.home !== defaultHome()) env.TOKEN_API_HOME = config.home;
  if (url !== DEFAULT_URL) env.TOKEN_API_URL = url;
  return env;
}

const serverOf = (values: Values, config: Config) => locateServer(config, { flag: typeof values.url === 'string' ? values.url : undefined });

/** The notify command Codex runs: this token-api's own entry point, with its data directory if not the default. */
function notifyCommand(config: Config): string[] {
  return [process.execPath, BIN_PATH, NOTIFY_SUBCOMMAND, ...(config.home !== defaultHome() ? ['--home', config.home] : [])];
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function install(values: Values): void {
  const config = configFrom(values);
  const mode = (values.mode ?? 'command') as HookMode;
  if (mode !== 'command' && mode !== 'http') throw new HooksUsageError(`--mode must be command or http, got "${String(values.mode)}"`);
  const path = settingsPath(values);
  const file = readSettingsText(path);
  const parsed = parseSettings(file.text, path);
  const server = serverOf(values, config);
  const url = server.url;
  const { settings, changed } = installHooks(parsed.value, { mode, scriptPath: HOOK_SCRIPT_PATH, url, env: hookEnv(config, url), withToken: Boolean(process.env.TOKEN_API_TOKEN), approvalTimeoutSeconds: Math.round(config.approvals.timeoutMs / 1000) });
  out(`token-api is at ${url} (from ${server.how})`);
  if (changed.length === 0) out(`${path}: token-api's hooks are already installed (${mode}); nothing changed`);
  else if (values['dry-run']) out(`${path}: would add or update token-api's hook for ${changed.join(', ')} (dry run: nothing written)`);
  else {
    assertWritable(file);
    const backup = backupFile(file);
    writeAtomically(file, formatSettings(settings, parsed));
    out(`${path}: token-api hooks ${mode === 'http' ? 'installed as native http hooks (SessionStart keeps the hook script)' : 'installed (hook script)'} for ${changed.join(', ')}`);
    if (backup) out(`  backup of the previous file: ${backup}`);
    out('  Claude Code reads hooks when a session starts: restart running sessions to use them.');
    if (mode === 'http') out('  Note: native http hooks are lost while token-api is down (no spool).');
  }
  if (values.codex) installCodex(values, config);
}

function installCodex(values: Values, config: Config): void {
  const path = codexConfigPath(values, config);
  const file = readSettingsText(path);
  const r = installNotify(file.text, path, notifyCommand(config));
  if (!r.changed) return out(`${path}: Codex notify already runs token-api; nothing changed`);
  if (values['dry-run']) return out(`${path}: would set notify to token-api's codex-notify (dry run: nothing written)`);
  assertWritable(file);
  const backup = backupFile(file);
  writeAtomically(file, r.text);
  out(`${path}: Codex notify now runs token-api codex-notify${r.kept ? ` (then your own: ${r.kept.join(' ')})` : ''}`);
  if (backup) out(`  backup of the previous file: ${backup}`);
}

function uninstall(values: Values): void {
  const config = configFrom(values);
  const path = settingsPath(values);
  const file = readSettingsText(path);
  if (!file.exists) out(`${path}: no such file; nothing to remove`);
  else {
    const parsed = parseSettings(file.text, path);
    const { settings, changed } = uninstallHooks(parsed.value);
    if (changed.length === 0) out(`${path}: no token-api hooks; nothing changed`);
    else if (values['dry-run']) out(`${path}: would remove token-api's hook from ${changed.join(', ')} (dry run: nothing written)`);
    else {
      assertWritable(file);
      const backup = backupFile(file);
      writeAtomically(file, formatSettings(settings, parsed));
      out(`${path}: removed token-api's hooks from ${changed.join(', ')}`);
      if (backup) out(`  backup of the previous file: ${backup}`);
    }
  }
  if (values.codex) {
    const cpath = codexConfigPath(values, config);
    const cfile = readSettingsText(cpath);
    const r = uninstallNotify(cfile.text, cpath);
    if (!r.changed) out(`${cpath}: Codex notify is not token-api's; nothing changed`);
    else if (values['dry-run']) out(`${cpath}: would remove token-api's notify (dry run: nothing written)`);
    else {
      assertWritable(cfile);
      const backup = backupFile(cfile);
      writeAtomically(cfile, r.text);
      out(`${cpath}: removed token-api's notify${r.kept ? `; your own is back: ${r.kept.join(' ')}` : ''}`);
      if (backup) out(`  backup of the previous file: ${backup}`);
    }
  }
}

function status(values: Values): void {
  const config = configFrom(values);
  const path = settingsPath(values);
  const file = readSettingsText(path);
  out(path + (file.exists ? '' : ' (no such file)'));
  const rows = hookStatus(parseSettings(file.text, path).value);
  const width = Math.max(...rows.map((r) => r.event.length));
  for (const r of rows) {
    const how = r.tokenApi === 'none' ? '-' : `token-api (${r.tokenApi === 'http' ? 'native http' : 'hook script'})`;
    out(`  ${r.event.padEnd(width)}  ${how.padEnd(28)}${r.others ? `  ${r.others} other hook${r.others > 1 ? 's' : ''}` : ''}`.trimEnd());
  }
  const hooked = rows.filter((r) => r.tokenApi !== 'none').length;
  const server = serverOf(values, config);
  if (hooked === 0) out('token-api is not hooked here: run `token-api hooks install`.');
  else {
    const installed = [...new Set(rows.map(entryUrl).filter((u): u is string => u !== null))];
    out(`${hooked} event(s) are hooked; the entries send to ${installed.join(' and ')}.`);
    out(`token-api is at ${server.url} (from ${server.how}).`);
    const elsewhere = installed.filter((u) => u !== server.url);
    if (elsewhere.length > 0) {
      out(`Warning: the hooks send to ${elsewhere.join(' and ')}, not to the server at ${server.url}: their events do not reach it.`);
      out(`  Fix: run \`token-api hooks install${server.source === 'flag' ? ` --url ${server.url}` : ''}\` again (it rewrites token-api's entries), then restart running Claude Code sessions.`);
    }
  }
  const cpath = codexConfigPath(values, config);
  const cfile = readSettingsText(cpath);
  if (cfile.exists || values.codex) {
    const n = notifyStatus(cfile.text, cpath);
    out(`Codex ${cpath}: notify ${n.state === 'token-api' ? 'runs token-api codex-notify' : n.state === 'other' ? `runs another program (${n.command!.join(' ')})` : 'is not set'}`);
  }
  out(`Codex rollout watcher: ${config.codex.enabled ? `on, reading ${join(config.codex.home, 'sessions')}` : 'off (codex.enabled is false)'}`);
}

export const hooksCommand = {
  summary: 'install, remove, show and check the Claude Code hooks (and Codex notify)',
  usage: HOOKS_USAGE,
  options: {
    home: { type: 'string' },
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    settings: { type: 'string' },
    project: { type: 'boolean' },
    mode: { type: 'string' },
    codex: { type: 'boolean' },
    'codex-config': { type: 'string' },
    'dry-run': { type: 'boolean' },
    url: { type: 'string' },
  },
  async run(values: Values, positionals: string[]): Promise<number> {
    const [sub, ...extra] = positionals;
    try {
      if (extra.length > 0) throw new HooksUsageError(`unexpected argument "${extra[0]}"`);
      switch (sub) {
        case 'install':
          install(values);
          return 0;
        case 'uninstall':
          uninstall(values);
          return 0;
        case 'status':
          status(values);
          return 0;
        case 'doctor':
          return await runDoctor(configFrom(values), { settingsPath: settingsPath(values), out, url: typeof values.url === 'string' ? values.url : undefined });
        case undefined:
          throw new HooksUsageError('which one? install, uninstall, status or doctor');
        default:
          throw new HooksUsageError(`unknown subcommand "${sub}"`);
      }
    } catch (err) {
      if (err instanceof HooksUsageError) {
        process.stderr.write(`token-api hooks: ${err.message}\n\n${HOOKS_USAGE}\n`);
        return 2;
      }
      if (err instanceof InstallError) {
        process.stderr.write(`token-api hooks ${sub}: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  },
} as const;
