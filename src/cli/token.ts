// `token-api token` prints the API token (creating it when missing). cli/main.ts puts it in its
// command map.
import type { ParseArgsConfig } from 'node:util';
import { loadConfig, type ConfigOverrides } from '../config/config.js';
import { ensureTokenFile } from '../http/token-file.js';

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
