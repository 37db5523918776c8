// The hooks installed for Claude Code and Codex, read from their settings files as they are at
// the time of asking (GET /api/status shows them; `serve` hands this reader to the server, which
// sits below the command line and does not read these formats itself). A file that is missing or
// cannot be read is reported in words, never thrown.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../config/config.js';
import type { InstalledHooks } from '../../protocol/status.js';
import { hookStatus, HOOK_EVENTS, parseSettings } from './claude-settings.js';
import { notifyStatus } from './codex-config.js';

/** Where Claude Code keeps the user's settings: `$CLAUDE_CONFIG_DIR/settings.json`, else ~/.claude/settings.json. */
export function claudeSettingsFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.CLAUDE_CONFIG_DIR?.split(',')[0]?.trim() || join(homedir(), '.claude'), 'settings.json');
}

function claudeHooks(file: string): InstalledHooks['claude'] {
  if (!existsSync(file)) return { settings: file, installed: false, mode: null, events: [], missing: [...HOOK_EVENTS], problem: 'no settings file (token-api hooks install writes one)' };
  try {
    const status = hookStatus(parseSettings(readFileSync(file, 'utf8'), file).value).filter((s) => (HOOK_EVENTS as readonly string[]).includes(s.event));
    const hooked = status.filter((s) => s.tokenApi !== 'none');
    const modes = new Set(hooked.map((s) => s.tokenApi));
    return {
      settings: file,
      installed: hooked.length === HOOK_EVENTS.length,
      mode: modes.size === 0 ? null : modes.size === 1 ? [...modes][0]! : 'mixed',
      events: hooked.map((s) => s.event),
      missing: status.filter((s) => s.tokenApi === 'none').map((s) => s.event),
      problem: hooked.length === 0 ? 'token-api is not hooked (token-api hooks install)' : hooked.length < HOOK_EVENTS.length ? 'some events are not hooked (token-api hooks install adds them)' : null,
    };
  } catch (err) {
    return { settings: file, installed: false, mode: null, events: [], missing: [...HOOK_EVENTS], problem: (err as Error).message };
  }
}

function codexNotify(file: string): InstalledHooks['codex'] {
  if (!existsSync(file)) return { config: file, notify: 'none', problem: null };
  try {
    return { config: file, notify: notifyStatus(readFileSync(file, 'utf8'), file).state, problem: null };
  } catch (err) {
    return { config: file, notify: 'none', problem: (err as Error).message };
  }
}

/** The hooks as the files say now; Claude Code's settings file is found from the environment at each call. */
export function readInstalledHooks(config: Pick<Config, 'codex'>, env: NodeJS.ProcessEnv = process.env): InstalledHooks {
  return { claude: claudeHooks(claudeSettingsFile(env)), codex: codexNotify(join(config.codex.home, 'config.toml')) };
}
