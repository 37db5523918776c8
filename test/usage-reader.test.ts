// Reading transcripts from stored offsets: appends, torn last lines, truncation and
// replacement, chunk boundaries; and whole scans of generated corpora, again and again,
// adding up to what the corpus holds, each response once.
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, truncateSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readNewLines, type FileCursor } from '../src/usage/line-reader.js';
import { createScanner } from '../src/usage/scanner.js';
import { createUsageStore } from '../src/usage/store.js';
import { createPricing } from '../src/usage/pricing.js';
import { CLAUDE_MARKERS } from '../src/usage/claude-parser.js';
import { tempHome } from './support/system.js';
import { generateCorpus } from './support/transcripts.js';
import { claudeOnly, dailyByModel, openUsage, plain } from './support/usage.js';
import { createHub } from '../src/actors/runtime/hub.js';
import type { RootMachines } from '../src/actors/runtime/root-machines.js';
import { createWriter } from '../src/db/writer.js';
import pino from 'pino';

const marker = [Buffer.from('"usage"')];

async function read(path: string, prev: FileCursor | null, opts: { chunkBytes?: number } = {}) {
  const lines: string[] = [];
  const chunks: number[] = [];
  const out = await readNewLines(path, prev, { markers: marker, onLine: (b, s, e) => lines.push(b.toString('utf8', s, e)), onChunk: (c) => void chunks.push(c), ...opts });
  return { out: out!, lines, chunks };
}

describe('reading a transcript from a stored offset', () => {
  const home = tempHome();
  after(() => home.cleanup());
  const line = (n: number, pad = '') => `${JSON.stringify({ n, message: { usage: { input_tokens: n } }, pad })}\n`;
  const other = (n: number) => `${JSON.stringify({ n, type: 'user', text: 'no marker here' })}\n`;

  it('hands on only the lines with a marker, then only what was appended', async () => {
    const f = join(home.dir, 'a.jsonl');
    writeFileSync(f, line(1) + other(2) + line(3));
    const first = await read(f, null);
    assert.deepEqual(first.lines.map((l) => JSON.parse(l).n), [1, 3]);
    assert.equal(first.out.cursor.offset, readFileSync(f).length);
    assert.equal(first.out.restarted, false);
    appendFileSync(f, other(4) + line(5));
    const second = await read(f, first.out.cursor);
    assert.deepEqual(second.lines.map((l) => JSON.parse(l).n), [5]);
    const third = await read(f, second.out.cursor);
    assert.deepEqual(third.lines, []);
    assert.equal(third.out.bytesRead, 0);
  });

  it('leaves a torn last line for next time and hands it on once it is complete', async () => {
    const f = join(home.dir, 'torn.jsonl');
    const whole = line(2);
    writeFileSync(f, line(1) + whole.slice(0, 20));
    const first = await read(f, null);
    assert.deepEqual(first.lines.map((l) => JSON.parse(l).n), [1]);
    assert.equal(first.out.cursor.offset, line(1).length, 'the cursor stays before the torn line');
    appendFileSync(f, whole.slice(20));
    const second = await read(f, first.out.cursor);
    assert.deepEqual(second.lines.map((l) => JSON.parse(l).n), [2]);
  });

  it('takes a last line that is complete JSON even without its newline, and not again later', async () => {
    const f = join(home.dir, 'nonl.jsonl');
    writeFileSync(f, line(1) + line(2).trimEnd());
    const first = await read(f, null);
    assert.deepEqual(first.lines.map((l) => JSON.parse(l).n), [1, 2]);
    appendFileSync(f, `\n${line(3)}`);
    const second = await read(f, first.out.cursor);
    assert.deepEqual(second.lines.map((l) => JSON.parse(l).n), [3]);
  });

  it('reads a truncated file, or one replaced by other content, again from the start', async () => {
    const f = join(home.dir, 't.jsonl');
    writeFileSync(f, line(1) + line(2) + line(3));
    const first = await read(f, null);
    truncateSync(f, 0);
    writeFileSync(f, line(7));
    const shrunk = await read(f, first.out.cursor);
    assert.equal(shrunk.out.restarted, true);
    assert.deepEqual(shrunk.lines.map((l) => JSON.parse(l).n), [7]);
    // Same size, other first bytes: a different file under the same name.
    writeFileSync(f, line(8) + line(9));
    const a = await read(f, null);
    writeFileSync(f, line(6) + line(5));
    const b = await read(f, a.out.cursor);
    assert.equal(b.out.restarted, true);
    assert.deepEqual(b.lines.map((l) => JSON.parse(l).n), [6, 5]);
  });

  it('joins lines that span chunk boundaries and reports consumed offsets at line ends', async () => {
    const f = join(home.dir, 'chunks.jsonl');
    const text = line(1, 'x'.repeat(300)) + other(2) + line(3, 'y'.repeat(50)) + line(4, 'z'.repeat(1000));
    writeFileSync(f, text);
    const r = await read(f, null, { chunkBytes: 64 });
    assert.deepEqual(r.lines.map((l) => JSON.parse(l).n), [1, 3, 4]);
    const ends = new Set([0, ...[...text.matchAll(/\n/g)].map((m) => m.index! + 1)]);
    for (const c of r.chunks) assert.ok(ends.has(c), `offset ${c} is at a line end`);
    assert.deepEqual(r.chunks, [...r.chunks].sort((x, y) => x - y));
  });

  it('says null for a file that does not exist', async () => {
    assert.equal(await readNewLines(join(home.dir, 'nope.jsonl'), null, { markers: CLAUDE_MARKERS, onLine: () => undefined }), null);
  });
});

