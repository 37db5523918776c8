// `token-api usage` as a person runs it: tables, JSON, progress on the first scan only,
// clear messages for bad flags; and the usage configuration keys with their defaults.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { runCli } from './support/process.js';
import { startTestServer, tempHome } from './support/system.js';
import { generateCorpus, type Corpus } from './support/transcripts.js';

describe('token-api usage', () => {
  const home = tempHome('token-api-usage-cli-');
  let corpus: Corpus;
  before(() => {
    const claudeDir = join(home.dir, 'claude');
    corpus = generateCorpus({ claudeDir, sessions: 5 });
    writeFileSync(join(home.dir, 'config.json'), JSON.stringify({ usage_claude_dirs: [claudeDir], usage_codex_dirs: [join(home.dir, 'codex')] }));
  });
  after(() => home.cleanup());

  it('is listed by token-api --help and explains every subcommand with --help', async () => {
    const top = await runCli(['--help']);
    assert.match(top.stdout, /usage\s+token usage by day/);
    for (const args of [['usage', '--help'], ['usage', 'push', '--help'], ['usage', 'daily', '-h']]) {
      const r = await runCli(args);
      assert.equal(r.code, 0);
      for (const word of ['daily', 'monthly', 'session', 'device', 'push --to URL', '--since', '--json', 'usage_claude_dirs']) assert.ok(r.stdout.includes(word), `${args.join(' ')} mentions ${word}`);
    }
  });

  it('prints a daily table with totals, in the configured zone, showing progress on the first scan only', async () => {
    const first = await runCli(['usage', '--home', home.dir]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, new RegExp(`reading ${corpus.files.length} transcript file\\(s\\)`));
    assert.match(first.stderr, /read \d+ file\(s\), [\d.]+ MB: \d+ new record\(s\)/);
    const lines = first.stdout.split('\n');
    assert.equal(lines[0], 'Token usage by day (days in UTC)');
    // Full numbers do not fit in 100 columns here: tokens are shortened (12.3M), titles too.
    assert.match(lines[2]!, /│ Date\s+│ Models\s+│\s+Input │\s+Output │\s+Cache W │\s+Cache R │\s+Total │\s+Cost │/);
    assert.match(first.stdout, /│\s+\d+(\.\d)?[kM] │/);
    const days = [...corpus.expected.keys()].sort();
    for (const d of days) assert.ok(first.stdout.includes(`│ ${d} │`), d);
    assert.match(first.stdout, /│ Total\s+│/);
    assert.match(first.stdout, /\* tokens of claude-opus-4-6-fast are counted, but it has no price/);

    const second = await runCli(['usage', 'daily', '--home', home.dir]);
    assert.equal(second.stderr, '', 'a routine run says nothing on stderr');
    assert.equal(second.stdout, first.stdout);
  });

  it('prints JSON, monthly, per-session and per-device reports, limited by --since and --until', async () => {
    const json = await runCli(['usage', 'daily', '--json', '--since', '2026-11-19', '--until', '20261120', '--home', home.dir]);
    const r = JSON.parse(json.stdout);
    assert.deepEqual(r.rows.map((x: { day: string }) => x.day), ['2026-11-19', '2026-11-20']);
    assert.equal(json.stderr, '');
    const monthly = await runCli(['usage', 'monthly', '--home', home.dir]);
    assert.match(monthly.stdout, /│ 2026-11 │/);
    const session = await runCli(['usage', 'session', '--home', home.dir, '--no-scan']);
    assert.match(session.stdout, /Token usage by session/);
    assert.match(session.stdout, /│ …[\w-]*project-0 │/, 'a long project keeps its end');
    const device = await runCli(['usage', 'device', '--json', '--home', home.dir]);
    assert.deepEqual(JSON.parse(device.stdout).rows.map((x: { device_id: string }) => x.device_id), ['desktop']);
    const empty = await runCli(['usage', '--since', '2030-01-01', '--home', home.dir]);
    assert.match(empty.stdout, /No token usage found, from 2030-01-01 \(days in UTC\)/);
  });

  it('says what is wrong with a bad flag, with a non-zero exit and no stack trace', async () => {
    const cases: [string[], number, RegExp][] = [
      [['usage', '--since', '2026-13-01'], 2, /--since must be a day as YYYY-MM-DD/],
      [['usage', 'session', '--breakdown'], 2, /--breakdown goes with daily or monthly/],
      [['usage', 'daily', '--to', 'http://x'], 2, /--to, --device and --token go with push/],
      [['usage', 'weekly'], 2, /unknown subcommand "weekly"/],
      [['usage', '--timezone', 'Moon/Base'], 2, /--timezone must be an IANA time zone/],
      [['usage', '--colour'], 2, /unknown option --colour \(token-api usage --help lists the options\)/],
      [['usage', '--jsn'], 2, /unknown option --jsn; did you mean --json\?/],
    ];
    for (const [args, code, message] of cases) {
      const r = await runCli([...args, '--home', home.dir]);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.doesNotMatch(r.stderr, /To specify a positional argument/, 'no Node-internal text');
    }
  });

  it('fits every table in 100 columns, cutting long ids and leaving out the models where needed; --json is whole', async () => {
    for (const report of [['daily'], ['daily', '--breakdown'], ['monthly'], ['session'], ['device'], ['instance']]) {
      const r = await runCli(['usage', ...report, '--home', home.dir, '--no-scan']);
      assert.equal(r.code, 0, r.stderr);
      for (const line of r.stdout.split('\n')) assert.ok(Array.from(line).length <= 100, `${report.join(' ')}: ${Array.from(line).length} columns: ${line}`);
    }
    const session = await runCli(['usage', 'session', '--home', home.dir, '--no-scan']);
    assert.match(session.stdout, /│ [0-9a-f-]{6,12}… │/, 'session ids cut');
    const json = JSON.parse((await runCli(['usage', 'session', '--json', '--home', home.dir, '--no-scan'])).stdout);
    assert.ok(json.rows.every((r: { session_id: string }) => /^[0-9a-f-]{36}$/.test(r.session_id)), 'JSON keeps the whole ids');
  });
});

