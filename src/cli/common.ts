// What the client-side commands (hooks, codex-notify, tui) share: the config from
// --home/--config, the server a client on this machine talks to (locateServer: flag,
// environment, the data directory's lock file, config, default), and where files live.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../config/config.js';
import { readLock } from '../service/lock.js';

export const HOOK_SCRIPT_PATH = fileURLToPath(new URL('../../hooks/token-api-hook.sh', import.meta.url));
export const BIN_PATH = fileURLToPath(new URL('../../bin/token-api.js', import.meta.url));
export const DEFAULT_URL = 'http://127.0.0.1:7777';

export function configFrom(values: Record<string, string | boolean | undefined>): Config {
  return loadConfig({
    ...(typeof values.home === 'string' ? { home: values.home } : {}),
    ...(typeof values.config === 'string' ? { config: values.config } : {}),
  });
}

/** Where a client command found the server, and how. */
export interface ServerLocation {
  url: string;
  source: 'flag' | 'environment' | 'lock' | 'config' | 'default';
  /** In words, for status and doctor: "--url", "TOKEN_API_URL", "the lock file …", … */
  how: string;
}

function configuredUrl(config: Config): string {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${config.port}`;
}

/**
 * The server a client command on this machine talks to, taken in this order: its --url flag,
 * the environment (TOKEN_API_URL, else TOKEN_API_HOST / TOKEN_API_PORT), the lock file of its
 * data directory (the server that actually runs there, wherever it listens), the config
 * file's host and port, the default (127.0.0.1:7777).
 */
export function locateServer(config: Config, o: { flag?: string; env?: NodeJS.ProcessEnv } = {}): ServerLocation {
  const env = o.env ?? process.env;
  if (o.flag) return { url: o.flag.replace(/\/$/, ''), source: 'flag', how: '--url' };
  if (env.TOKEN_API_URL) return { url: env.TOKEN_API_URL.replace(/\/$/, ''), source: 'environment', how: 'TOKEN_API_URL' };
  if (env.TOKEN_API_PORT || env.TOKEN_API_HOST) return { url: configuredUrl(config), source: 'environment', how: env.TOKEN_API_PORT ? 'TOKEN_API_PORT' : 'TOKEN_API_HOST' };
  const lock = readLock(config.home);
  if (lock?.alive && lock.info.url) return { url: lock.info.url, source: 'lock', how: `the running server's lock file (${join(config.home, 'token-api.lock')}, pid ${lock.info.pid})` };
  const url = configuredUrl(config);
  return url === DEFAULT_URL ? { url, source: 'default', how: 'the default' } : { url, source: 'config', how: `the config file (${config.configFile})` };
}

/** token-api's URL for a client on this machine (see locateServer). */
export function clientUrl(config: Config, env: NodeJS.ProcessEnv = process.env): string {
  return locateServer(config, { env }).url;
}

/** Claude Code's own folder (CLAUDE_CONFIG_DIR, default ~/.claude). */
export function claudeDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CLAUDE_CONFIG_DIR || join(homedir(), '.claude');
}

export const defaultHome = () => join(homedir(), '.token-api');
