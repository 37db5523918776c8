// `token-api tui`: the live terminal dashboard, a client of a running server's WebSocket feed
// and HTTP API. --url points it at another machine; --token (or TOKEN_API_TOKEN) is the API
// token that callers beyond loopback send.
import type { ParseArgsConfig } from 'node:util';
import { systemClock } from '../lib/clock.js';
import { configFrom, locateServer } from './common.js';

interface CommandSpec {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

/** The server's HTTP base URL from what was given (http, https, ws or wss; a bare host:port too). */
export function baseUrlOf(given: string): string | null {
  const text = /^[a-z]+:\/\//i.test(given) ? given : `http://${given}`;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return null;
  }
  const protocols: Record<string, string> = { 'http:': 'http:', 'https:': 'https:', 'ws:': 'http:', 'wss:': 'https:' };
  const protocol = protocols[u.protocol];
  if (!protocol || !u.hostname) return null;
  u.protocol = protocol;
  u.pathname = u.pathname.replace(/\/ws\/?$/, '').replace(/\/+$/, '');
  u.search = '';
  u.hash = '';
  return u.toString().replace(/\/$/, '');
}

export const tuiCommand: CommandSpec = {
  summary: 'the live terminal dashboard (instances, mode, gate, events, usage)',
  usage: `token-api tui [--url URL] [--token TOKEN] [--home DIR] [--config FILE]

Shows what token-api knows, live: instances (awaiting first), the work mode, the
productivity gate, focus, today's token usage per device and recent events. It follows
the server's WebSocket feed (ws://HOST:PORT/ws) and acts through its HTTP API, so it can
run on another machine. When the server goes away it says so and reconnects by itself.

  --url URL      the server (default $TOKEN_API_URL, else TOKEN_API_HOST/PORT, else the
                 server running on this data directory (its lock file), else the config
                 file's host and port, else http://127.0.0.1:7777)
  --token TOKEN  the API token, needed from another machine (default $TOKEN_API_TOKEN;
                 \`token-api token\` on the server prints it)

Keys: q quit, r refresh, ↑↓ or j/k move, enter details, m mode, f focus,
s mark stopped (asks first), a all events, ? help.`,
  options: { home: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' }, url: { type: 'string' }, token: { type: 'string' } },
  async run(values, positionals) {
    if (positionals.length > 0) {
      process.stderr.write(`token-api tui: unexpected argument "${positionals[0]}" (see token-api tui --help)\n`);
      return 2;
    }
    const given = locateServer(configFrom(values), { flag: typeof values.url === 'string' ? values.url : undefined }).url;
    const baseUrl = baseUrlOf(given);
    if (!baseUrl) {
      process.stderr.write(`token-api tui: --url must be a URL such as http://127.0.0.1:7777, got "${given}"\n`);
      return 2;
    }
    if (!process.stdout.isTTY || !process.stdin.isTTY) {
      process.stderr.write('token-api tui: needs a terminal (stdin and stdout must be a TTY)\n');
      return 2;
    }
    const token = typeof values.token === 'string' ? values.token : process.env.TOKEN_API_TOKEN || undefined;
    // Loaded here: the other commands do without blessed.
    const { startDashboard } = await import('../tui/dashboard.js');
    const dashboard = startDashboard({ baseUrl, token, clock: systemClock });
    const onSignal = () => dashboard.stop();
    process.once('SIGTERM', onSignal);
    process.once('SIGHUP', onSignal);
    await dashboard.done;
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    return 0;
  },
};
