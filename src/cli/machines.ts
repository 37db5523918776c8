// `token-api machines`: two meanings of "machine" under one command. On a hub, the computers
// that report to it: `add NAME` prints a new machine token (once), `list` shows the tokens and
// whom they are bound to, `revoke NAME` ends one (its live connection closes within a
// heartbeat). And `export`: each XState state machine's definition as JSON.
import type { ParseArgsConfig } from 'node:util';
import { loadConfig, type ConfigOverrides } from '../config/config.js';
import { openDatabase, type Database } from '../db/database.js';
import { migrate } from '../db/migrations.js';
import { activeTokenByName, insertToken, listMachines, listTokens, revokeToken } from '../db/queries/fleet.js';
import { newMachineToken } from '../fleet/tokens.js';
import { machineNameSchema } from '../protocol/fleet.js';
import { exportMachines, MACHINES } from './machine-export.js';

interface CommandSpec {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

type Values = Record<string, string | boolean | undefined>;

const USAGE = `token-api machines add NAME | list | revoke NAME   [--home DIR] [--config FILE]
token-api machines export [--out DIR]

Computers that report to this token-api as their hub:
  add NAME      make a token for the machine NAME and print it (shown once; the hub keeps
                only its hash). On that machine, put it in $TOKEN_API_HOME/hub-token
                (mode 0600; or hub.token_file, or TOKEN_API_HUB_TOKEN) and start it with
                token-api serve --hub http://THIS-HOST:7777 (or hub.url in its config).
  list          the tokens: name, prefix, the machine id each is bound to, revoked or not
  revoke NAME   revoke NAME's token: its registration and connection are refused from
                then on, a live connection closes within one heartbeat; others are untouched

State machines (XState) of this token-api:
  export        write each machine's definition (${Object.keys(MACHINES).join(', ')}) as
                DIR/<name>.json for the Stately visualiser (https://stately.ai/viz); DIR
                defaults to ./machines (--out DIR). To watch the running actors instead,
                start the server with \`token-api serve --inspect\`.`;

async function withDb<T>(values: Values, overridesFrom: (v: Values) => ConfigOverrides, fn: (db: Database) => Promise<T>): Promise<T> {
  const config = loadConfig(overridesFrom(values));
  const db = await openDatabase(config.databaseFile, { synchronous: config.sqliteSynchronous });
  try {
    await migrate(db);
    return await fn(db);
  } finally {
    await db.close();
  }
}

export function machinesCommand(commonOptions: NonNullable<ParseArgsConfig['options']>, overridesFrom: (v: Values) => ConfigOverrides): CommandSpec {
  const fail = (message: string, code = 2) => {
    process.stderr.write(`token-api machines: ${message}\n`);
    return code;
  };
  return {
    summary: 'machines reporting to this hub (add, list, revoke) and state machine export',
    usage: USAGE,
    options: { ...commonOptions, out: { type: 'string', short: 'o' } },
    async run(values, positionals) {
      const [sub, ...rest] = positionals;
      const name = rest[0];
      const oneName = () => {
        if (rest.length !== 1) return `${sub} takes one NAME (see token-api machines --help)`;
        const ok = machineNameSchema.safeParse(name);
        return ok.success ? null : `NAME "${String(name).slice(0, 80)}" is not ${ok.error.issues[0]!.message}`;
      };
      switch (sub) {
        case 'export': {
          if (rest.length > 0) return fail(`export takes no arguments, got "${rest.join(' ')}"`);
          const dir = typeof values.out === 'string' ? values.out : 'machines';
          try {
            for (const file of exportMachines(dir)) process.stdout.write(`${file}\n`);
            return 0;
          } catch (err) {
            return fail(`cannot write to ${dir}: ${(err as Error).message}`, 1);
          }
        }
        case 'add': {
          const problem = oneName();
          if (problem) return fail(problem);
          return withDb(values, overridesFrom, async (db) => {
            if (await activeTokenByName(db, name!)) return fail(`a machine named ${name} already has a token; revoke it first (token-api machines revoke ${name}) or choose another name`, 1);
            const t = newMachineToken();
            await insertToken(db, { name: name!, token_sha256: t.sha256, prefix: t.prefix, created_at: new Date().toISOString() });
            process.stderr.write(`token for machine ${name} (shown once; put it in that machine's $TOKEN_API_HOME/hub-token):\n`);
            process.stdout.write(`${t.token}\n`);
            return 0;
          });
        }
        case 'list': {
          if (rest.length > 0) return fail(`list takes no arguments, got "${rest.join(' ')}"`);
          return withDb(values, overridesFrom, async (db) => {
            const tokens = await listTokens(db);
            const seen = new Map((await listMachines(db)).map((m) => [m.id, m.last_seen_at]));
            if (tokens.length === 0) {
              process.stdout.write('no machine tokens; token-api machines add NAME makes one\n');
              return 0;
            }
            for (const t of tokens) {
              const bound = t.machine ? `machine ${t.machine}, last seen ${seen.get(t.machine) ?? 'never'}` : 'not registered yet';
              process.stdout.write(`${t.name}\t${t.prefix}…\t${t.revoked_at ? `revoked ${t.revoked_at}` : 'active'}\t${bound}\n`);
            }
            return 0;
          });
        }
        case 'revoke': {
          const problem = oneName();
          if (problem) return fail(problem);
          return withDb(values, overridesFrom, async (db) => {
            if (!(await revokeToken(db, name!, new Date().toISOString()))) return fail(`no active token for a machine named ${name} (token-api machines list shows them)`, 1);
            process.stdout.write(`revoked the token of ${name}\n`);
            return 0;
          });
        }
        default:
          return fail(`${sub === undefined ? 'a subcommand is needed' : `unknown subcommand "${sub}"`}\n\n${USAGE}`);
      }
    },
  };
}
