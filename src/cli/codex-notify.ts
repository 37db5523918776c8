// `token-api codex-notify [-- PROGRAM ARG...] JSON`: the program Codex's `notify` setting runs
// with one JSON argument when a turn completes. Forwards the JSON to token-api unchanged, then
// runs the person's own notify program (if `hooks install --codex` found one) with the same
// argument. Always exits 0: a notifier must never trouble Codex. Failures go to the hook log.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { clientUrl, configFrom } from './common.js';

export const CODEX_NOTIFY_USAGE = `token-api codex-notify [--home DIR] [--config FILE] [-- PROGRAM [ARG...]] JSON

The command for Codex's notify setting (\`token-api hooks install --codex\` writes it into
~/.codex/config.toml). Codex appends one JSON argument; it is posted unchanged to
POST /api/codex/notify. When a PROGRAM follows "--", it is run afterwards with the same JSON
(the notify program you had before installing). Always exits 0; failures are written to
$TOKEN_API_HOME/logs/hooks.log. Without the server, nothing is lost: the rollout watcher
reads the same turn from Codex's session files.`;

function logFailure(file: string, message: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    appendFileSync(file, `${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} codex-notify ${message}\n`);
  } catch {
    // Nowhere to say it: stay silent rather than trouble Codex.
  }
}

function runChained(program: string[], json: string): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(program[0]!, [...program.slice(1), json], { stdio: 'inherit' });
    child.on('error', () => resolve());
    child.on('close', () => resolve());
  });
}

export const codexNotifyCommand = {
  summary: "forward Codex's notify JSON to token-api (the command for Codex's notify setting)",
  usage: CODEX_NOTIFY_USAGE,
  options: {
    home: { type: 'string' },
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  } as const,
  async run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number> {
    const json = positionals.at(-1);
    const chained = positionals.slice(0, -1);
    let logFile = '';
    try {
      const config = configFrom(values);
      logFile = config.hookLogFile;
      if (json === undefined) {
        process.stderr.write(`token-api codex-notify: the JSON argument is missing\n\n${CODEX_NOTIFY_USAGE}\n`);
        return 0;
      }
      const url = `${clientUrl(config)}/api/codex/notify`;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (process.env.TOKEN_API_TOKEN) headers.authorization = `Bearer ${process.env.TOKEN_API_TOKEN}`;
      const res = await fetch(url, { method: 'POST', headers, body: json, signal: AbortSignal.timeout(3000) });
      if (res.status >= 400) logFailure(logFile, `token-api refused the notify (HTTP ${res.status}): ${(await res.text()).slice(0, 500)}`);
    } catch (err) {
      if (logFile) logFailure(logFile, `cannot reach token-api: ${(err as Error).message}`);
    }
    if (chained.length > 0 && json !== undefined) await runChained(chained, json);
    return 0;
  },
};
