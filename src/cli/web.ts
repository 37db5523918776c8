// `token-api web link`: asks the running server for a one-time login link to the web page and
// prints it as a QR code (half blocks on an explicit white background, so it scans on dark and
// light terminals) and as text. `token-api web url` prints where the page is. The server makes
// the code (POST /api/web/link, from this machine or with the token); it works once, briefly.
import type { ParseArgsConfig } from 'node:util';
import QRCode from 'qrcode';
import { configFrom, locateServer } from './common.js';
import { baseUrlOf } from './tui.js';

interface CommandSpec {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

const USAGE = `token-api web link [--no-qr] [--url URL] [--token TOKEN] [--home DIR] [--config FILE]
token-api web url [--url URL] [--home DIR] [--config FILE]

The web page is served by token-api itself at http://HOST:PORT/app/ (on this machine no
login is needed). From a phone or another computer, either type the API token once
(token-api token prints it) or open a one-time login link:

  link           prints a one-time login link to the page, as a QR code and as text.
                 Scan it with the phone: the browser that opens it is logged in (a session
                 cookie, web.session_days long). The link works once, for web.link_minutes.
  url            prints the page's address on this server.

  --no-qr        only the link, no QR code
  --url URL      the server (default $TOKEN_API_URL, else the server running on this data
                 directory, else the config file's host and port, else http://127.0.0.1:7777)
  --token TOKEN  the API token, needed when the server is on another machine
                 (default $TOKEN_API_TOKEN)

The link names the address in web.public_url (for example https://desktop.tailnet.ts.net,
from \`tailscale serve\`), else this machine's address when token-api listens beyond
loopback (--host 0.0.0.0). Browsers keep the page for offline use and offer to install it
only over https (or on localhost): see docs/web.md.`;

/** The QR code of `text` for a terminal: two modules a character, dark on white. */
export async function terminalQr(text: string): Promise<string> {
  const art = await QRCode.toString(text, { type: 'terminal', small: true, errorCorrectionLevel: 'L' });
  return art
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => `\u001b[47m\u001b[30m${l.replace(/\u001b\[[0-9;]*m/g, '')}\u001b[0m`)
    .join('\n');
}

export const webCommand: CommandSpec = {
  summary: 'the web page: a one-time login link with its QR code (web link), its address (web url)',
  usage: USAGE,
  options: {
    home: { type: 'string' },
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    url: { type: 'string' },
    token: { type: 'string' },
    'no-qr': { type: 'boolean' },
  },
  async run(values, positionals) {
    const [sub, ...extra] = positionals;
    if (sub !== 'link' && sub !== 'url') {
      process.stderr.write(`token-api web: ${sub ? `unknown subcommand "${sub}"` : 'which one?'}; expected link or url (token-api web --help)\n`);
      return 2;
    }
    if (extra.length > 0) {
      process.stderr.write(`token-api web ${sub}: unexpected argument "${extra[0]}" (token-api web --help)\n`);
      return 2;
    }
    const where = locateServer(configFrom(values), { flag: typeof values.url === 'string' ? values.url : undefined });
    const base = baseUrlOf(where.url);
    if (!base) {
      process.stderr.write(`token-api web: --url must be a URL such as http://127.0.0.1:7777, got "${where.url}"\n`);
      return 2;
    }
    if (sub === 'url') {
      process.stdout.write(`${base}/app/\n`);
      return 0;
    }
    const token = typeof values.token === 'string' ? values.token : process.env.TOKEN_API_TOKEN || undefined;
    let res: Response;
    try {
      res = await fetch(`${base}/api/web/link`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(5000) });
    } catch (err) {
      process.stderr.write(`token-api web link: cannot reach token-api at ${base} (${where.how}): ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}; is it running (npm start)?\n`);
      return 1;
    }
    const body = (await res.json().catch(() => null)) as { url?: string; expires_at?: string; reachable?: boolean; message?: string } | null;
    if (!res.ok || !body?.url) {
      process.stderr.write(`token-api web link: token-api at ${base} refused (HTTP ${res.status}): ${body?.message ?? 'no reason given'}\n`);
      return 1;
    }
    if (!values['no-qr']) process.stdout.write(`${await terminalQr(body.url)}\n\n`);
    process.stdout.write(`${body.url}\n`);
    const until = body.expires_at ? new Date(body.expires_at).toLocaleTimeString() : 'soon';
    process.stderr.write(`One-time login link: it logs in the first browser that opens it, until ${until}.\n`);
    if (body.reachable === false) {
      process.stderr.write(
        'token-api listens on this machine only, so the link works here alone. For a phone: run it with --host 0.0.0.0 (Tailscale), or put it behind `tailscale serve` and set web.public_url (docs/web.md).\n',
      );
    }
    return 0;
  },
};
