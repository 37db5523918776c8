// token-api's command line: `token-api <command> [options]`. Each command has --help.
import { constants as osConstants } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig, type ConfigOverrides } from '../config/config.js';
import { DatabaseError } from '../db/database.js';
import { MigrationError } from '../db/migrations.js';
import { hooksCommand } from './hooks.js';
import { codexNotifyCommand } from './codex-notify.js';
import { usageCommand } from './usage.js';
import { VERSION } from '../lib/version.js';
import { TokenFileError } from '../http/token-file.js';
import { startInspector, type InspectorHandle } from '../system/inspector.js';
import { machinesCommand } from './machines.js';
import { tokenCommand } from './token.js';
import { LockError } from '../service/lock.js';
import { stopOutcome } from '../service/stop.js';
import { serviceCommand } from './service.js';
import { backupCommand } from './backup.js';
import { tuiCommand } from './tui.js';
import { webCommand } from './web.js';
import { startupFacts, startupLines } from './serve-summary.js';
import { closest } from '../lib/validation-words.js';
import { endQuietlyOnBrokenPipe } from './broken-pipe.js';
import { relayCommand } from './relay.js';

export class UsageError extends Error {}

interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

const commonOptions = {
  home: { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function overridesFrom(values: Record<string, string | boolean | undefined>): ConfigOverrides {
  const o: ConfigOverrides = {};
  if (typeof values.home === 'string') o.home = values.home;
  if (typeof values.config === 'string') o.config = values.config;
  if (typeof values.host === 'string') o.host = values.host;
  if (typeof values.hub === 'string') {
    if (!/^https?:\/\/[^\s/]+/.test(values.hub)) throw new UsageError(`--hub must be the hub's URL, such as http://desktop:7777, got "${values.hub}"`);
    o.hub = values.hub;
  }
  if (typeof values.port === 'string') {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number (0-65535), got "${values.port}"`);
    o.port = port;
  }
  if (typeof values['tls-cert'] === 'string' || typeof values['tls-key'] === 'string') {
    if (typeof values['tls-cert'] !== 'string' || typeof values['tls-key'] !== 'string') throw new UsageError('--tls-cert and --tls-key go together');
    o.tls = { certFile: values['tls-cert'], keyFile: values['tls-key'] };
  }
  if (typeof values['log-level'] === 'string') {
    const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
    const level = values['log-level'] as (typeof levels)[number];
    if (!levels.includes(level)) throw new UsageError(`--log-level must be one of ${levels.join(', ')}`);
    o.logLevel = level;
  }
  return o;
}

/** serve takes no arguments: say so, and how options reach it through npm. */
function strayArguments(positionals: string[]): string {
  const viaNpm = process.env.npm_lifecycle_event !== undefined;
  return `serve takes no arguments, but got ${positionals.map((p) => `"${p}"`).join(' ')}${
    viaNpm ? '; npm kept the options for itself: put them after --, as in npm start -- --port 5555' : '; options start with --, as in --port 5555'
  }`;
}

/**
 * \`npm start --port=5555\` hands serve nothing: npm takes the option as its own config and
 * sets npm_config_port. Refuse rather than start on the default port.
 */
function npmSwallowed(options: readonly string[], env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.npm_lifecycle_event === undefined) return null;
  const taken = options.filter((o) => o !== 'help').map((o) => ({ option: o, value: env[`npm_config_${o.replace(/-/g, '_')}`] })).filter((t) => t.value !== undefined);
  if (taken.length === 0) return null;
  const example = taken.map((t) => `--${t.option}${t.value === 'true' ? '' : ` ${t.value}`}`).join(' ');
  return `npm took ${taken.map((t) => `--${t.option}`).join(', ')} for itself, so token-api never saw ${taken.length === 1 ? 'it' : 'them'}: run npm start -- ${example}`;
}

/** Colours where the stream is a terminal, unless NO_COLOR says otherwise (FORCE_COLOR forces them). */
function colorOn(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

/** node:util's parseArgs errors, in words and with the option most likely meant. */
function optionError(err: Error & { code?: string }, name: string, options: NonNullable<ParseArgsConfig['options']>): string {
  const flag = /'(-{1,2}[^',\s]+)/.exec(err.message)?.[1] ?? '';
  const help = `token-api ${name} --help lists the options`;
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const near = closest(flag.replace(/^-+/, ''), Object.keys(options));
      return `unknown option ${flag}${near ? `; did you mean --${near}?` : ''} (${help})`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const key = flag.replace(/^-+/, '');
      const spec = options[key] ?? Object.values(options).find((o) => o.short === key);
      return spec?.type === 'boolean' ? `option ${flag} takes no value (${help})` : `option ${flag} needs a value, as in ${flag} VALUE (${help})`;
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${flag || 'after the options'} (${help})`;
    default:
      return `${err.message} (${help})`;
  }
}

function inspectPort(text: string | boolean | undefined): number {
  if (typeof text !== 'string') return 7778;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--inspect-port must be a port number (0-65535), got "${text}"`);
  return port;
}

const commands: Record<string, Command> = {
  serve: {
    summary: 'run the server (what `npm start` runs)',
    usage: `token-api serve [--port N] [--host ADDR] [--home DIR] [--config FILE] [--log-level LEVEL] [--log-format text|json] [--log-file-only] [--inspect [--inspect-port N]] [--hub URL]

Runs token-api in the foreground until SIGINT or SIGTERM. One server per data directory:
a second one on the same data refuses to start and names the first (pid, port).
Through npm, options go after --: npm start -- --port 5555

  --port N          port to listen on (default 7777; env TOKEN_API_PORT)
  --host ADDR       address to bind (default 127.0.0.1; env TOKEN_API_HOST)
  --home DIR        data directory (default ~/.token-api; env TOKEN_API_HOME)
  --config FILE     config file (default $TOKEN_API_HOME/config.json; env TOKEN_API_CONFIG)
  --log-level LEVEL trace, debug, info, warn, error, fatal or silent (default info)
  --log-format FMT  what stderr gets: text (default: a line per start-up fact, then warnings
                    and errors in words) or json (the log's JSON lines, as in the file)
  --log-file-only   log to the log file only, not stderr (what the service runs)
  --inspect         connect every actor (instances, mode, gate) to the Stately inspector
                    and print the page to open (served on 127.0.0.1 only)
  --inspect-port N  port of the inspector page and its relay (default 7778; 0 picks one)
  --tls-cert FILE   serve https and wss with this PEM certificate (with --tls-key; or
  --tls-key FILE    "tls": { "cert_file", "key_file" } in the config; see docs/relay.md)
  --hub URL         report this machine's agents to the token-api at URL (hub.url in the
                    config); its token comes from $TOKEN_API_HOME/hub-token (hub.token_file)
                    or TOKEN_API_HUB_TOKEN, made on the hub by \`token-api machines add NAME\`

Beyond loopback (--host 0.0.0.0), requests need "Authorization: Bearer <token>"
(\`token-api token\` prints it), except gate checks from gate_check_networks.

Logs go to $TOKEN_API_HOME/logs/token-api.log as JSON lines (rotated by size:
log_max_bytes, log_max_files).

On SIGINT or SIGTERM it stops accepting, lets requests in flight finish (at most
shutdown_grace_seconds, default 10), writes what is pending and closes the database: exit
code 0 when all went well, 1 when something was cut off or failed. A second signal exits
at once (130 or 143); acknowledged changes are already in the database.`,
    options: {
      ...commonOptions,
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      'log-file-only': { type: 'boolean' },
      inspect: { type: 'boolean' },
      'inspect-port': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      hub: { type: 'string' },
    },
    async run(values, positionals) {
      if (positionals.length > 0) throw new UsageError(strayArguments(positionals));
      const swallowed = npmSwallowed(Object.keys(commands.serve!.options));
      if (swallowed) throw new UsageError(swallowed);
      const format = values['log-format'] ?? 'text';
      if (format !== 'text' && format !== 'json') throw new UsageError(`--log-format is "${String(format)}"; expected text or json`);
      const stderrLog = values['log-file-only'] ? 'none' : format;
      const color = colorOn(process.stderr);
      const config = loadConfig(overridesFrom(values));
      // Signals are handled from the very start, so a stop during start-up is clean too.
      let signalled: string | null = null;
      let wake: () => void = () => undefined;
      const onSignal = (signal: NodeJS.Signals) => {
        if (signalled) {
          process.stderr.write(`${signal} again: exiting at once (acknowledged changes are already in the database)\n`);
          process.exit(128 + (osConstants.signals[signal] ?? 15));
        }
        signalled = signal;
        process.stderr.write(`${signal}: stopping token-api…\n`);
        wake();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      let server;
      let inspector: InspectorHandle | null = null;
      if (values.inspect) {
        const port = inspectPort(values['inspect-port']);
        try {
          inspector = await startInspector({ port });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new UsageError(`the inspector port ${port} is already in use; choose another with --inspect-port`);
          throw err;
        }
      }
      try {
        // Loaded here, not at the top: the other commands do without the server's modules.
        const { startServer } = await import('../system/server.js');
        (await import('../service/heap.js')).limitHeapGrowth();
        const { readInstalledHooks } = await import('./install/installed-hooks.js');
        server = await startServer(config, {
          stderrLog,
          color,
          inspect: inspector?.inspect,
          installedHooks: (c) => readInstalledHooks(c),
          requestStop: () => {
            if (signalled) return;
            signalled = 'stop_daemon';
            process.stderr.write('the hub asked this token-api to stop: stopping…\n');
            wake();
          },
        });
      } catch (err) {
        await inspector?.close();
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') {
          throw new UsageError(`${config.host}:${config.port} is already in use; is token-api already running? Choose another port with --port.`);
        }
        if (code === 'EADDRNOTAVAIL') throw new UsageError(`cannot listen on ${config.host}: no such address on this machine`);
        if (code === 'EACCES') throw new UsageError(`not allowed to listen on ${config.host}:${config.port}`);
        throw err;
      }
      const facts = startupFacts(config, server, { version: VERSION, inspector: inspector?.url ?? null, stderrLog });
      process.stderr.write(`${startupLines(facts, color).join('\n')}\n`);
      if (!signalled) await new Promise<void>((resolve) => (wake = resolve));
      const grace = config.shutdownGraceMs / 1000;
      const report = await server.close({ onWaiting: (n) => process.stderr.write(`waiting for ${n} request(s) in flight to finish (at most ${grace} s)…\n`) });
      await inspector?.close().catch((err: Error) => report.errors.push(`inspector: ${err.message}`));
      const outcome = stopOutcome(report);
      for (const line of outcome.lines) process.stderr.write(`${line}\n`);
      return outcome.code;
    },
  },
  hooks: hooksCommand,
  'codex-notify': codexNotifyCommand,
  token: tokenCommand(commonOptions, overridesFrom),
  machines: machinesCommand(commonOptions, overridesFrom),
  usage: usageCommand,
  service: serviceCommand,
  backup: backupCommand,
  tui: tuiCommand,
  web: webCommand,
  relay: relayCommand,
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return `token-api ${VERSION}: a local control plane for AI coding agents

Usage: token-api <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}

Run \`token-api <command> --help\` for a command's options.
Every command that uses the data directory takes --home DIR and --config FILE.
`;
}

export async function main(argv: string[]): Promise<number> {
  endQuietlyOnBrokenPipe();
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`token-api: unknown command "${name}"\n\n${mainHelp()}`);
    return 2;
  }
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
    } catch (err) {
      throw new UsageError(optionError(err as Error & { code?: string }, name, command.options));
    }
    if (parsed.values.help) {
      process.stdout.write(`${command.usage}\n`);
      return 0;
    }
    return await command.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof DatabaseError || err instanceof MigrationError || err instanceof TokenFileError || err instanceof LockError) {
      const hint = err instanceof DatabaseError || err instanceof MigrationError ? databaseHint(err) : '';
      process.stderr.write(`token-api ${name}: ${err.message}${hint}\n`);
      return err instanceof UsageError ? 2 : 1;
    }
    const environment = environmentMessage(err);
    if (environment) {
      process.stderr.write(`token-api ${name}: ${environment}\n`);
      return 1;
    }
    process.stderr.write(`token-api ${name}: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

/** A hint after a database error whose cause is outside token-api (another process, the disk). */
function databaseHint(err: Error): string {
  const text = `${(err as { code?: string }).code ?? ''} ${err.message}`;
  if (/SQLITE_BUSY|SQLITE_LOCKED|database is locked/.test(text)) return ' (another process holds the database locked; close it, or wait, and start again)';
  if (/SQLITE_FULL|disk is full|ENOSPC/.test(text)) return ' (the disk is full: free some space and start again)';
  if (/SQLITE_READONLY|readonly database|SQLITE_CANTOPEN|EACCES|EROFS/.test(text)) return ' (is the data directory read-only, or owned by another user?)';
  return '';
}

/** A clear sentence for a file-system error (read-only or full data directory), instead of a stack trace. */
function environmentMessage(err: unknown): string | null {
  const e = err as NodeJS.ErrnoException;
  const where = e?.path ? ` ${e.path}` : '';
  switch (e?.code) {
    case 'EACCES':
    case 'EPERM':
      return `not allowed to write${where}: check the data directory's owner and permissions (${e.message})`;
    case 'EROFS':
      return `cannot write${where}: the file system is read-only; point --home at a writable directory`;
    case 'ENOSPC':
    case 'EDQUOT':
      return `cannot write${where}: no space left on the device (or quota exceeded); free some space and start again`;
    case 'ENOTDIR':
      return `cannot use${where}: a part of the path is a file, not a directory`;
    case 'EEXIST':
      return e.syscall === 'mkdir' ? `cannot create the directory${where}: a file is in the way` : null;
    case 'EMFILE':
    case 'ENFILE':
      return `too many open files${where}; raise the limit (ulimit -n) and start again`;
    default:
      return null;
  }
}

// Run when executed directly (bin/token-api.js imports this module and calls main itself).
if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
