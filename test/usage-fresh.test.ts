// Usage totals shown anywhere equal what the database holds, whoever wrote it: lines that
// `token-api usage` (another process) read while the server runs are announced by the
// server's next sync, and not read twice. Unknown models are priced by family, marked estimated.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createPricing, modelFamily } from '../src/usage/pricing.js';
import { connectFeed } from './support/feed.js';
import { runCli } from './support/process.js';
import { startTestServer, tempHome } from './support/system.js';
import { databaseOf } from './support/sqlite.js';

let seq = 0;
function line(sessionId: string, model: string, input: number, output: number): string {
  seq += 1;
  return `${JSON.stringify({
    sessionId,
    type: 'assistant',
    timestamp: new Date(Date.now() - 60_000).toISOString(),
    requestId: `req_f${seq}`,
    message: { id: `msg_f${seq}`, model, role: 'assistant', content: [{ type: 'text', text: 'ok' }], usage: { input_tokens: input, output_tokens: output, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } },
  })}\n`;
}

describe('usage totals stay true', () => {
  const home = tempHome('token-api-usage-fresh-');
  after(() => home.cleanup());

  it('records read by the usage command while the server runs reach the server\'s totals and listeners', async () => {
    const claude = join(home.dir, 'claude');
    const file = join(claude, 'projects', 'p', 'sess-1.jsonl');
    mkdirSync(join(claude, 'projects', 'p'), { recursive: true });
    writeFileSync(file, line('sess-1', 'claude-sonnet-4-5', 1000, 100));
    const s = await startTestServer(home.dir, { usage_claude_dirs: [claude], usage_codex_dirs: [join(home.dir, 'codex')], usage_scan_interval_minutes: 0 });
    try {
      // What the feed's clients (the dashboard) hear.
      const feed = await connectFeed(`${s.wsUrl}?types=token_usage_update`);
      // The sync reads the file unless a scan at start-up (the default usage-scan job) read it first.
      assert.equal((await s.request('PUT', '/api/usage/sync', {})).status, 200);
      const before = (await s.request('GET', '/api/usage?group_by=device')).body.totals.total_tokens;
      assert.equal(before, 1100);

      // More lines, read by the command-line tool (another process, same database).
      writeFileSync(file, line('sess-1', 'claude-sonnet-4-5', 1000, 100) + line('sess-1', 'claude-sonnet-4-5', 2000, 200), { flag: 'a' });
      const cli = await runCli(['usage', '--home', home.dir, '--json'], { TOKEN_API_URL: '', TOKEN_API_PORT: '' });
      assert.equal(cli.code, 0, cli.stderr);
      const dbTotal = (await databaseOf(s.system).get<{ t: number }>('SELECT SUM(input_tokens + output_tokens) AS t FROM usage_records'))!.t;
      assert.equal(dbTotal, 1100 + 1100 + 2200);

      await feed.sync();
      const from = feed.messages.length;
      const sync = await s.request('PUT', '/api/usage/sync', {});
      assert.equal(sync.body.records, 0, 'the lines the command read are not read again');
      await s.system.settle();
      await feed.sync();
      // The feed's clients hear of the records the other process wrote.
      const updates = feed.ofType('token_usage_update', from);
      assert.equal(updates.length, 1, 'one update for the records another process wrote');
      assert.equal(updates[0]!.origin, 'database');
      assert.equal(updates[0]!.device_today!.total_tokens, dbTotal);
      assert.equal((await s.request('GET', '/api/usage?group_by=device')).body.totals.total_tokens, dbTotal);
      await feed.close();
    } finally {
      await s.close();
    }
  });

  it('prices a model the table does not know by its family, and marks it estimated', () => {
    const pricing = createPricing();
    assert.deepEqual(modelFamily('claude-opus-5-5'), { family: 'claude-opus', version: [5, 5] });
    assert.deepEqual(pricing.priceOf('claude-opus-5-5'), pricing.priceOf('claude-opus-4-7'), 'the newest known opus');
    assert.equal(pricing.isEstimated('claude-opus-5-5'), true);
    assert.equal(pricing.isEstimated('claude-opus-4-7'), false);
    assert.deepEqual(pricing.priceOf('claude-sonnet-5-20270101'), pricing.priceOf('claude-sonnet-4-6'));
    assert.ok((pricing.cost('claude-opus-5-5', { input: 1_000_000, output: 0, cacheCreation: 0, cacheRead: 0 }) ?? 0) > 0, 'not $0');
    assert.equal(pricing.priceOf('mystery-model'), null, 'no known family: unpriced');
    assert.equal(pricing.isEstimated('mystery-model'), false);
  });

  it('reports show which models were estimated', async () => {
    const h = tempHome('token-api-usage-est-');
    const claude = join(h.dir, 'claude');
    mkdirSync(join(claude, 'projects', 'p'), { recursive: true });
    writeFileSync(join(claude, 'projects', 'p', 'sess-2.jsonl'), line('sess-2', 'claude-opus-5-5', 1000, 100));
    const s = await startTestServer(h.dir, { usage_claude_dirs: [claude], usage_codex_dirs: [join(h.dir, 'codex')], usage_scan_interval_minutes: 0 });
    try {
      await s.request('PUT', '/api/usage/sync', {});
      const t = (await s.request('GET', '/api/usage?group_by=model')).body.totals;
      assert.deepEqual(t.estimated_models, ['claude-opus-5-5']);
      assert.deepEqual(t.unpriced_models, []);
      assert.ok(t.cost_usd > 0);
    } finally {
      await s.close();
      h.cleanup();
    }
  });
});
