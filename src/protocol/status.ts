// The answer of GET /api/status, for the OpenAPI document and the checked examples of docs/api.md.
import { z } from 'zod';

const iso = z.string().describe('an ISO 8601 time, UTC');
const problem = z.string().nullable();

/** The hooks installed for Claude Code and Codex, as their settings files say at the time of asking. */
export const installedHooksSchema = z.looseObject({
  claude: z.looseObject({
    settings: z.string(),
    installed: z.boolean().describe('every event token-api uses is hooked'),
    mode: z.string().nullable().describe('command, http, or mixed; null when none is hooked'),
    events: z.array(z.string()),
    missing: z.array(z.string()),
    problem,
  }),
  codex: z.looseObject({ config: z.string(), notify: z.enum(['token-api', 'other', 'none']), problem }),
});
export type InstalledHooks = z.infer<typeof installedHooksSchema>;

export const statusSchema = z.looseObject({
  service: z.literal('token-api'),
  version: z.string(),
  status: z.enum(['ok', 'degraded']).describe('degraded while the database cannot be written'),
  started_at: iso,
  uptime_s: z.number(),
  pid: z.number().int(),
  machine: z.looseObject({ hostname: z.string(), platform: z.string(), arch: z.string(), release: z.string(), node: z.string(), local_device: z.string() }),
  listening: z.looseObject({ host: z.string(), port: z.number().int() }),
  data: z.looseObject({ home: z.string(), database: z.string(), database_bytes: z.number().nullable(), config_file: z.string(), config_file_exists: z.boolean(), log_file: z.string() }),
  hooks: installedHooksSchema.nullable().describe('null when the server runs embedded, without the command line that installs hooks'),
  codex: z.looseObject({ watched: z.boolean(), home: z.string() }),
  speech: z.looseObject({ engine: z.string().nullable(), available: z.boolean(), problem }),
  sound: z.looseObject({ player: z.string().nullable(), available: z.boolean(), problem }),
  notifications: z.looseObject({ waiting_intents: z.number().int(), webhooks_pending: z.number().int(), webhooks_in_flight: z.number().int() }),
  mode: z.looseObject({ mode: z.string(), focus: z.boolean() }),
  instances: z.record(z.string(), z.number().int()),
  jobs: z.looseObject({ total: z.number().int(), enabled: z.number().int(), running: z.array(z.string()), next: z.looseObject({ id: z.string(), name: z.string(), at: iso }).nullable(), failed: z.array(z.string()), commands_allowed: z.boolean() }),
  metrics: z.looseObject({ keys: z.number().int(), max_keys: z.number().int() }),
  obsidian: z.looseObject({ configured: z.boolean(), url: z.string(), vault: z.string().nullable(), eval_enabled: z.boolean() }),
});
export type StatusAnswer = z.infer<typeof statusSchema>;
