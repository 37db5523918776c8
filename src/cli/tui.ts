// `token-api tui`: the live terminal dashboard, a client of a running server's WebSocket feed
// and HTTP API. --url points it at another machine; --token (or TOKEN_API_TOKEN) is the API
// token that callers beyond loopback send. --relay (or --pairing-file) reaches the server
// through a relay instead, with the options `relay request` takes (src/cli/relay-target.ts).
import type { ParseArgsConfig } from 'node:util';
import { systemClock } from '../lib/clock.js';
import type { RelayClientOptions } from '../relay/client.js';
import type { Transport } from '../tui/transport.js';
import { configFrom, locateServer } from './common.js';
import { relayClientOptions, relayTargetOf, RelayUsageError } from './relay-target.js';
import { relayTransport } from './tui-relay.js';

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

const RELAY_ONLY = ['room', 'token-file', 'ca'] as const;
type Values = Record<string, string | boolean | undefined>;

/** The way through a relay, when --relay or --pairing-file asks for one; null for a direct connection. */
export function relayWay(values: Values): Transport | null {
  if (values.relay === undefined && values['pairing-file'] === undefined) {
    const stray = RELAY_ONLY.find((o) => values[o] !== undefined);
    if (stray) throw new RelayUsageError(`--${stray} goes with --relay URL (or --pairing-file FILE)`);
    return null;
  }
  if (values.url !== undefined) throw new RelayUsageError('--url and --relay are two ways to the server: give one');
  if (values.token !== undefined) throw new RelayUsageError('--token is the API token of a direct connection; through a relay the client token goes in $TOKEN_API_RELAY_TOKEN or --token-file FILE');
  const target = relayTargetOf(values, 'relay');
  const protocol = URL.canParse(target.options.url) ? new URL(target.options.url).protocol : '';
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(protocol)) throw new RelayUsageError(`the relay's URL must be such as https://relay.example.net:7780, got "${target.options.url}"`);
  // The pinned certificate is fetched on the first connection that reaches the relay, then kept.
  let resolved: RelayClientOptions | null = null;
  return relayTransport({ url: target.options.url, room: target.options.room, e2e: Boolean(target.options.pairing), options: async () => (resolved ??= await relayClientOptions(target)) });
}

export const tuiCommand: CommandSpec = {
  summary: 'the live terminal dashboard (instances, mode, gate, events, usage)',
  usage: `token-api tui [--url URL] [--token TOKEN] [--home DIR] [--config FILE]
       token-api tui --relay URL --room NAME [--token-file FILE] [--ca FILE]
       token-api tui --pairing-file FILE

Shows what token-api knows, live: instances (awaiting first), the work mode, the
productivity gate, focus, today's token usage per device and recent events. It follows
the server's WebSocket feed (ws://HOST:PORT/ws) and acts through its HTTP API, so it can
run on another machine. When the server goes away it says so and reconnects by itself.

  --url URL      the server (default $TOKEN_API_URL, else TOKEN_API_HOST/PORT, else the
                 server running on this data directory (its lock file), else the config
                 file's host and port, else http://127.0.0.1:7777)
  --token TOKEN  the API token, needed from another machine (default $TOKEN_API_TOKEN;
                 \`token-api token\` on the server prints it)

Through a relay (docs/relay.md), from anywhere, with the options relay request takes:
  --relay URL        the relay (https://relay.example.net:7780), with
  --room NAME        the home server's room there, and the client token in
                     $TOKEN_API_RELAY_TOKEN or --token-file FILE (never on the command line)
  --ca FILE          trust this certificate (a relay with a self-signed one)
  --pairing-file FILE
                     a pairing code (tapi1:…, from \`token-api relay pair\` on the server):
                     relay, room and token in one, end-to-end encrypted, the relay's
                     self-signed certificate pinned ($TOKEN_API_RELAY_PAIRING holds one too)

The header then reads "ROOM via relay", "● live, e2e" when end-to-end encrypted. A
read-only token reads; its writes (m, f, s, y/n) show the relay's refusal. When the
relay or the home server goes away the dashboard says so and reconnects by itself; a
revoked or expired token is shown as refused, tried again only on r.

Keys: q quit, r refresh, ↑↓ or j/k move, enter details, m mode, f focus,
s mark stopped (asks first), a all events, ? help.`,
  options: {
    home: { type: 'string' },
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    url: { type: 'string' },
    token: { type: 'string' },
    relay: { type: 'string' },
    room: { type: 'string' },
    'token-file': { type: 'string' },
    'pairing-file': { type: 'string' },
    ca: { type: 'string' },
  },
  async run(values, positionals) {
    if (positionals.length > 0) {
      process.stderr.write(`token-api tui: unexpected argument "${positionals[0]}" (see token-api tui --help)\n`);
      return 2;
    }
    let relay: Transport | null;
    try {
      relay = relayWay(values);
    } catch (err) {
      if (!(err instanceof RelayUsageError)) throw err;
      process.stderr.write(`token-api tui: ${err.message} (see token-api tui --help)\n`);
      return 2;
    }
    const given = relay ? '' : locateServer(configFrom(values), { flag: typeof values.url === 'string' ? values.url : undefined }).url;
    const baseUrl = relay ? null : baseUrlOf(given);
    if (!relay && !baseUrl) {
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
    const dashboard = startDashboard(relay ? { transport: relay, clock: systemClock } : { baseUrl: baseUrl!, token, clock: systemClock });
    const onSignal = () => dashboard.stop();
    process.once('SIGTERM', onSignal);
    process.once('SIGHUP', onSignal);
    await dashboard.done;
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    return 0;
  },
};
