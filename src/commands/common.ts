// What the client-side commands (hooks, codex-notify) share: the config from --home/--config,
// the URL a client on this machine uses to reach token-api, and where files live.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../config.js';

export const HOOK_SCRIPT_PATH = fileURLToPath(new URL('../../hooks/token-api-hook.sh', import.meta.url));
export const BIN_PATH = fileURLToPath(new URL('../../bin/token-api.js', import.meta.url));
export const DEFAULT_URL = 'http://127.0.0.1:7777';

export function configFrom(values: Record<string, string | boolean | undefined>): Config {
  return loadConfig({
    ...(typeof values.home === 'string' ? { home: values.home } : {}),
    ...(typeof values.config === 'string' ? { config: values.config } : {}),
  });
}

/** token-api's URL for a client on this machine: TOKEN_API_URL, else the configured host and port. */
export function clientUrl(config: Config, env: NodeJS.ProcessEnv = process.env): string {
  if (env.TOKEN_API_URL) return env.TOKEN_API_URL.replace(/\/$/, '');
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${config.port}`;
}

/** Claude Code's own folder (CLAUDE_CONFIG_DIR, default ~/.claude). */
export function claudeDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CLAUDE_CONFIG_DIR || join(homedir(), '.claude');
}

export const defaultHome = () => join(homedir(), '.token-api');
