// The seed's usage routes over real HTTP, transcripts and the live feed: POST
// /api/usage/ccusage reads what the transcripts gained now and answers today's totals; POST
// /api/usage/{deviceId} takes the simple `{tokens, model?, at?}` besides records (a key of its
// own makes a resend count nothing); each scan and each push is a `sync_status` on the feed;
// a bad simple body is a 400 that writes nothing.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from './support/clock.js';
import { connectFeed, startFeedServer, type FeedServer, type TestFeedClient } from './support/feed.js';
import { tempHome } from './support/system.js';

const NOON = Date.UTC(2026, 10, 23, 12, 0, 0);

function transcriptLine(n: number, at: number, input: number, output: number): string {
  return `${JSON.stringify({
    sessionId: 'sess-today',
    type: 'assistant',
    uuid: `u-${n}`,
    timestamp: new Date(at).toISOString(),
    requestId: `req_${n}`,
    message: { id: `msg_${n}`, model: 'claude-sonnet-4-5-20250929', role: 'assistant', content: [{ type: 'text', text: 'done' }], usage: { input_tokens: input, output_tokens: output, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } },
  })}\n`;
}

describe('ccusage refresh, simple usage pushes and sync_status', () => {
  let home: { dir: string; cleanup: () => void };
  let f: FeedServer;
  let client: TestFeedClient;
  const claudeDir = () => join(home.dir, 'claude');
  before(async () => {
    home = tempHome();
    f = await startFeedServer(
      home.dir,
      { notifications: { speech: { engine: 'none' }, sound: { player: 'none' } }, usage_claude_dirs: [claudeDir()], usage_codex_dirs: [join(home.dir, 'codex')], usage_scan_interval_minutes: 0 },
      { clock: new FakeClock(NOON) },
    );
    client = await connectFeed(f.wsUrl);
    await client.next('snapshot');
  });
  after(async () => {
    await client.close();
    await f.close();
    home.cleanup();
  });

  it("reads the transcripts now and answers today's totals; the scan is a sync_status", async () => {
    const file = join(claudeDir(), 'projects', '-home-me-api', 'sess-today.jsonl');
    mkdirSync(join(claudeDir(), 'projects', '-home-me-api'), { recursive: true });
    writeFileSync(file, transcriptLine(1, NOON - 3600_000, 1000, 200) + transcriptLine(2, NOON - 86_400_000, 5, 5));
    const from = client.messages.length;
    const r = await f.post('/api/usage/ccusage', {});
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.synced.records, 2);
    assert.equal(r.body.today.day, '2026-11-23');
    assert.equal(r.body.today.timezone, 'UTC');
    assert.equal(r.body.today.totals.total_tokens, 1200, "only today's response");
    assert.deepEqual(r.body.today.devices.map((d: { device_id: string; total_tokens: number }) => [d.device_id, d.total_tokens]), [['desktop', 1200]]);
    const status = await client.next('sync_status', (m) => client.messages.indexOf(m) >= from);
    assert.deepEqual({ kind: status.kind, status: status.status, device_id: status.device_id, records: status.records, error: status.error }, { kind: 'scan', status: 'ok', device_id: 'desktop', records: 2, error: null });

    // Nothing new: a scan still, with nothing read.
    const again = await f.post('/api/usage/ccusage', undefined);
    assert.equal(again.body.synced.records, 0);
    assert.equal(again.body.today.totals.total_tokens, 1200);
    const second = await client.next('sync_status', (m) => m.seq > status.seq);
    assert.equal(second.records, 0);
  });

  it('takes the seed\'s simple body, and counts a keyed one once', async () => {
    const r = await f.post('/api/usage/laptop', { tokens: 1500, model: 'claude-sonnet-4-5', at: '2026-11-23T09:00:00Z', key: 'laptop-1' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { device_id: 'laptop', received: 1, inserted: 1, duplicates: 0 });
    assert.equal((await f.post('/api/usage/laptop', { tokens: 1500, key: 'laptop-1' })).body.inserted, 0);
    const plain = await f.post('/api/usage/laptop', { tokens: 20 });
    assert.equal(plain.body.inserted, 1);
    const today = (await f.get('/api/usage/laptop')).body.today;
    assert.equal(today.input_tokens, 1520);
    assert.equal(today.total_tokens, 1520);
    assert.ok(today.cost_usd > 0, 'priced as input tokens of the model named');
    const received = client.ofType('sync_status').filter((m) => m.kind === 'push_received');
    assert.deepEqual(received.map((m) => [m.device_id, m.records]), [['laptop', 1], ['laptop', 0], ['laptop', 1]]);
  });

  it('a push to a hub is a sync_status too (here the hub is this server: every record is there already)', async () => {
    const r = await f.post('/api/cron/jobs', { id: 'push-home', name: 'Push', schedule: '@daily', action: { type: 'usage.push', to: f.url, device: 'desk-2' } });
    assert.equal(r.status, 201);
    const run = await f.post('/api/cron/jobs/push-home/execute', { wait: true });
    assert.equal(run.body.status, 'succeeded', JSON.stringify(run.body));
    assert.equal(run.body.result.inserted, 0);
    assert.ok(run.body.result.sent >= 3);
    const sent = await client.next('sync_status', (m) => m.kind === 'push_sent');
    assert.equal(sent.status, 'ok');
    assert.equal(sent.device_id, 'desk-2');
    assert.equal(sent.target, f.url);
  });

  it('refuses a bad simple body in words, writing nothing, and ccusage is not a device', async () => {
    const counts = await f.counts();
    const neg = await f.post('/api/usage/laptop', { tokens: -1 });
    assert.equal(neg.status, 400);
    assert.match(neg.body.fields.tokens, /is -1; expected at least 0/);
    const extra = await f.post('/api/usage/laptop', { tokens: 1, colour: 'red' });
    assert.equal(extra.status, 400);
    assert.match(extra.body.fields.colour, /is not a known field/);
    const none = await f.post('/api/usage/laptop', {});
    assert.equal(none.status, 400);
    assert.match(none.body.fields.tokens, /is missing/);
    const badRecords = await f.post('/api/usage/laptop', { records: [{ key: 'x' }] });
    assert.equal(badRecords.status, 400);
    assert.ok(Object.keys(badRecords.body.fields).some((k) => k.startsWith('records.0.')));
    assert.deepEqual(await f.counts(), counts);
    const asDevice = await f.get('/api/usage/ccusage');
    assert.equal(asDevice.status, 405);
    assert.match(asDevice.body.message, /POST \/api\/usage\/ccusage reads the transcripts now/);
    const withBody = await f.post('/api/usage/ccusage', { now: true });
    assert.equal(withBody.status, 400);
  });
});
