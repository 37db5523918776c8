// `token-api hooks doctor`: checks each link from a hook to token-api and says what to do
// about each problem: the server answers, the hook script runs (and finds curl), Claude Code's
// settings hook every event, the last event of each type and when, the spool, the hook log.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { openDatabase } from '../db/database.js';
import { lastHookEvents } from '../db/queries/events.js';
import { entryUrl, HOOK_EVENTS, hookStatus, parseSettings, SCRIPT_NAME } from './install/claude-settings.js';
import { notifyStatus } from './install/codex-config.js';
import { InstallError, readSettingsText } from './install/settings-file.js';
import { BATCH_FILE } from '../actors/instances/spool-files.js';
import { snakeCase } from '../actors/instances/hook-events.js';
import { defaultHome, HOOK_SCRIPT_PATH, locateServer, type ServerLocation } from './common.js';

type Level = 'ok' | 'warn' | 'fail';
interface Check {
  level: Level;
  title: string;
  lines?: string[];
  fix?: string;
}

function ago(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

function runScriptCheck(env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; error?: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', [HOOK_SCRIPT_PATH, '--check'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', (err) => resolve({ code: null, out, error: err.message }));
    child.on('close', (code) => resolve({ code, out }));
  });
}

interface Health {
  status?: string;
  version?: string;
  home?: string;
  codex?: { enabled?: boolean; home?: string };
  database?: { writes_ok?: boolean; last_error?: string };
}

async function serverCheck(server: ServerLocation): Promise<Check & { health?: Health }> {
  const url = server.url;
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(3000) });
    const body = (await res.json().catch(() => ({}))) as Health;
    if (res.status === 200 && body.status === 'ok') return { level: 'ok', title: `token-api ${body.version ?? ''} answers at ${url} (from ${server.how})`, health: body };
    return {
      health: body,
      level: 'warn',
      title: `token-api at ${url} answers but is ${body.status ?? `HTTP ${res.status}`}`,
      lines: body.database?.last_error ? [`database: ${body.database.last_error}`] : undefined,
      fix: 'see its log ($TOKEN_API_HOME/logs/token-api.log); a full disk or a read-only data directory stops writes',
    };
  } catch (err) {
    return {
      level: 'fail',
      title: `token-api does not answer at ${url}, found from ${server.how} (${(err as Error).message})`,
      fix: 'start it with `token-api serve` (or `npm start` in its folder); meanwhile hook events are spooled and replayed once it runs',
    };
  }
}

