// `token-api usage [daily|monthly|session|device|instance|sync|push]`: reads this machine's
// transcripts into the local database (incrementally; the first full scan shows progress)
// and prints tables or JSON, or pushes the records to another token-api. Works whether or
// not the server is running (SQLite in WAL mode takes both).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import pino from 'pino';
import { createHub } from '../actors/runtime/hub.js';
import type { RootMachines } from '../actors/runtime/root-machines.js';
import { loadConfig, type Config } from '../config/config.js';
import { openDatabase } from '../db/database.js';
import { migrate } from '../db/migrations.js';
import { createWriter } from '../db/writer.js';
import { resolveBound, timeZoneSchema, type TimeBound } from '../protocol/usage.js';
import { lastPart } from '../lib/project-name.js';
import { labelOf } from '../notifications/text.js';
import { pushUsage, PushError } from '../usage/push.js';
import { instanceNames as instanceNamesOf } from '../db/queries/instances.js';
import type { GroupDim } from '../protocol/usage.js';
import type { UsageReport, UsageRow } from '../usage/report.js';
import type { ScanProgress, ScanReport } from '../usage/scanner.js';
import { createUsageService, usageSettings, type UsageService } from '../usage/service.js';
import { modelsColumn, renderTable, TOKEN_COLUMNS, unpricedNote, type Column } from './usage-table.js';
import { parseDay } from '../lib/timezone.js';

type Values = Record<string, string | boolean | undefined>;

const USAGE = `token-api usage [daily|monthly|session|device|instance] [--json] [--since DAY] [--until DAY]
token-api usage sync
token-api usage push --to URL [--device ID] [--token TOKEN]

Token usage of Claude Code and Codex, read from this machine's transcripts (and from what
other machines pushed here). Each run first reads what the transcripts gained since the
last run; the first run reads everything and shows its progress.

Reports (a table, or JSON with --json):
  daily             per day (the default); --breakdown adds a row per model
  monthly           per month
  session           per session, with its project and last activity
  device            per device (this machine, the phone or laptop an instance came from,
                    and machines that pushed their usage here)
  instance          per token-api instance

  --since DAY       first day included (YYYY-MM-DD or YYYYMMDD)
  --until DAY       last day included
  --timezone TZ     count days in this IANA zone (default: usage_timezone, UTC)
  --breakdown       one row per model under each day (daily and monthly)
  --json            print JSON instead of a table
  --no-scan         report what is stored without reading the transcripts first
  --quiet           no progress output

Other subcommands:
  sync              read the transcripts now and say what was new
  push --to URL     send this machine's records to the token-api at URL (its hub), resuming
                    where the last push to URL stopped; records it already has count once.
    --device ID     the device id this machine's records get there (default: local_device)
    --token TOKEN   the hub's API token (or env TOKEN_API_TOKEN), needed beyond loopback

  --home DIR, --config FILE as for every command.
Transcripts: usage_claude_dirs (default $CLAUDE_CONFIG_DIR, ~/.config/claude, ~/.claude)
and usage_codex_dirs (default $CODEX_HOME, ~/.codex); see docs/configuration.md.`;

