// Commands of the mode and gate area: `token-api token` prints the API token (creating it
// when missing), `token-api machines export [--out DIR]` writes every machine's definition
// as JSON for the Stately visualiser. cli/main.ts puts them in its command map.
import type { ParseArgsConfig } from 'node:util';
import { loadConfig, type ConfigOverrides } from '../config/config.js';
import { ensureTokenFile } from '../http/token-file.js';
import { exportMachines, MACHINES } from './machine-export.js';

interface CommandSpec {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

export function tokenCommand(
  commonOptions: NonNullable<ParseArgsConfig['options']>,
  overridesFrom: (values: Record<string, string | boolean | undefined>) => ConfigOverrides,
): CommandSpec {
  return {
    summary: 'print the API token callers beyond loopback must send',
    usage: `token-api token [--home DIR] [--config FILE]

Prints the API token (from $TOKEN_API_HOME/token, created with mode 0600 if missing).
Requests from other machines send it as "Authorization: Bearer <token>"; gate checks
(GET /api/check, GET /?app=) from gate_check_networks need none. To change it, delete the
file and restart the server.`,
    options: commonOptions,
    async run(values, positionals) {
      if (positionals.length > 0) {
        process.stderr.write(`token-api token: unexpected argument "${positionals[0]}" (see token-api token --help)\n`);
        return 2;
      }
      const config = loadConfig(overridesFrom(values));
      const t = ensureTokenFile(config.tokenFile);
      if (t.created) process.stderr.write(`created ${config.tokenFile}\n`);
      process.stdout.write(`${t.token}\n`);
      return 0;
    },
  };
}

export function machinesCommand(): CommandSpec {
  const usage = `token-api machines export [--out DIR]

Writes each state machine's definition (${Object.keys(MACHINES).join(', ')}) as DIR/<name>.json,
for the Stately visualiser (https://stately.ai/viz). Actions, guards and timers appear by
name. DIR defaults to ./machines.

To watch the running actors instead, start the server with \`token-api serve --inspect\`.`;
  return {
    summary: 'export the state machines as JSON (machines export --help)',
    usage,
    options: { help: { type: 'boolean', short: 'h' }, out: { type: 'string', short: 'o' } },
    async run(values, positionals) {
      const [sub, ...extra] = positionals;
      if (sub !== 'export' || extra.length > 0) {
        process.stderr.write(`token-api machines: ${sub === undefined ? 'a subcommand is needed' : `unknown subcommand "${[sub, ...extra].join(' ')}"`}\n\n${usage}\n`);
        return 2;
      }
      const dir = typeof values.out === 'string' ? values.out : 'machines';
      let files: string[];
      try {
        files = exportMachines(dir);
      } catch (err) {
        process.stderr.write(`token-api machines export: cannot write to ${dir}: ${(err as Error).message}\n`);
        return 1;
      }
      for (const file of files) process.stdout.write(`${file}\n`);
      return 0;
    },
  };
}
