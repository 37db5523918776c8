// GET /api/status: the service's state and configuration in one answer, composed from what each
// subsystem reports (version, uptime, the machine, the data directory, the hooks installed for
// Claude Code and Codex, speech and sound, notifications waiting, jobs, metrics, Obsidian).
// Hooks are read from the agents' own settings files at each call (by the reader the command line
// gives: src/cli/install/installed-hooks.ts), so the answer is what they say now.
import { existsSync, statSync } from 'node:fs';
import { arch, cpus, hostname, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import type { InstalledHooks, StatusAnswer } from '../protocol/status.js';

export interface StatusDeps {
  version: string;
  startedAt: number;
  now: () => number;
  config: () => Config;
  /** The hooks installed for Claude Code and Codex as their files say now; null when not known here. */
  hooks: () => InstalledHooks | null;
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
  jobs: () => StatusAnswer['jobs'];
  metrics: () => number;
}

export function statusView(d: StatusDeps): StatusAnswer {
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
    hooks: d.hooks(),
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

