// Correctness against the ecosystem's reference tool: on a generated corpus (several sessions,
// responses spanning several lines, a resumed session copying lines, a torn last line, API
// error and <synthetic> lines, several models and days, a Codex session), the daily totals
// per model of `token-api usage daily --json --breakdown` equal those of
// `ccusage daily --json --offline` (18.0.11), in UTC and in other zones, before and after the
// torn line is completed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { runCli } from './support/process.js';
import { tempHome } from './support/system.js';
import { generateCorpus, type Corpus, type Expected } from './support/transcripts.js';
import { plain } from './support/usage.js';

const run = promisify(execFile);
const CCUSAGE = join(dirname(createRequire(import.meta.url).resolve('ccusage/package.json')), 'dist', 'index.js');

interface CcusageDaily {
  daily: { date: string; modelBreakdowns: { modelName: string; inputTokens: number; outputTokens: number; cacheCreationTokens: number; cacheReadTokens: number }[] }[];
}

async function ccusageDaily(claudeDir: string, timezone: string): Promise<Expected> {
  const { stdout } = await run(process.execPath, [CCUSAGE, 'daily', '--json', '--offline', '--timezone', timezone], {
    env: { ...process.env, CLAUDE_CONFIG_DIR: claudeDir, NO_COLOR: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const out: Expected = new Map();
  for (const d of (JSON.parse(stdout) as CcusageDaily).daily) {
    out.set(d.date, new Map(d.modelBreakdowns.map((b) => [b.modelName, { input: b.inputTokens, output: b.outputTokens, cacheCreation: b.cacheCreationTokens, cacheRead: b.cacheReadTokens }])));
  }
  return out;
}

interface OurRow {
  day: string;
  model: string;
  input_tokens: number;
  output_tokens: number;
  cache_creation_tokens: number;
  cache_read_tokens: number;
}

async function ours(home: string, timezone: string): Promise<{ claude: Expected; codex: Map<string, OurRow> }> {
  const r = await runCli(['usage', 'daily', '--json', '--breakdown', '--timezone', timezone, '--home', home]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { timezone: string; rows: OurRow[] };
  assert.equal(report.timezone, timezone);
  const claude: Expected = new Map();
  const codex = new Map<string, OurRow>();
  for (const row of report.rows) {
    if (!row.model.startsWith('claude-')) {
      codex.set(row.model, row);
      continue;
    }
    let m = claude.get(row.day);
    if (!m) claude.set(row.day, (m = new Map()));
    m.set(row.model, { input: row.input_tokens, output: row.output_tokens, cacheCreation: row.cache_creation_tokens, cacheRead: row.cache_read_tokens });
  }
  return { claude, codex };
}

describe('daily totals per model equal ccusage 18.0.11 on the same transcripts', () => {
  const home = tempHome('token-api-ccusage-');
  const claudeDir = join(home.dir, 'claude');
  const codexDir = join(home.dir, 'codex');
  let corpus: Corpus;
  before(() => {
    // Sessions start at any hour, so in other zones days split differently than in UTC.
    corpus = generateCorpus({ claudeDir, codexDir, sessions: 10, responsesPerSession: 14, seed: 2026, days: 4 });
    writeFileSync(join(home.dir, 'config.json'), JSON.stringify({ usage_claude_dirs: [claudeDir], usage_codex_dirs: [codexDir] }));
  });
  after(() => home.cleanup());

  it('in UTC, and both equal what the corpus was generated with', async () => {
    const [reference, mine] = await Promise.all([ccusageDaily(claudeDir, 'UTC'), ours(home.dir, 'UTC')]);
    assert.ok(reference.size >= 3, 'the corpus spans several days');
    assert.deepEqual(plain(mine.claude), plain(reference));
    assert.deepEqual(plain(mine.claude), plain(corpus.expected));
    // ccusage reads Claude Code only; the Codex session is counted by differences.
    for (const [model, t] of corpus.codexExpected) {
      const row = mine.codex.get(model)!;
      assert.deepEqual([row.input_tokens, row.output_tokens, row.cache_read_tokens], [t.input, t.output, t.cacheRead], model);
    }
  });

  for (const tz of ['America/Los_Angeles', 'Asia/Kathmandu']) {
    it(`with days counted in ${tz}`, async () => {
      const [reference, mine] = await Promise.all([ccusageDaily(claudeDir, tz), ours(home.dir, tz)]);
      assert.deepEqual(plain(mine.claude), plain(reference));
    });
  }

  it('after the torn last line is completed (read incrementally from the stored offset)', async () => {
    appendFileSync(corpus.torn!.path, corpus.torn!.rest);
    const [reference, mine] = await Promise.all([ccusageDaily(claudeDir, 'UTC'), ours(home.dir, 'UTC')]);
    assert.deepEqual(plain(mine.claude), plain(reference));
    assert.notDeepEqual(plain(reference), plain(corpus.expected), 'the completed line now counts');
  });
});

describe('across a daylight saving change', () => {
  const home = tempHome('token-api-ccusage-dst-');
  const claudeDir = join(home.dir, 'claude');
  before(() => {
    // Europe/Paris leaves summer time on 2026-10-25: days there are not all 24 hours long.
    generateCorpus({ claudeDir, sessions: 8, responsesPerSession: 10, seed: 5, start: Date.UTC(2026, 9, 22), days: 8 });
    // Late evening in Paris on both sides of the change: which day they belong to depends on it.
    const late = join(claudeDir, 'projects', '-home-dev-late', 'late-session.jsonl');
    mkdirSync(dirname(late), { recursive: true });
    writeFileSync(
      late,
      ['2026-10-24T22:30:00.000Z', '2026-10-26T22:30:00.000Z', '2026-10-27T23:10:00.000Z']
        .map((timestamp, i) =>
          JSON.stringify({
            sessionId: 'late-session',
            type: 'assistant',
            uuid: `late-${i}`,
            timestamp,
            requestId: `req_late_${i}`,
            message: { id: `msg_late_${i}`, model: 'claude-haiku-4-5-20251001', role: 'assistant', content: [], usage: { input_tokens: 100 + i, output_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } },
          }),
        )
        .join('\n') + '\n',
    );
    writeFileSync(join(home.dir, 'config.json'), JSON.stringify({ usage_claude_dirs: [claudeDir], usage_codex_dirs: [] }));
  });
  after(() => home.cleanup());

  it('daily totals per model in Europe/Paris equal ccusage', async () => {
    const [reference, mine] = await Promise.all([ccusageDaily(claudeDir, 'Europe/Paris'), ours(home.dir, 'Europe/Paris')]);
    assert.ok([...reference.keys()].some((d) => d > '2026-10-25') && [...reference.keys()].some((d) => d < '2026-10-25'));
    assert.deepEqual(plain(mine.claude), plain(reference));
  });
});
