// One typed, validated Config from defaults < config file < environment < command-line flags.
// The config file is JSON (`$TOKEN_API_HOME/config.json`, or `--config PATH`); every key is
// optional and documented with its default in docs/configuration.md.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { fieldsInWords, parseInWords } from '../lib/validation-words.js';
import { notificationsConfig, notificationsFileSchema, type NotificationsConfig } from './notifications.js';
import { fleetFileKeys, resolveFleetConfig, type FleetConfig } from './fleet.js';
import { modeGateFileKeys, modeGateProblems, resolveModeGateConfig, type ModeGateConfig } from './mode-gate.js';
import { pricingOverridesSchema, type Price } from './price-schema.js';
import { approvalsFileKeys, approvalsProblems, resolveApprovalsConfig, type ApprovalsConfig } from './approvals.js';
import { isValidTimeZone } from '../lib/timezone.js';
import { resolveSessionsConfig, sessionsFileKeys, sessionsProblems, type SessionsConfig } from './sessions.js';
import { cronFileSchema, cronSettings, type CronSettings } from './cron.js';
import { metricsFileSchema, metricsSettings, type MetricsSettings } from './metrics.js';
import { obsidianFileSchema, obsidianSettings, type ObsidianSettings } from './obsidian.js';

export const DEVICE_TYPES = ['local', 'mobile', 'laptop', 'remote'] as const;

/** A device's fields other than its id; in the config file and a registration each may be left out. */
export const deviceFieldsSchema = z.strictObject({
  name: z.string().min(1).max(200),
  type: z.enum(DEVICE_TYPES),
  tailscale_ip: z.union([z.ipv4(), z.ipv6()], { error: 'an IPv4 or IPv6 address' }).nullable(),
  notification_method: z.string().max(64).nullable(),
  webhook_url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).max(2048).nullable(),
  tts_engine: z.string().max(64).nullable(),
});

export const deviceIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a device id of letters, digits, dot, dash or underscore');

/** A device in the config file or in POST /api/devices/register: its id and any of its fields. */
export const deviceSchema = deviceFieldsSchema.partial().extend({ id: deviceIdSchema });

export type DeviceConfig = z.infer<typeof deviceSchema>;

const DEFAULT_VOICES = ['Microsoft Zira Desktop', 'Microsoft David Desktop', 'en-us', 'en-gb'];
const DEFAULT_SOUNDS = ['chimes.wav', 'notify.wav', 'ding.wav', 'tada.wav'];
const DEFAULT_COLORS = ['#0099ff', '#ff9900', '#33cc66', '#cc66ff', '#ff3366', '#00cccc', '#cccc00', '#ff66cc'];