describe('token-api usage on a machine with no transcripts', () => {
  it('says where it looked', async () => {
    const h = tempHome('token-api-usage-empty-');
    try {
      const claude = join(h.dir, 'claude');
      mkdirSync(join(claude, 'projects'), { recursive: true });
      writeFileSync(join(h.dir, 'config.json'), JSON.stringify({ usage_claude_dirs: [claude], usage_codex_dirs: [join(h.dir, 'codex')] }));
      const r = await runCli(['usage', '--home', h.dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^No token usage found \(days in UTC\)\.\nNo transcripts were found\. Looked in:\n/);
      assert.ok(r.stdout.includes(`  ${join(claude, 'projects')} (no transcripts in it)\n`), r.stdout);
      assert.ok(r.stdout.includes(`  ${join(h.dir, 'codex', 'sessions')} (not there)\n`), r.stdout);
      assert.match(r.stdout, /usage_claude_dirs and usage_codex_dirs/);
    } finally {
      h.cleanup();
    }
  });
});

describe('token-api usage instance', () => {
  it('names instances as people know them ("Claude #1 (project-0)"), not by their ids', async () => {
    const h = tempHome('token-api-usage-names-');
    try {
      const claudeDir = join(h.dir, 'claude');
      const corpus = generateCorpus({ claudeDir, sessions: 2 });
      const file = { usage_claude_dirs: [claudeDir], usage_codex_dirs: [join(h.dir, 'codex')] };
      const s = await startTestServer(h.dir, file);
      for (const [n, path] of corpus.files.entries()) {
        const session = basename(path, '.jsonl');
        await s.hook({ session_id: session, transcript_path: path, cwd: `/home/dev/project-${n}`, hook_event_name: 'SessionStart', source: 'startup' });
      }
      // Each new instance claims its session's records after the commit: let that finish first.
      await s.system.settle();
      await s.close();
      const r = await runCli(['usage', 'instance', '--home', h.dir, '-q']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /│ Claude #1 \(project-0\)\s+│/);
      assert.match(r.stdout, /│ Claude #2 \(project-1\)\s+│/);
      assert.doesNotMatch(r.stdout, /claude-[0-9a-f]{8}-/);
    } finally {
      h.cleanup();
    }
  });
});

describe('usage configuration', () => {
  it('defaults: UTC days, Claude dirs from CLAUDE_CONFIG_DIR or ~/.config/claude and ~/.claude, Codex from CODEX_HOME or ~/.codex', () => {
    const c = loadConfig({}, {});
    assert.equal(c.usageTimezone, 'UTC');
    assert.deepEqual(c.usageClaudeDirs, [join(homedir(), '.config', 'claude'), join(homedir(), '.claude')]);
    assert.deepEqual(c.usageCodexDirs, [join(homedir(), '.codex')]);
    assert.equal(c.usageScanIntervalMs, 600_000);
    assert.equal(c.usageLiveIntervalMs, 15_000);
    assert.deepEqual(c.usagePricing, {});
    const env = loadConfig({}, { CLAUDE_CONFIG_DIR: '/a/claude, /b/claude', CODEX_HOME: '/c/codex' });
    assert.deepEqual(env.usageClaudeDirs, ['/a/claude', '/b/claude']);
    assert.deepEqual(env.usageCodexDirs, ['/c/codex']);
    // Codex's folder set once, in codex.home, is where usage is read too.
    const h = tempHome();
    try {
      writeFileSync(join(h.dir, 'config.json'), JSON.stringify({ codex: { home: '/d/codex' } }));
      const file = loadConfig({ home: h.dir }, {});
      assert.equal(file.codex.home, '/d/codex');
      assert.deepEqual(file.usageCodexDirs, ['/d/codex']);
    } finally {
      h.cleanup();
    }
  });

  it('refuses an unknown time zone or a malformed price, naming the key', () => {
    const h = tempHome();
    writeFileSync(join(h.dir, 'config.json'), JSON.stringify({ usage_timezone: 'Europe/Atlantis' }));
    assert.throws(() => loadConfig({ home: h.dir }, {}), (e: Error) => e instanceof ConfigError && /usage_timezone is "Europe\/Atlantis"; expected an IANA time zone/.test(e.message));
    writeFileSync(join(h.dir, 'config.json'), JSON.stringify({ usage_pricing: { 'my-model': { input: -1, output: 2 } } }));
    assert.throws(() => loadConfig({ home: h.dir }, {}), (e: Error) => e instanceof ConfigError && /usage_pricing\.my-model\.input/.test(e.message));
    writeFileSync(join(h.dir, 'config.json'), JSON.stringify({ usage_timezone: 'Asia/Tokyo', usage_pricing: { 'my-model': { input: 1, output: 2, above_200k: { input: 2, output: 4 } } } }));
    const c = loadConfig({ home: h.dir }, {});
    assert.equal(c.usageTimezone, 'Asia/Tokyo');
    assert.equal(c.usagePricing['my-model']!.above_200k!.output, 4);
    h.cleanup();
  });
});
