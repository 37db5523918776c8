// GET /api/status: the service's state and configuration in one answer, composed from what each
// subsystem reports (version, uptime, the machine, the data directory, the hooks installed for
// Claude Code and Codex, speech and sound, notifications waiting, jobs, metrics, Obsidian).
// Hooks are read from the agents' own settings files at each call, so the answer is what they
// say now; a file that cannot be read is reported, never a failure of the request.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { arch, cpus, homedir, hostname, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { hookStatus, HOOK_EVENTS, parseSettings } from '../install/claude-settings.js';
import { notifyStatus } from '../install/codex-config.js';

export interface StatusDeps {
  version: string;
  startedAt: number;
  now: () => number;
  config: () => Config;
  /** Claude Code's user settings file (`$CLAUDE_CONFIG_DIR/settings.json`, else ~/.claude/settings.json). */
  claudeSettingsFile: string;
  databaseOk: () => boolean;
  notifications: () => {
    speech: { engine: string | null; available: boolean; problem: string | null };
    sound: { player: string | null; available: boolean; problem: string | null };
    waiting_intents: number;
    audio_queue?: number;
    webhooks?: { pending: number; in_flight: number };
  };
  instances: () => Record<string, number>;
  mode: () => { mode: string; focus: boolean };
  jobs: () => unknown;
  metrics: () => number;
}

/** Where Claude Code keeps the user's settings. */
export function claudeSettingsFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.CLAUDE_CONFIG_DIR?.split(',')[0]?.trim() || join(homedir(), '.claude'), 'settings.json');
}

function claudeHooks(file: string) {
  if (!existsSync(file)) return { settings: file, installed: false, mode: null, events: [] as string[], missing: [...HOOK_EVENTS], problem: 'no settings file (token-api hooks install writes one)' };
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
    return { settings: file, installed: false, mode: null, events: [] as string[], missing: [...HOOK_EVENTS], problem: (err as Error).message };
  }
}

function codexNotify(file: string) {
  if (!existsSync(file)) return { config: file, notify: 'none' as const, problem: null };
  try {
    return { config: file, notify: notifyStatus(readFileSync(file, 'utf8'), file).state, problem: null };
  } catch (err) {
    return { config: file, notify: 'none' as const, problem: (err as Error).message };
  }
}

export function statusView(d: StatusDeps) {
  const c = d.config();
  const now = d.now();
  const n = d.notifications();
  const size = (f: string) => (existsSync(f) ? statSync(f).size : null);
  return {
    service: 'token-api',
    version: d.version,
    status: d.databaseOk() ? 'ok' : 'degraded',
    started_at: new Date(d.startedAt).toISOString(),
    uptime_s: Math.round((now - d.startedAt) / 1000),
    pid: process.pid,
    machine: { hostname: hostname(), platform: platform(), arch: arch(), release: release(), node: process.version, cpus: cpus().length, memory_bytes: totalmem(), local_device: c.localDevice },
    listening: { host: c.host, port: c.port },
    data: { home: c.home, database: c.databaseFile, database_bytes: size(c.databaseFile), config_file: c.configFile, config_file_exists: existsSync(c.configFile), log_file: c.logFile },
    hooks: { claude: claudeHooks(d.claudeSettingsFile), codex: codexNotify(join(c.codex.home, 'config.toml')) },
    codex: { watched: c.codex.enabled, home: c.codex.home, sessions: join(c.codex.home, 'sessions') },
    speech: { engine: n.speech.engine, available: n.speech.available, problem: n.speech.problem },
    sound: { player: n.sound.player, available: n.sound.available, problem: n.sound.problem },
    notifications: { waiting_intents: n.waiting_intents, audio_queue: n.audio_queue ?? 0, webhooks_pending: n.webhooks?.pending ?? 0, webhooks_in_flight: n.webhooks?.in_flight ?? 0 },
    mode: d.mode(),
    instances: d.instances(),
    jobs: d.jobs(),
    metrics: { keys: d.metrics(), max_keys: c.metrics.maxKeys },
    obsidian: { configured: c.obsidian.apiKey !== null, url: c.obsidian.url, vault: c.obsidian.vault, eval_enabled: c.obsidian.evalEnabled },
    usage: { timezone: c.usageTimezone, scan_interval_minutes: c.usageScanIntervalMs / 60_000 },
  };
}

export type StatusView = ReturnType<typeof statusView>;