const options = {
  home: { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  since: { type: 'string' },
  until: { type: 'string' },
  timezone: { type: 'string' },
  breakdown: { type: 'boolean' },
  'no-scan': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  to: { type: 'string' },
  device: { type: 'string' },
  token: { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

const REPORTS = ['daily', 'monthly', 'session', 'device', 'instance'] as const;
type ReportName = (typeof REPORTS)[number];
const SUBCOMMANDS = [...REPORTS, 'sync', 'push'] as const;

class CommandError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

const fail = (message: string) => new CommandError(message, 2);

interface Local {
  usage: UsageService;
  /** Instance ids -> "Claude #3 (api)", the names people know them by. */
  instanceNames(ids: readonly string[]): Promise<Map<string, string>>;
  close(): Promise<void>;
}

async function openLocal(config: Config): Promise<Local> {
  const logger = pino({ level: 'silent' });
  const db = await openDatabase(config.databaseFile, { synchronous: config.sqliteSynchronous });
  try {
    await migrate(db);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  const writer = createWriter(db);
  // Only the usage tables are written: a hub with no actors and no subscribers.
  const hub = createHub<RootMachines>({ writer, logger, eventDetailsMaxBytes: config.eventDetailsMaxBytes });
  const usage = createUsageService({
    db,
    hub,
    logger,
    now: () => Date.now(),
    settings: usageSettings(config),
  });
  await usage.start();
  return {
    usage,
    async instanceNames(ids) {
      const names = new Map<string, string>();
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500);
        const rows = await instanceNamesOf(db, chunk);
        for (const r of rows) names.set(r.id, labelOf({ name: r.display_name, project: r.project ?? lastPart(r.working_dir) }));
      }
      return names;
    },
    async close() {
      await usage.idle();
      await writer.close();
      await db.close();
    },
  };
}

const mb = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(1)} MB`);

/** Reads the transcripts; on a first scan (or a big one) shows progress on stderr. */
async function scan(usage: UsageService, quiet: boolean): Promise<ScanReport> {
  const err = process.stderr;
  let shown = false;
  let lastDraw = 0;
  const draw = (p: ScanProgress, force = false) => {
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const pct = p.bytesTotal > 0 ? Math.min(100, Math.floor((p.bytesDone / p.bytesTotal) * 100)) : 100;
    err.write(`\rreading transcripts: ${String(pct).padStart(3)}%  ${mb(p.bytesDone)} of ${mb(p.bytesTotal)}, ${p.filesDone}/${p.filesTotal} files`);
  };
  let show = false;
  const report = await usage.sync({
    onProgress: (p) => {
      if (quiet) return;
      if (!shown) {
        shown = true;
        // A first scan, or a big one, says what it is doing; routine small ones say nothing.
        show = p.filesTotal > 0 && (p.first || p.bytesTotal > 50e6 || p.filesTotal > 200);
        if (show && !err.isTTY) err.write(`reading ${p.filesTotal} transcript file(s), ${mb(p.bytesTotal)}…\n`);
      }
      if (show && err.isTTY) draw(p, p.filesDone === p.filesTotal);
    },
  });
  if (show) {
    if (err.isTTY) err.write('\n');
    err.write(`read ${report.filesRead} file(s), ${mb(report.bytes)}: ${report.records} new record(s)\n`);
  }
  return report;
}

function columnsFor(name: ReportName, breakdown: boolean, names: ReadonlyMap<string, string>): { dims: GroupDim[]; first: Column[]; title: string } {
  switch (name) {
    case 'daily':
      return {
        dims: breakdown ? ['day', 'model'] : ['day'],
        first: breakdown ? [{ title: 'Date', align: 'left', cell: (r) => r.day ?? '' }, { title: 'Model', align: 'left', cell: (r) => r.model ?? '' }] : [{ title: 'Date', align: 'left', cell: (r) => r.day ?? '' }, modelsColumn],
        title: 'Token usage by day',
      };
    case 'monthly':
      return {
        dims: breakdown ? ['month', 'model'] : ['month'],
        first: breakdown ? [{ title: 'Month', align: 'left', cell: (r) => r.month ?? '' }, { title: 'Model', align: 'left', cell: (r) => r.model ?? '' }] : [{ title: 'Month', align: 'left', cell: (r) => r.month ?? '' }, modelsColumn],
        title: 'Token usage by month',
      };
    case 'session':
      return {
        dims: ['session', 'project'],
        first: [
          { title: 'Session', align: 'left', cell: (r) => r.session_id ?? '(none)', minWidth: 9 },
          { title: 'Project', align: 'left', cell: (r) => r.project ?? '', minWidth: 12, cutStart: true },
          modelsColumn,
          { title: 'Last Activity', short: 'Last', align: 'left', cell: (r) => (r.last_at ?? '').slice(0, 16).replace('T', ' '), compact: (r) => (r.last_at ?? '').slice(5, 16).replace('T', ' ') },
        ],
        title: 'Token usage by session',
      };
    case 'device':
      return { dims: ['device'], first: [{ title: 'Device', align: 'left', cell: (r) => r.device_id ?? '', minWidth: 10 }, modelsColumn], title: 'Token usage by device' };
    case 'instance':
      return {
        dims: ['instance', 'device'],
        first: [
          { title: 'Instance', align: 'left', cell: (r) => (r.instance_id ? (names.get(r.instance_id) ?? r.instance_id) : '(no instance)'), minWidth: 12 },
          { title: 'Device', align: 'left', cell: (r) => r.device_id ?? '', minWidth: 8 },
          modelsColumn,
        ],
        title: 'Token usage by instance',
      };
  }
}

function dayBound(v: string | boolean | undefined, flag: string): TimeBound | undefined {
  if (typeof v !== 'string') return undefined;
  const day = parseDay(v);
  if (!day) throw fail(`${flag} must be a day as YYYY-MM-DD or YYYYMMDD, got "${v}"`);
  return { day };
}

/** Where transcripts were looked for, when none was found. */
function whereLooked(config: Config): string {
  const dirs = [...config.usageClaudeDirs.map((d) => join(d, 'projects')), ...config.usageCodexDirs.map((d) => join(d, 'sessions'))];
  const said = dirs.map((d) => `  ${d}${existsSync(d) ? ' (no transcripts in it)' : ' (not there)'}`);
  return `No transcripts were found. Looked in:\n${said.join('\n')}\nClaude Code writes them under projects/ of its folder ($CLAUDE_CONFIG_DIR, ~/.claude), Codex under sessions/ of $CODEX_HOME; usage_claude_dirs and usage_codex_dirs in the config file point elsewhere (docs/configuration.md).`;
}

async function runReport(local: Local, config: Config, name: ReportName, values: Values): Promise<number> {
  const tzFlag = typeof values.timezone === 'string' ? values.timezone : undefined;
  if (tzFlag !== undefined && !timeZoneSchema.safeParse(tzFlag).success) throw fail(`--timezone must be an IANA time zone such as UTC or Europe/Paris, got "${tzFlag}"`);
  const timezone = tzFlag ?? local.usage.timezone;
  const since = resolveBound(dayBound(values.since, '--since'), 'since', timezone);
  const until = resolveBound(dayBound(values.until, '--until'), 'until', timezone);
  if (values.breakdown && name !== 'daily' && name !== 'monthly') throw fail('--breakdown goes with daily or monthly');
  let scanned: ScanReport | null = null;
  if (!values['no-scan']) scanned = await scan(local.usage, values.quiet === true || values.json === true);
  const { dims } = columnsFor(name, values.breakdown === true, new Map());
  const report: UsageReport = await local.usage.report({ since, until, groupBy: dims, timezone });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  const range = report.since || report.until ? `, ${report.since ? `from ${report.since.slice(0, 10)}` : ''}${report.until ? ` until ${new Date(Date.parse(report.until) - 1).toISOString().slice(0, 10)}` : ''}` : '';
  if (report.rows.length === 0) {
    process.stdout.write(`No token usage found${range} (days in ${timezone}).\n`);
    if (scanned && scanned.files === 0) process.stdout.write(`${whereLooked(config)}\n`);
    return 0;
  }
  const names = name === 'instance' ? await local.instanceNames(report.rows.map((r) => r.instance_id).filter((x): x is string => Boolean(x))) : new Map<string, string>();
  const { first, title } = columnsFor(name, values.breakdown === true, names);
  const total: UsageRow = report.totals;
  const table = renderTable(`${title} (days in ${timezone}${range})`, [...first, ...TOKEN_COLUMNS], report.rows, total);
  const note = unpricedNote(report);
  process.stdout.write(`${table}\n${note ? `${note}\n` : ''}`);
  return 0;
}

async function runPush(local: Local, config: Config, values: Values): Promise<number> {
  if (typeof values.to !== 'string' || values.to === '') throw fail('push needs --to URL, the token-api to send the records to (e.g. --to http://100.64.0.1:7777)');
  const deviceId = typeof values.device === 'string' ? values.device : config.localDevice;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(deviceId)) throw fail(`--device must be letters, digits, dot, dash or underscore, got "${deviceId}"`);
  const token = typeof values.token === 'string' ? values.token : process.env.TOKEN_API_TOKEN || undefined;
  if (!values['no-scan']) await scan(local.usage, values.quiet === true || values.json === true);
  const result = await pushUsage({
    store: local.usage.store,
    target: values.to,
    deviceId,
    localDevice: config.localDevice,
    token,
    onBatch: (sent) => {
      if (!values.quiet && !values.json && process.stderr.isTTY) process.stderr.write(`\rsent ${sent} record(s)`);
    },
  });
  if (!values.quiet && !values.json && process.stderr.isTTY && result.batches > 0) process.stderr.write('\n');
  if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else if (result.sent === 0) process.stdout.write(`${result.target} already has every record of this machine.\n`);
  else process.stdout.write(`sent ${result.sent} record(s) to ${result.target} as ${deviceId}: ${result.inserted} new, ${result.duplicates} it already had.\n`);
  return 0;
}

export const usageCommand = {
  summary: 'token usage by day, month, session, device; push it to another machine',
  usage: USAGE,
  options,
  async run(values: Values, positionals: string[]): Promise<number> {
    const [sub = 'daily', ...extra] = positionals;
    try {
      if (!(SUBCOMMANDS as readonly string[]).includes(sub)) throw fail(`unknown subcommand "${sub}"; use one of ${SUBCOMMANDS.join(', ')} (see token-api usage --help)`);
      if (extra.length > 0) throw fail(`unexpected argument "${extra[0]}"`);
      if (sub !== 'push' && (values.to !== undefined || values.device !== undefined || values.token !== undefined)) throw fail('--to, --device and --token go with push');
      const config = loadConfig({ home: typeof values.home === 'string' ? values.home : undefined, config: typeof values.config === 'string' ? values.config : undefined });
      const local = await openLocal(config);
      try {
        if (sub === 'push') return await runPush(local, config, values);
        if (sub === 'sync') {
          const r = await scan(local.usage, values.quiet === true || values.json === true);
          if (values.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
          else process.stdout.write(`${r.files} transcript file(s), ${r.filesRead} with something new (${mb(r.bytes)}): ${r.records} new record(s).\n`);
          return 0;
        }
        return await runReport(local, config, sub as ReportName, values);
      } finally {
        await local.close();
      }
    } catch (err) {
      if (err instanceof CommandError || err instanceof PushError) {
        process.stderr.write(`token-api usage: ${err.message}\n`);
        return err instanceof CommandError ? err.code : 1;
      }
      throw err;
    }
  },
};