/** The config file's schema: every key optional, unknown keys refused (PUT /api/config checks with it too). */
export const configFileSchema = z
  .object({
    host: z.string().min(1).optional(),
    port: z.number().int().min(0).max(65535).optional(),
    log_level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional(),
    database: z.string().min(1).optional(),
    sqlite_synchronous: z.enum(['OFF', 'NORMAL', 'FULL', 'EXTRA']).optional(),
    local_device: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional(),
    devices: z.array(deviceSchema).optional(),
    profiles: z
      .object({
        voices: z.array(z.string().min(1)).min(1).optional(),
        sounds: z.array(z.string().min(1)).min(1).optional(),
        colors: z.array(z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour like #0099ff')).min(1).optional(),
      })
      .strict()
      .optional(),
    instance_expiry_minutes: z.number().positive().max(60 * 24 * 365).optional(),
    name_reuse_minutes: z.number().min(0).max(60 * 24 * 30).optional(),
    process_check_seconds: z.number().positive().max(3600).optional(),
    hook_body_limit_bytes: z.number().int().positive().optional(),
    body_limit_bytes: z.number().int().positive().optional(),
    event_details_max_bytes: z.number().int().min(256).optional(),
    event_retention_days: z.number().min(0).max(36_500).optional(),
    hook_spool_max_bytes: z.number().int().positive().optional(),
    hook_spool_drain_seconds: z.number().min(0).max(3600).optional(),
    codex: z
      .object({
        enabled: z.boolean().optional(),
        home: z.string().min(1).optional(),
        idle_minutes: z.number().positive().max(24 * 60).optional(),
        stop_after_minutes: z.number().positive().max(7 * 24 * 60).optional(),
        poll_seconds: z.number().positive().max(3600).optional(),
      })
      .strict()
      .optional(),
    notifications: notificationsFileSchema.optional(),
    ...modeGateFileKeys,
    ...fleetFileKeys,
    ...sessionsFileKeys,
    ...approvalsFileKeys,
    usage_timezone: z.string().refine(isValidTimeZone, 'an IANA time zone such as UTC or Europe/Paris').optional(),
    usage_claude_dirs: z.array(z.string().min(1)).optional(),
    usage_codex_dirs: z.array(z.string().min(1)).optional(),
    usage_scan_interval_minutes: z.number().min(0).max(24 * 60).optional(),
    usage_live_interval_seconds: z.number().min(0).max(3600).optional(),
    usage_pricing: pricingOverridesSchema.optional(),
    usage_body_limit_bytes: z.number().int().positive().optional(),
    log_max_bytes: z.number().int().min(1024).optional(),
    log_max_files: z.number().int().min(1).max(100).optional(),
    shutdown_grace_seconds: z.number().min(0).max(600).optional(),
    websocket: z
      .object({
        ping_seconds: z.number().positive().max(3600).optional(),
        history: z.number().int().min(1).max(1_000_000).optional(),
        max_buffered_bytes: z.number().int().min(1024).optional(),
        slow_client_seconds: z.number().positive().max(3600).optional(),
        snapshot_interval_seconds: z.number().min(0).max(3600).optional(),
        max_clients: z.number().int().min(1).max(100_000).optional(),
        event_details_max_bytes: z.number().int().min(256).optional(),
        max_message_bytes: z.number().int().min(1024).max(16 * 1024 * 1024).optional(),
      })
      .strict()
      .optional(),
    tls: z
      .object({ cert_file: z.string().min(1), key_file: z.string().min(1) })
      .strict()
      .optional(),
    relay: z
      .object({
        url: z.url({ protocol: /^(https?|wss?)$/, error: 'an https://, wss://, http:// or ws:// URL' }).max(2048),
        room: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a room name of lowercase letters, digits, dot, dash or underscore'),
        key_file: z.string().min(1).optional(),
        ca_file: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    cron: cronFileSchema.optional(),
    obsidian: obsidianFileSchema.optional(),
    metrics: metricsFileSchema.optional(),
    web: z
      .object({
        public_url: z
          .string()
          .regex(/^https?:\/\/[^/?#\s]+\/?$/, 'the address browsers use to reach token-api, such as https://desktop.tailnet.ts.net (scheme and host, no path)')
          .optional(),
        session_days: z.number().positive().max(365).optional(),
        link_minutes: z.number().positive().max(24 * 60).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type ConfigFile = z.infer<typeof configFileSchema>;
export type { NotificationChannel, NotificationsConfig } from './notifications.js';

export interface Config {
  home: string;
  configFile: string;
  host: string;
  port: number;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  logFile: string;
  databaseFile: string;
  sqliteSynchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA';
  localDevice: string;
  devices: DeviceConfig[];
  profiles: { voices: string[]; sounds: string[]; colors: string[] };
  instanceExpiryMs: number;
  /** A stopped instance's display number is not given to another for this long. */
  nameReuseMs: number;
  processCheckMs: number;
  hookBodyLimitBytes: number;
  bodyLimitBytes: number;
  eventDetailsMaxBytes: number;
  /** Events older than this are deleted (0: kept forever). */
  eventRetentionMs: number;
  /** Where the hook script spools events while the server cannot be reached. */
  spoolDir: string;
  /** The hook script's own log of failures. */
  hookLogFile: string;
  /** Largest spool upload accepted by POST /api/hooks/spool. */
  hookSpoolMaxBytes: number;
  /** How often the server replays this machine's spool while it runs (0: only at start-up). */
  hookSpoolDrainMs: number;
  /** stopAfterMs: a Codex instance whose rollout is quiet this long is stopped (reason idle), quietly. */
  codex: { enabled: boolean; home: string; idleMs: number; stopAfterMs: number; pollMs: number };
  notifications: NotificationsConfig;
  /** The API token for callers beyond loopback (created on first start, mode 0600). */
  tokenFile: string;
  /** Work mode and productivity gate (src/config/mode-gate.ts). */
  modes: ModeGateConfig['modes'];
  defaultMode: ModeGateConfig['defaultMode'];
  stateVariables: ModeGateConfig['stateVariables'];
  gateGraceMs: ModeGateConfig['gateGraceMs'];
  distractingApps: ModeGateConfig['distractingApps'];
  gateCheckNetworks: ModeGateConfig['gateCheckNetworks'];
  /** Permission requests held for a decision from anywhere (src/config/approvals.ts). */
  approvals: ApprovalsConfig;
  /** Days of usage reports are counted in this zone. */
  usageTimezone: string;
  /** Claude Code configuration directories (transcripts in their projects/). */
  usageClaudeDirs: string[];
  /** Codex home directories (rollouts in their sessions/). */
  usageCodexDirs: string[];
  /** Every transcript is rescanned this often (0: only at start and on demand). */
  usageScanIntervalMs: number;
  /** Transcripts of working instances are read this often (0: only after Stop). */
  usageLiveIntervalMs: number;
  usagePricing: Record<string, Price>;
  usageBodyLimitBytes: number;
  /** Managed sessions: the configured repositories and how agents are run (src/config/sessions.ts). */
  repos: SessionsConfig['repos'];
  accounts: SessionsConfig['accounts'];
  sessions: SessionsConfig['sessions'];
  /** The log file is rotated past this size; this many rotated files are kept. */
  logMaxBytes: number;
  logMaxFiles: number;
  /** On SIGTERM/SIGINT, requests in flight (and webhook deliveries) get this long to finish. */
  shutdownGraceMs: number;
  /** The live feed (`/ws`): pings, history for resumes, per-client buffer, limits. */
  /** Machines and the hub (src/config/fleet.ts). */
  fleet: FleetConfig;
  websocket: { pingMs: number; history: number; maxBufferedBytes: number; slowClientMs: number; snapshotIntervalMs: number; maxClients: number; eventDetailsMaxBytes: number; maxMessageBytes: number };
  /** Scheduled jobs: shell commands allowed or not, limits of a run (src/config/cron.ts). */
  cron: CronSettings;
  /** Obsidian's Local REST API plugin and the vault folder (src/config/obsidian.ts). */
  obsidian: ObsidianSettings;
  /** The metrics store's bounds (src/config/metrics.ts). */
  metrics: MetricsSettings;
  /** The web page: where browsers reach it (null: this server's own address), its sessions' and login links' lifetimes. */
  web: { publicUrl: string | null; sessionMs: number; linkMs: number };
  /** PEM certificate and key: serve speaks https and wss (null: plain http). */
  tls: { certFile: string; keyFile: string } | null;
  /** The relay this server connects to outbound (null: none); its server key is in keyFile or $TOKEN_API_RELAY_KEY. */
  relay: { url: string; room: string; keyFile: string; caFile: string | null; pairingsFile: string } | null;
}

export interface ConfigOverrides {
  home?: string;
  config?: string;
  host?: string;
  port?: number;
  logLevel?: Config['logLevel'];
  /** --tls-cert and --tls-key (both or neither). */
  tls?: { certFile: string; keyFile: string };
  /** serve --hub URL */
  hub?: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

/** A path from the config file: `~/` is the home folder; a relative path is taken from the current directory. */
export function resolveUserPath(p: string): string {
  return resolve(expandHome(p));
}

function readConfigFile(path: string, explicit: boolean): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) return {};
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const checked = checkConfigFile(raw);
  if (!checked.ok) throw new ConfigError(`config file ${path} is invalid:\n${checked.lines.map((l) => `  ${l}`).join('\n')}`);
  return checked.file;
}

/**
 * The config file's contents checked as the server checks them at start: the schema, then the
 * rules across keys (modes). Each problem by key, in words, and as the lines start-up prints.
 */
export function checkConfigFile(raw: unknown): { ok: true; file: ConfigFile } | { ok: false; problems: Record<string, string>; lines: string[] } {
  const parsed = parseInWords(configFileSchema, raw);
  const problems: Record<string, string> = {};
  const lines: string[] = [];
  if (!parsed.success) {
    for (const [key, words] of Object.entries(fieldsInWords(parsed.error))) {
      problems[key] = words.startsWith('is not a known field')
        ? `is not a setting token-api knows${/\(did you mean [^?]+\?\)/.exec(words)?.[0].replace(/^/, ' ') ?? ''}; docs/configuration.md lists them`
        : words;
      lines.push(`${key === '(root)' ? 'the file' : key} ${problems[key]}`);
    }
    return { ok: false, problems, lines };
  }
  for (const line of [...modeGateProblems(parsed.data), ...sessionsProblems(parsed.data), ...approvalsProblems(parsed.data)]) {
    const at = line.indexOf(': ');
    problems[line.slice(0, at)] = line.slice(at + 2);
    lines.push(line);
  }
  return lines.length > 0 ? { ok: false, problems, lines } : { ok: true, file: parsed.data };
}

/** Where Claude Code keeps its data: $CLAUDE_CONFIG_DIR (comma-separated), else ~/.config/claude and ~/.claude. */
function defaultClaudeDirs(env: NodeJS.ProcessEnv): string[] {
  const listed = (env.CLAUDE_CONFIG_DIR ?? '').split(',').map((d) => d.trim()).filter(Boolean);
  if (listed.length > 0) return listed;
  return [join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'claude'), join(homedir(), '.claude')];
}

const envPort = z.coerce.number().int().min(0).max(65535);
const envLevel = configFileSchema.shape.log_level.unwrap();

/** Resolve the whole configuration; throws ConfigError with a readable message. */
export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const home = resolve(expandHome(overrides.home ?? env.TOKEN_API_HOME ?? join(homedir(), '.token-api')));
  const explicitConfig = overrides.config ?? env.TOKEN_API_CONFIG;
  const configFile = explicitConfig ? resolve(expandHome(explicitConfig)) : join(home, 'config.json');
  const file = readConfigFile(configFile, explicitConfig !== undefined);

  let port = file.port ?? 7777;
  if (env.TOKEN_API_PORT !== undefined && env.TOKEN_API_PORT !== '') {
    const p = envPort.safeParse(env.TOKEN_API_PORT);
    if (!p.success) throw new ConfigError(`TOKEN_API_PORT must be a port number, got "${env.TOKEN_API_PORT}"`);
    port = p.data;
  }
  if (overrides.port !== undefined) port = overrides.port;

  let logLevel: Config['logLevel'] = file.log_level ?? 'info';
  if (env.TOKEN_API_LOG_LEVEL) {
    const l = envLevel.safeParse(env.TOKEN_API_LOG_LEVEL);
    if (!l.success) throw new ConfigError(`TOKEN_API_LOG_LEVEL must be one of ${envLevel.options.join(', ')}`);
    logLevel = l.data;
  }
  if (overrides.logLevel) logLevel = overrides.logLevel;

  const database = file.database ? expandHome(file.database) : 'token-api.db';
  const localDevice = file.local_device ?? 'desktop';
  const codexHome = resolve(expandHome(env.CODEX_HOME || file.codex?.home || join(homedir(), '.codex')));
  const devices = file.devices ?? [];

  return {
    home,
    configFile,
    host: overrides.host ?? env.TOKEN_API_HOST ?? file.host ?? '127.0.0.1',
    port,
    logLevel,
    logFile: join(home, 'logs', 'token-api.log'),
    databaseFile: isAbsolute(database) ? database : join(home, database),
    sqliteSynchronous: file.sqlite_synchronous ?? 'NORMAL',
    localDevice,
    devices,
    profiles: {
      voices: file.profiles?.voices ?? DEFAULT_VOICES,
      sounds: file.profiles?.sounds ?? DEFAULT_SOUNDS,
      colors: file.profiles?.colors ?? DEFAULT_COLORS,
    },
    instanceExpiryMs: (file.instance_expiry_minutes ?? 180) * 60_000,
    nameReuseMs: (file.name_reuse_minutes ?? 60) * 60_000,
    processCheckMs: (file.process_check_seconds ?? 20) * 1000,
    hookBodyLimitBytes: file.hook_body_limit_bytes ?? 4 * 1024 * 1024,
    bodyLimitBytes: file.body_limit_bytes ?? 256 * 1024,
    eventDetailsMaxBytes: file.event_details_max_bytes ?? 16 * 1024,
    eventRetentionMs: (file.event_retention_days ?? 30) * 86_400_000,
    spoolDir: join(home, 'spool'),
    hookLogFile: join(home, 'logs', 'hooks.log'),
    hookSpoolMaxBytes: file.hook_spool_max_bytes ?? 64 * 1024 * 1024,
    hookSpoolDrainMs: (file.hook_spool_drain_seconds ?? 5) * 1000,
    codex: {
      enabled: file.codex?.enabled ?? true,
      home: codexHome,
      idleMs: (file.codex?.idle_minutes ?? 5) * 60_000,
      stopAfterMs: (file.codex?.stop_after_minutes ?? 30) * 60_000,
      pollMs: (file.codex?.poll_seconds ?? 1) * 1000,
    },
    notifications: notificationsConfig(file.notifications, home, localDevice, file.profiles?.voices),
    tokenFile: join(home, 'token'),
    ...resolveModeGateConfig(file),
    ...resolveSessionsConfig(file),
    ...resolveApprovalsConfig(file),
    usageTimezone: file.usage_timezone ?? 'UTC',
    usageClaudeDirs: (file.usage_claude_dirs ?? defaultClaudeDirs(env)).map((d) => resolve(expandHome(d))),
    usageCodexDirs: file.usage_codex_dirs?.map((d) => resolve(expandHome(d))) ?? [codexHome],
    usageScanIntervalMs: (file.usage_scan_interval_minutes ?? 10) * 60_000,
    usageLiveIntervalMs: (file.usage_live_interval_seconds ?? 15) * 1000,
    usagePricing: file.usage_pricing ?? {},
    usageBodyLimitBytes: file.usage_body_limit_bytes ?? 4 * 1024 * 1024,
    logMaxBytes: file.log_max_bytes ?? 10 * 1024 * 1024,
    logMaxFiles: file.log_max_files ?? 5,
    shutdownGraceMs: (file.shutdown_grace_seconds ?? 10) * 1000,
    fleet: resolveFleetConfig(file, home, env, overrides.hub),
    websocket: {
      pingMs: (file.websocket?.ping_seconds ?? 30) * 1000,
      history: file.websocket?.history ?? 2000,
      maxBufferedBytes: file.websocket?.max_buffered_bytes ?? 1024 * 1024,
      slowClientMs: (file.websocket?.slow_client_seconds ?? 15) * 1000,
      snapshotIntervalMs: (file.websocket?.snapshot_interval_seconds ?? 1) * 1000,
      maxClients: file.websocket?.max_clients ?? 256,
      eventDetailsMaxBytes: file.websocket?.event_details_max_bytes ?? 4096,
      maxMessageBytes: file.websocket?.max_message_bytes ?? 64 * 1024,
    },
    cron: cronSettings(file.cron),
    obsidian: obsidianSettings(file.obsidian, resolveUserPath),
    metrics: metricsSettings(file.metrics),
    web: {
      publicUrl: file.web?.public_url?.replace(/\/$/, '') ?? null,
      sessionMs: (file.web?.session_days ?? 30) * 86_400_000,
      linkMs: (file.web?.link_minutes ?? 5) * 60_000,
    },
    tls: overrides.tls
      ? { certFile: resolve(overrides.tls.certFile), keyFile: resolve(overrides.tls.keyFile) }
      : file.tls
        ? { certFile: resolve(home, expandHome(file.tls.cert_file)), keyFile: resolve(home, expandHome(file.tls.key_file)) }
        : null,
    relay: file.relay
      ? {
          url: file.relay.url,
          room: file.relay.room,
          keyFile: resolve(home, expandHome(file.relay.key_file ?? 'relay-key')),
          caFile: file.relay.ca_file ? resolve(home, expandHome(file.relay.ca_file)) : null,
          pairingsFile: join(home, 'relay-pairings.json'),
        }
      : null,
  };
}
