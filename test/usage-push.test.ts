// Usage across machines, with two real token-api server processes on loopback: a laptop
// pushes its records to the hub with `token-api usage push`, again and again, after a lost
// answer, across a hub outage, and with a session that moved between the machines; the hub
// counts every response once and keeps each with its device.
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openDatabase } from '../src/db/database.js';
import { getJson, runCli, startServerProcess, type ServerProcess } from './support/process.js';
import { tempHome } from './support/system.js';
import { generateCorpus, type Corpus, type Expected } from './support/transcripts.js';
import { claudeOnly, plain } from './support/usage.js';

function dailyOf(rows: { day: string; model: string; input_tokens: number; output_tokens: number; cache_creation_tokens: number; cache_read_tokens: number }[]): Expected {
  const out: Expected = new Map();
  for (const r of rows) {
    if (!out.has(r.day)) out.set(r.day, new Map());
    out.get(r.day)!.set(r.model, { input: r.input_tokens, output: r.output_tokens, cacheCreation: r.cache_creation_tokens, cacheRead: r.cache_read_tokens });
  }
  return out;
}

describe('token-api usage push between two real servers', () => {
  const laptopHome = tempHome('token-api-laptop-');
  const hubHome = tempHome('token-api-hub-');
  let laptop: ServerProcess | undefined;
  let hub: ServerProcess | undefined;
  let corpus: Corpus;
  const push = (extra: string[] = []) => runCli(['usage', 'push', '--to', hub!.url, '--home', laptopHome.dir, ...extra]);

  before(async () => {
    const claudeDir = join(laptopHome.dir, 'claude');
    corpus = generateCorpus({ claudeDir, codexDir: join(laptopHome.dir, 'codex'), sessions: 5, seed: 99 });
    writeFileSync(join(laptopHome.dir, 'config.json'), JSON.stringify({ local_device: 'laptop', usage_claude_dirs: [claudeDir], usage_codex_dirs: [join(laptopHome.dir, 'codex')] }));
    writeFileSync(join(hubHome.dir, 'config.json'), JSON.stringify({ usage_claude_dirs: [join(hubHome.dir, 'claude')], usage_codex_dirs: [join(hubHome.dir, 'codex')] }));
    [laptop, hub] = await Promise.all([startServerProcess(laptopHome.dir), startServerProcess(hubHome.dir)]);
  });
  after(async () => {
    await Promise.all([laptop?.kill('SIGTERM'), hub?.kill('SIGTERM')]);
    laptopHome.cleanup();
    hubHome.cleanup();
  });

  it('sends every record once; pushing again, or after a lost answer, adds nothing', async () => {
    const first = await push();
    assert.equal(first.code, 0, first.stderr);
    const sent = Number(/sent (\d+) record/.exec(first.stdout)?.[1]);
    assert.ok(sent > 0, first.stdout);
    assert.match(first.stdout, new RegExp(`${sent} new, 0 it already had`));

    const onHub = await getJson(`${hub!.url}/api/usage/laptop?group_by=day,model`);
    assert.equal(onHub.status, 200);
    assert.equal(onHub.body.totals.records, sent);
    assert.deepEqual(plain(claudeOnly(dailyOf(onHub.body.rows))), plain(corpus.expected));
    const codexOutput = [...corpus.codexExpected.values()].reduce((n, t) => n + t.output, 0);
    assert.equal(onHub.body.rows.filter((r: { model: string }) => r.model.startsWith('gpt-')).reduce((n: number, r: { output_tokens: number }) => n + r.output_tokens, 0), codexOutput);

    const again = await push();
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already has every record/);

    // The laptop never heard the hub's answers: its cursor is lost, everything is sent again.
    const db = await openDatabase(join(laptopHome.dir, 'token-api.db'));
    await db.run('DELETE FROM usage_push_cursors');
    await db.close();
    const resent = await push(['--json']);
    const result = JSON.parse(resent.stdout);
    assert.deepEqual([result.sent, result.inserted, result.duplicates], [sent, 0, sent]);
    const after = await getJson(`${hub!.url}/api/usage/laptop?group_by=day,model`);
    assert.deepEqual(after.body.totals, onHub.body.totals);
  });

  it('resumes after the hub was unreachable, sending only what it does not have', async () => {
    const before = (await getJson(`${hub!.url}/api/usage`)).body.totals;
    const hubUrl = hub!.url;
    await hub!.kill('SIGTERM');
    // New responses on the laptop while the hub is down.
    const file = corpus.files[0]!;
    const last = JSON.parse(readFileSync(file, 'utf8').trimEnd().split('\n').filter((l) => l.includes('"requestId"')).at(-1)!);
    for (const n of [1, 2]) {
      appendFileSync(file, `${JSON.stringify({ ...last, requestId: `req_late_${n}`, message: { ...last.message, id: `msg_late_${n}`, usage: { input_tokens: n, output_tokens: 10 * n, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } } })}\n`);
    }
    const down = await push();
    assert.equal(down.code, 1);
    assert.match(down.stderr, /token-api usage: cannot reach http:\/\/127\.0\.0\.1:\d+/);
    assert.doesNotMatch(down.stderr, /\n\s+at /, 'no stack trace');

    // The hub comes back on the same address: the laptop sends only the two it has not sent.
    hub = await startServerProcess(hubHome.dir, ['--port', new URL(hubUrl).port]);
    const resumed = await push(['--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const r = JSON.parse(resumed.stdout);
    assert.deepEqual([r.sent, r.inserted], [2, 2]);
    const now = (await getJson(`${hub.url}/api/usage`)).body.totals;
    assert.equal(now.output_tokens - before.output_tokens, 30);
    assert.equal(now.records - before.records, 2);
  });

  it('counts a session that moved between the machines once, kept with the device that reported it first', async () => {
    const before = (await getJson(`${hub!.url}/api/usage?group_by=device`)).body;
    // The hub's own transcripts now include a copy of one of the laptop's sessions.
    const moved = corpus.files.find((f) => f.endsWith('.jsonl') && f.includes('projects'))!;
    const target = join(hubHome.dir, 'claude', 'projects', basename(dirname(moved)), basename(moved));
    mkdirSync(dirname(target), { recursive: true });
    cpSync(moved, target);
    const sync = await fetch(`${hub!.url}/api/usage/sync`, { method: 'PUT' });
    const report = (await sync.json()) as { records: number };
    assert.equal(report.records, 0, 'nothing in the copy is new');
    const after = (await getJson(`${hub!.url}/api/usage?group_by=device`)).body;
    assert.deepEqual(after.totals, before.totals);
    assert.deepEqual(after.rows.map((r: { device_id: string }) => r.device_id), ['laptop']);
  });

  it('explains a missing or bad --to, and a hub that refuses the batch', async () => {
    const none = await runCli(['usage', 'push', '--home', laptopHome.dir]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /push needs --to URL/);
    const bad = await runCli(['usage', 'push', '--to', 'ftp://x', '--home', laptopHome.dir]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--to must be an http/);
    const badDevice = await runCli(['usage', 'push', '--to', hub!.url, '--device', 'no good', '--home', laptopHome.dir]);
    assert.equal(badDevice.code, 2);
    assert.match(badDevice.stderr, /--device must be/);
    // "sync" is not a device id the hub accepts.
    const refused = await runCli(['usage', 'push', '--to', hub!.url, '--device', 'sync', '--home', join(laptopHome.dir, 'fresh-home')], { CLAUDE_CONFIG_DIR: join(laptopHome.dir, 'claude') });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /answered 405/);
  });
});