describe('scanning generated corpora', () => {
  it('adds up to the corpus, each response once; a rescan adds nothing; appends, a completed torn line and a rewrite count right', async () => {
    const home = tempHome();
    const claudeDir = join(home.dir, 'claude');
    const codexDir = join(home.dir, 'codex');
    const corpus = generateCorpus({ claudeDir, codexDir, sessions: 9, seed: 11 });
    const u = await openUsage(home.dir, { roots: { claudeDirs: [claudeDir], codexDirs: [codexDir] } });
    const progress: number[] = [];
    const first = await u.usage.sync({ onProgress: (p) => progress.push(p.bytesDone) });
    assert.equal(first.first, true);
    assert.equal(first.files, corpus.files.length);
    assert.equal(progress.at(-1), corpus.bytes, 'progress reaches every byte of the corpus');
    assert.deepEqual(plain(claudeOnly(await dailyByModel(u.usage))), plain(corpus.expected));
    const codex = await u.usage.report({ groupBy: ['model'], since: undefined });
    for (const [model, t] of corpus.codexExpected) {
      const row = codex.rows.find((r) => r.model === model)!;
      assert.deepEqual([row.input_tokens, row.output_tokens, row.cache_read_tokens], [t.input, t.output, t.cacheRead], model);
    }

    const again = await u.usage.sync();
    assert.equal(again.records, 0);
    assert.ok(again.filesRead <= 1, 'only the file with a torn line is looked at again');

    // The torn line is completed: it counts, once.
    appendFileSync(corpus.torn!.path, corpus.torn!.rest);
    const completed = await u.usage.sync();
    assert.equal(completed.records, 1);
    const tornLine = JSON.parse(readFileSync(corpus.torn!.path, 'utf8').trimEnd().split('\n').at(-1)!);
    const before = (await u.usage.report({ groupBy: [] })).totals;

    // A response appended as three lines (its stream), and copied into another session's file.
    const copy = (n: number) => `${JSON.stringify({ ...tornLine, requestId: 'req_new', message: { ...tornLine.message, id: 'msg_new', usage: { input_tokens: 1, output_tokens: 2 + n, cache_creation_input_tokens: 3, cache_read_input_tokens: 4 } } })}\n`;
    appendFileSync(corpus.files[0]!, copy(0) + copy(1) + copy(2));
    appendFileSync(corpus.files[1]!, copy(0));
    const appended = await u.usage.sync();
    assert.equal(appended.records, 1);
    const afterAppend = (await u.usage.report({ groupBy: [] })).totals;
    assert.equal(afterAppend.output_tokens - before.output_tokens, 2, 'the first line of the response counts');
    assert.equal(afterAppend.input_tokens - before.input_tokens, 1);

    // A file rewritten from scratch with the same content: read again, nothing counted twice.
    const content = readFileSync(corpus.files[2]!);
    truncateSync(corpus.files[2]!, 0);
    writeFileSync(corpus.files[2]!, content);
    const rewritten = await u.usage.sync();
    assert.equal(rewritten.records, 0);
    assert.deepEqual((await u.usage.report({ groupBy: [] })).totals, afterAppend);
    await u.close();
    home.cleanup();
  });

  it('resumes a Codex rollout mid-file after a restart, keeping the running totals it needs for differences', async () => {
    const home = tempHome();
    const codexDir = join(home.dir, 'codex');
    const src = join(home.dir, 'src');
    const corpus = generateCorpus({ claudeDir: src, codexDir: join(home.dir, 'gen'), sessions: 1 });
    const rollout = corpus.files.find((f) => f.includes('rollout-'))!;
    const lines = readFileSync(rollout, 'utf8').split(/(?<=\n)/);
    const target = join(codexDir, 'sessions', '2026', '11', '19', rollout.split('/').at(-1)!);
    mkdirSync(join(codexDir, 'sessions', '2026', '11', '19'), { recursive: true });
    const settings = { roots: { claudeDirs: [], codexDirs: [codexDir] } };
    const cut = Math.floor(lines.length / 2);
    writeFileSync(target, lines.slice(0, cut).join(''));
    let u = await openUsage(home.dir, settings);
    await u.usage.sync();
    await u.close();
    // A new process: cursors and the Codex state come from the database.
    appendFileSync(target, lines.slice(cut).join(''));
    u = await openUsage(home.dir, settings);
    const second = await u.usage.sync();
    assert.equal(second.first, false);
    const r = await u.usage.report({ groupBy: ['model'] });
    assert.deepEqual(
      Object.fromEntries(r.rows.map((row) => [row.model, { input: row.input_tokens, output: row.output_tokens, cacheCreation: 0, cacheRead: row.cache_read_tokens }])),
      Object.fromEntries(corpus.codexExpected),
    );
    await u.close();
    home.cleanup();
  });

  /** A corpus of 180 responses and a usage store on a real database, for scans in small batches. */
  async function batchFixture() {
    const home = tempHome();
    const claudeDir = join(home.dir, 'claude');
    const corpus = generateCorpus({ claudeDir, sessions: 3, responsesPerSession: 60 });
    const u = await openUsage(home.dir, { roots: { claudeDirs: [claudeDir], codexDirs: [] } });
    const hub = createHub<RootMachines>({ writer: createWriter(u.db), logger: pino({ level: 'silent' }), eventDetailsMaxBytes: 16384 });
    const store = createUsageStore({ db: u.db, hub, pricing: createPricing(), now: Date.now });
    return { home, claudeDir, corpus, u, store };
  }

  it('commits big files in batches with the cursor mid-file, and ends with the same totals', async () => {
    const { home, claudeDir, corpus, u, store } = await batchFixture();
    const batches: number[] = [];
    const scanner = createScanner({ store, roots: { claudeDirs: [claudeDir], codexDirs: [] }, now: Date.now, batchRecords: 7, chunkBytes: 4096, onRecords: (r) => batches.push(r.length) });
    const report = await scanner.scan({ attributor: () => ({ deviceId: 'desktop', instanceId: null }) });
    assert.ok(batches.length > 10, `${batches.length} batches`);
    assert.equal(report.records, corpus.keys.size);
    assert.deepEqual(plain(await dailyByModel(u.usage)), plain(corpus.expected));
    await u.close();
    home.cleanup();
  });

  it('commits no later batch of a scan once one fails, so the next scan reads the failed records again', async () => {
    const { home, claudeDir, corpus, u, store: real } = await batchFixture();
    let calls = 0;
    // The first batch fails late, after the reader has handed over the next ones.
    const busy: typeof real = {
      ...real,
      async ingest(records, ops) {
        calls += 1;
        if (calls === 1) {
          await new Promise((r) => setTimeout(r, 50));
          throw Object.assign(new Error('SQLITE_BUSY: database is locked'), { code: 'SQLITE_BUSY' });
        }
        return real.ingest(records, ops);
      },
    };
    const roots = { claudeDirs: [claudeDir], codexDirs: [] };
    const failing = createScanner({ store: busy, roots, now: Date.now, batchRecords: 7, chunkBytes: 4096 });
    await assert.rejects(failing.scan({ attributor: () => ({ deviceId: 'desktop', instanceId: null }) }), /SQLITE_BUSY/);
    // Nothing after the failed batch was committed: no record, no cursor past it.
    assert.deepEqual(await u.db.get('SELECT COUNT(*) AS n FROM usage_records'), { n: 0 });
    assert.deepEqual(await u.db.get('SELECT COUNT(*) AS n FROM usage_files'), { n: 0 });
    // A later scan, from the cursors in the database, ends with every record.
    const healthy = createScanner({ store: real, roots, now: Date.now, batchRecords: 7, chunkBytes: 4096 });
    await healthy.scan({ attributor: () => ({ deviceId: 'desktop', instanceId: null }) });
    assert.deepEqual(plain(await dailyByModel(u.usage)), plain(corpus.expected));
    await u.close();
    home.cleanup();
  });
});
