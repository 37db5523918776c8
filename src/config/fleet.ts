// The `hub` block of the config file: where this machine reports (url, and the file holding its
// machine token, never the token itself on a command line that `ps` shows) and the hub's
// timing, with the defaults documented in docs/configuration.md.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';

export const fleetFileKeys = {
  hub: z
    .object({
      url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).max(2048).optional(),
      token_file: z.string().min(1).optional(),
      heartbeat_seconds: z.number().min(1).max(3600).optional(),
      call_timeout_seconds: z.number().min(0.1).max(600).optional(),
      notifications: z.enum(['hub', 'here']).optional(),
      notify_max_age_seconds: z.number().min(1).max(86_400).optional(),
    })
    .strict()
    .optional(),
};

export interface FleetConfig {
  /** The hub this machine reports to (null: none; it may still be a hub itself). */
  hubUrl: string | null;
  /** The file holding this machine's token for the hub (TOKEN_API_HUB_TOKEN wins). */
  hubTokenFile: string;
  /** The token from TOKEN_API_HUB_TOKEN, if set. */
  hubTokenEnv: string | null;
  heartbeatMs: number;
  callTimeoutMs: number;
  /**
   * On a machine reporting to a hub: who sends its agents' webhooks. `hub` (the default): the
   * hub routes them, so the phone hears once whichever machine the agent is on (this machine
   * routes them itself only while it has no live connection to the hub); `here`: this machine.
   * Speech and sound always play on the machine the agent runs on.
   */
  notifications: 'hub' | 'here';
  /** On a hub: a machine's notification that arrives later than this after it happened is recorded, not sent. */
  notifyMaxAgeMs: number;
}

type FleetFile = { hub?: z.infer<(typeof fleetFileKeys)['hub']> };

export function resolveFleetConfig(file: FleetFile, home: string, env: NodeJS.ProcessEnv, hubOverride?: string): FleetConfig {
  const tokenFile = file.hub?.token_file;
  return {
    hubUrl: (hubOverride ?? file.hub?.url ?? null)?.replace(/\/+$/, '') ?? null,
    hubTokenFile: tokenFile ? resolve(tokenFile === '~' || tokenFile.startsWith('~/') ? join(homedir(), tokenFile.slice(1)) : tokenFile) : join(home, 'hub-token'),
    hubTokenEnv: env.TOKEN_API_HUB_TOKEN || null,
    heartbeatMs: (file.hub?.heartbeat_seconds ?? 20) * 1000,
    callTimeoutMs: (file.hub?.call_timeout_seconds ?? 10) * 1000,
    notifications: file.hub?.notifications ?? 'hub',
    notifyMaxAgeMs: (file.hub?.notify_max_age_seconds ?? 300) * 1000,
  };
}