async function scriptCheck(config: Config, url: string): Promise<Check> {
  const env: NodeJS.ProcessEnv = { ...process.env, TOKEN_API_URL: url };
  if (config.home !== defaultHome()) env.TOKEN_API_HOME = config.home;
  const r = await runScriptCheck(env);
  const kv = Object.fromEntries(r.out.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  if (r.code !== 0) return { level: 'fail', title: `the hook script did not run (${r.error ?? `exit ${r.code}`})`, fix: `check that /bin/sh exists and ${HOOK_SCRIPT_PATH} is readable` };
  const spoolProblem = kv.spool_writable?.startsWith('no') ? kv.spool_writable.replace(/^no:?\s*/, '') : null;
  if (spoolProblem !== null) {
    return {
      level: 'fail',
      title: `the hook script cannot keep events in its spool (${config.spoolDir}: ${spoolProblem || 'not writable'}): while token-api does not answer, events are lost`,
      fix: `make ${config.spoolDir} a directory this user can write (is a file in its place, the disk full, the file system read-only?)`,
    };
  }
  if (kv.curl === 'missing') return { level: 'fail', title: 'the hook script runs, but curl is missing: every event is spooled', fix: 'install curl (apt install curl, brew install curl)' };
  if (kv.health !== '200') {
    return { level: 'warn', title: `the hook script runs, but reached token-api with HTTP ${kv.health || 'nothing'}`, fix: 'see the first check; a proxy in http_proxy is bypassed, so the address itself must be reachable' };
  }
  return { level: 'ok', title: `the hook script runs and reaches token-api (${kv.curl})` };
}

function settingsCheck(path: string, server: ServerLocation): Check {
  let file;
  try {
    file = readSettingsText(path);
  } catch (err) {
    return { level: 'fail', title: `cannot read ${path}: ${(err as Error).message}` };
  }
  if (!file.exists) return { level: 'fail', title: `${path} does not exist: no hooks`, fix: 'run `token-api hooks install`' };
  let rows;
  try {
    rows = hookStatus(parseSettings(file.text, path).value);
  } catch (err) {
    return { level: 'fail', title: (err as InstallError).message, fix: `fix the JSON, or restore a backup (${path}.token-api-backup-*)` };
  }
  const wanted = rows.filter((r) => (HOOK_EVENTS as readonly string[]).includes(r.event));
  const missing = wanted.filter((r) => r.tokenApi === 'none').map((r) => r.event);
  // Entries written by another copy of token-api (moved, or a second checkout).
  const stale = wanted.filter((r) => r.tokenApi === 'command' && r.target !== null && !r.target.includes(HOOK_SCRIPT_PATH)).map((r) => r.event);
  if (missing.length === wanted.length) return { level: 'fail', title: `${path}: token-api is not hooked`, fix: 'run `token-api hooks install`' };
  const lines = wanted.map((r) => `${r.event}: ${r.tokenApi === 'none' ? 'not hooked' : r.tokenApi === 'http' ? 'native http' : 'hook script'}`);
  if (missing.length > 0) return { level: 'warn', title: `${path}: ${missing.length} event(s) not hooked (${missing.join(', ')})`, lines, fix: 'run `token-api hooks install` to add them' };
  if (stale.length > 0) {
    return { level: 'fail', title: `${path}: hooks point at a ${SCRIPT_NAME} that is not this installation's`, lines, fix: 'run `token-api hooks install` again to point them here' };
  }
  const installed = [...new Set(wanted.map(entryUrl).filter((u): u is string => u !== null))];
  const elsewhere = installed.filter((u) => u !== server.url);
  if (elsewhere.length > 0) {
    return {
      level: 'fail',
      title: `${path}: the hooks send to ${elsewhere.join(' and ')}, but token-api is at ${server.url} (from ${server.how})`,
      lines: wanted.map((r) => `${r.event}: ${entryUrl(r) ?? 'not hooked'}`),
      fix: `run \`token-api hooks install${server.source === 'flag' ? ` --url ${server.url}` : ''}\` again to point them at ${server.url}, then restart running Claude Code sessions`,
    };
  }
  return { level: 'ok', title: `${path}: every event is hooked, sending to ${server.url}` };
}

async function eventsCheck(config: Config, now: number): Promise<Check> {
  if (!existsSync(config.databaseFile)) return { level: 'warn', title: `no database yet at ${config.databaseFile}`, fix: 'start token-api once' };
  let rows: { event_type: string; last: string; n: number }[];
  try {
    const db = await openDatabase(config.databaseFile, { readOnly: true });
    try {
      rows = await lastHookEvents(db);
    } finally {
      await db.close();
    }
  } catch (err) {
    return { level: 'warn', title: `cannot read ${config.databaseFile}: ${(err as Error).message}` };
  }
  const byType = new Map(rows.map((r) => [r.event_type, r]));
  const lines = HOOK_EVENTS.map((e) => {
    const r = byType.get(`hook.${snakeCase(e)}`);
    return `${e.padEnd(18)} ${r ? `last ${ago(r.last, now)} (${r.last}), ${r.n} in all` : 'never'}`;
  });
  if (rows.length === 0) {
    return { level: 'warn', title: 'no hook event has reached token-api yet', lines, fix: 'hooks load when a Claude Code session starts: start (or restart) one' };
  }
  return { level: 'ok', title: 'hook events seen, by type', lines };
}

function spoolCheck(config: Config): Check {
  const dir = config.spoolDir;
  if (!existsSync(dir)) return { level: 'ok', title: 'the spool is empty' };
  if (!statSync(dir).isDirectory()) return { level: 'fail', title: `${dir} is a file, where the hook script keeps its spool`, fix: `move it away: the hook script creates the spool directory there` };
  let lines = 0;
  let bytes = 0;
  for (const name of readdirSync(dir)) {
    if (name !== 'hooks.ndjson' && !BATCH_FILE.test(name)) continue;
    const text = readFileSync(join(dir, name), 'utf8');
    bytes += Buffer.byteLength(text);
    lines += text.split('\n').filter(Boolean).length;
  }
  const rejectedFile = join(dir, 'rejected.ndjson');
  const rejected = existsSync(rejectedFile) ? readFileSync(rejectedFile, 'utf8').split('\n').filter(Boolean).length : 0;
  const asideFiles = readdirSync(dir).filter((n) => n.endsWith('.rejected'));
  const out: Check = { level: 'ok', title: 'the spool is empty' };
  if (lines > 0) {
    out.level = 'warn';
    out.title = `${lines} event(s) (${bytes} bytes) wait in the spool (${dir})`;
    const drain = config.hookSpoolDrainMs > 0 ? ` and every ${config.hookSpoolDrainMs / 1000} s while it runs (hook_spool_drain_seconds)` : '';
    out.fix = `they are sent with the next hook event once token-api answers; token-api on this machine also replays them at start-up${drain}`;
  }
  if (rejected > 0 || asideFiles.length > 0) {
    out.level = 'warn';
    out.lines = [
      ...(rejected > 0 ? [`${rejected} spooled event(s) were refused on replay: see ${rejectedFile} (each line says why)`] : []),
      ...asideFiles.map((f) => `batch kept aside after token-api refused it: ${join(dir, f)}`),
    ];
    out.fix ??= 'refused events are usually malformed payloads; delete the files once read';
  }
  return out;
}

function hookLogCheck(config: Config, now: number): Check {
  const file = config.hookLogFile;
  if (!existsSync(file)) return { level: 'ok', title: 'the hook log has no errors' };
  const st = statSync(file);
  const all = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const tail = all.slice(-5);
  // Events the script could not send nor keep: said in the log whenever it happens.
  const lost = all.filter((l) => l.includes('; it is lost'));
  if (lost.length > 0) {
    return {
      level: 'fail',
      title: `${lost.length} hook event(s) were lost: token-api did not take them and the spool could not keep them (${file}); the last:`,
      lines: lost.slice(-3),
      fix: `make ${config.spoolDir} writable (each line says why it was not), and keep token-api running`,
    };
  }
  if (now - st.mtimeMs > 24 * 3600_000) return { level: 'ok', title: `no hook errors in the last day (log: ${file})` };
  return { level: 'warn', title: `the hook script logged errors recently (${file}); the last ones:`, lines: tail, fix: 'each line says what failed; "cannot connect" means token-api was down (the event was spooled)' };
}

/** Codex as the running server watches it (its /health), else as this command's config says. */
function codexCheck(config: Config, health: Health | undefined): Check {
  const home = health?.codex?.home ?? config.codex.home;
  const enabled = health?.codex?.enabled ?? config.codex.enabled;
  const sessions = join(home, 'sessions');
  const lines: string[] = [];
  if (health?.codex?.home && health.codex.home !== config.codex.home) {
    lines.push(`the running server watches ${health.codex.home}; this command's config says ${config.codex.home} (set CODEX_HOME or codex.home alike for both)`);
  }
  const configToml = join(home, 'config.toml');
  if (existsSync(configToml)) {
    try {
      const n = notifyStatus(readFileSync(configToml, 'utf8'), configToml);
      lines.push(`notify in ${configToml}: ${n.state === 'token-api' ? 'token-api codex-notify' : n.state === 'other' ? 'another program' : 'not set'}`);
    } catch (err) {
      lines.push((err as Error).message);
    }
  }
  if (!enabled) return { level: 'ok', title: 'Codex rollout watcher is off (codex.enabled is false)', lines };
  if (!existsSync(sessions)) return { level: 'ok', title: `Codex: no sessions at ${sessions} (set codex.home or CODEX_HOME if Codex keeps them elsewhere)`, lines };
  return { level: 'ok', title: `Codex rollout watcher reads ${sessions}`, lines };
}

export async function runDoctor(config: Config, o: { settingsPath: string; out: (line: string) => void; now?: number; url?: string }): Promise<number> {
  const now = o.now ?? Date.now();
  const server = locateServer(config, { flag: o.url });
  const running = await serverCheck(server);
  const checks: Check[] = [
    running,
    await scriptCheck(config, server.url),
    settingsCheck(o.settingsPath, server),
    await eventsCheck(config, now),
    spoolCheck(config),
    hookLogCheck(config, now),
    codexCheck(config, running.health),
  ];
  const mark: Record<Level, string> = { ok: '[ok]  ', warn: '[warn]', fail: '[FAIL]' };
  for (const c of checks) {
    o.out(`${mark[c.level]} ${c.title}`);
    for (const l of c.lines ?? []) o.out(`         ${l}`);
    if (c.fix && c.level !== 'ok') o.out(`       → ${c.fix}`);
  }
  const failed = checks.filter((c) => c.level === 'fail').length;
  const warned = checks.filter((c) => c.level === 'warn').length;
  o.out(failed ? `${failed} problem(s) to fix.` : warned ? `No failures; ${warned} warning(s).` : 'All good.');
  return failed > 0 ? 1 : 0;
}
