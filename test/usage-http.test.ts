// The usage routes end to end over loopback: reports by device, day, model and instance,
// records pushed by another machine (idempotent), rescans, validation that writes nothing,
// and the live path: a Stop hook makes the server read what the instance's transcript
// gained, show it on GET /api/instances/{id} and publish a token_usage_update.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import type { ConfigFile } from '../src/config/config.js';
import { connectFeed } from './support/feed.js';
import { FakeClock } from './support/clock.js';
import { hookPayload, startTestServer, tableCounts, tempHome, type TestServer } from './support/system.js';
import { generateCorpus } from './support/transcripts.js';
import { claudeOnly, plain } from './support/usage.js';

let seq = 0;
function response(sessionId: string, at: number, usage: { input: number; output: number; cacheCreation?: number; cacheRead?: number }, model = 'claude-sonnet-4-5-20250929'): string {
  seq += 1;
  return `${JSON.stringify({
    sessionId,
    type: 'assistant',
    uuid: `u-${seq}`,
    timestamp: new Date(at).toISOString(),
    requestId: `req_${seq}`,
    message: { id: `msg_${seq}`, model, role: 'assistant', content: [{ type: 'text', text: 'done' }], usage: { input_tokens: usage.input, output_tokens: usage.output, cache_creation_input_tokens: usage.cacheCreation ?? 0, cache_read_input_tokens: usage.cacheRead ?? 0 } },
  })}\n`;
}

function record(key: string, over: Record<string, unknown> = {}) {
  return { key, source: 'claude', session_id: 'laptop-session', model: 'claude-opus-4-1', timestamp: '2026-11-22T08:00:00.000Z', input_tokens: 100, output_tokens: 1000, cache_creation_tokens: 0, cache_read_tokens: 5000, ...over };
}

describe('usage over HTTP', () => {
  let home: ReturnType<typeof tempHome>;
  let s: TestServer | undefined;
  let clock: FakeClock;
  const claudeDir = () => join(home.dir, 'claude');

  async function start(file: ConfigFile = {}): Promise<TestServer> {
    clock = new FakeClock();
    s = await startTestServer(
      home.dir,
      {
        usage_claude_dirs: [claudeDir()],
        usage_codex_dirs: [join(home.dir, 'codex')],
        devices: [{ id: 'pixel-phone', name: 'Pixel', type: 'mobile', tailscale_ip: '100.102.92.24' }],
        ...file,
      },
      { clock },
    );
    return s;
  }

  afterEach(async () => {
    await s?.close();
    s = undefined;
    home?.cleanup();
  });
  after(async () => {
    await s?.close();
  });

  it('rescans on PUT /api/usage/sync and answers totals by device, by day and model, over a range of days', async () => {
    home = tempHome();
    const corpus = generateCorpus({ claudeDir: claudeDir(), codexDir: join(home.dir, 'codex'), sessions: 6 });
    const srv = await start();
    const empty = await srv.request('GET', '/api/usage');
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body.rows, []);
    assert.equal(empty.body.timezone, 'UTC');

    const sync = await srv.request('PUT', '/api/usage/sync');
    assert.equal(sync.status, 200, sync.text);
    assert.equal(sync.body.files, corpus.files.length);
    assert.ok(sync.body.records > 0);
    assert.equal((await srv.request('PUT', '/api/usage/sync', {})).body.records, 0, 'a second sync finds nothing new');

    const byDevice = await srv.request('GET', '/api/usage');
    assert.deepEqual(byDevice.body.group_by, ['device']);
    assert.deepEqual(byDevice.body.rows.map((r: { device_id: string }) => r.device_id), ['desktop']);

    const byDay = await srv.request('GET', '/api/usage?group_by=day,model');
    const got = new Map<string, Map<string, { input: number; output: number; cacheCreation: number; cacheRead: number }>>();
    for (const r of byDay.body.rows) {
      if (!got.has(r.day)) got.set(r.day, new Map());
      got.get(r.day)!.set(r.model, { input: r.input_tokens, output: r.output_tokens, cacheCreation: r.cache_creation_tokens, cacheRead: r.cache_read_tokens });
    }
    assert.deepEqual(plain(claudeOnly(got)), plain(corpus.expected));

    // until is inclusive of its day; the range holds exactly the days in it.
    const ranged = await srv.request('GET', '/api/usage?group_by=day&since=2026-11-19&until=20261120');
    assert.deepEqual(ranged.body.rows.map((r: { day: string }) => r.day), ['2026-11-19', '2026-11-20']);
    assert.equal(ranged.body.since, '2026-11-19T00:00:00.000Z');
    assert.equal(ranged.body.until, '2026-11-21T00:00:00.000Z');
    const device = await srv.request('GET', '/api/usage/desktop?group_by=month');
    assert.equal(device.status, 200);
    assert.equal(device.body.device_id, 'desktop');
    assert.equal(device.body.rows[0].month, '2026-11');
    assert.equal(device.body.rows[0].total_tokens, byDevice.body.totals.total_tokens);
  });

  it('stores records pushed by another machine once, however often they are sent', async () => {
    home = tempHome();
    const srv = await start();
    const batch = { records: [record('msg_a:req_a'), record('msg_b:req_b', { model: 'gpt-5-codex', source: 'codex' }), record('msg_c:req_c', { model: 'some-new-model' })] };
    const first = await srv.request('POST', '/api/usage/laptop', batch);
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.body, { device_id: 'laptop', received: 3, inserted: 3, duplicates: 0 });
    const counts = await tableCounts(srv.system);
    const again = await srv.request('POST', '/api/usage/laptop', batch);
    assert.deepEqual(again.body, { device_id: 'laptop', received: 3, inserted: 0, duplicates: 3 });
    // Nothing but the event log grows... and not even that: a batch with nothing new records no event.
    assert.deepEqual(await tableCounts(srv.system), counts);
    // The same record from another device (a session that moved machines) is not counted twice.
    const moved = await srv.request('POST', '/api/usage/desktop', { records: [record('msg_a:req_a')] });
    assert.equal(moved.body.inserted, 0);

    const laptop = await srv.request('GET', '/api/usage/laptop?group_by=model');
    assert.equal(laptop.status, 200);
    assert.equal(laptop.body.totals.records, 3);
    assert.equal(laptop.body.totals.input_tokens, 300);
    assert.deepEqual(laptop.body.totals.unpriced_models, ['some-new-model']);
    const opus = laptop.body.rows.find((r: { model: string }) => r.model === 'claude-opus-4-1');
    // claude-opus-4-1: 100 input x $15, 1000 output x $75, 5000 cache read x $1.5 per million.
    assert.equal(opus.cost_usd, (100 * 15 + 1000 * 75 + 5000 * 1.5) / 1e6);
    const unknown = laptop.body.rows.find((r: { model: string }) => r.model === 'some-new-model');
    assert.equal(unknown.cost_usd, 0);
    assert.deepEqual(unknown.unpriced_models, ['some-new-model']);
    const all = await srv.request('GET', '/api/usage?group_by=device');
    assert.deepEqual(all.body.rows.map((r: { device_id: string }) => r.device_id), ['laptop']);
  });

  it('rejects bad queries and bad batches with 4xx in the error shape, writing nothing', async () => {
    home = tempHome();
    const srv = await start({ usage_body_limit_bytes: 2048 });
    const counts = await tableCounts(srv.system);
    const bad: [string, string, unknown, number, string?][] = [
      ['GET', '/api/usage?group_by=week', undefined, 400, 'group_by'],
      ['GET', '/api/usage?since=yesterday', undefined, 400, 'since'],
      ['GET', '/api/usage?since=2026-02-30', undefined, 400, 'since'],
      ['GET', '/api/usage?until=9999999999999999', undefined, 400, 'until'],
      ['GET', '/api/usage?timezone=Mars/Olympus', undefined, 400, 'timezone'],
      ['GET', '/api/usage?colour=red', undefined, 400, 'colour'],
      ['GET', '/api/usage/nobody', undefined, 404],
      ['GET', '/api/usage/bad%20id', undefined, 400, 'deviceId'],
      ['POST', '/api/usage/laptop', { records: [record('k', { input_tokens: -1 })] }, 400, 'records.0.input_tokens'],
      ['POST', '/api/usage/laptop', { records: [record('k', { input_tokens: 1_000_000_001 })] }, 400, 'records.0.input_tokens'],
      ['POST', '/api/usage/laptop', { records: [record('k'), record('j', { cache_read_tokens: 1e12 })] }, 400, 'records.1.cache_read_tokens'],
      ['POST', '/api/usage/laptop', { records: [record('k', { extra: 1 })] }, 400, 'records.0.extra'],
      ['POST', '/api/usage/laptop', { records: [record('k', { timestamp: 'noon' })] }, 400, 'records.0.timestamp'],
      ['POST', '/api/usage/laptop', { records: [record('k'), { ...record('j'), key: '' }] }, 400, 'records.1.key'],
      ['POST', '/api/usage/laptop', { rows: [] }, 400, 'rows'],
      ['POST', '/api/usage/laptop', '[1,2', 400],
      ['POST', '/api/usage/laptop', { records: Array.from({ length: 40 }, (_, i) => record(`k${i}`)) }, 413],
      ['POST', '/api/usage/sync', { records: [] }, 405],
      ['GET', '/api/usage/sync', undefined, 405],
      ['PUT', '/api/usage/sync', { now: true }, 400, 'now'],
      ['DELETE', '/api/usage', undefined, 405],
    ];
    for (const [method, path, body, status, field] of bad) {
      const r = await srv.request(method, path, body);
      assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
      assert.equal(typeof r.body.error, 'string');
      assert.equal(typeof r.body.message, 'string');
      if (field) assert.ok(field in (r.body.fields ?? {}), `${method} ${path} names ${field}: ${r.text}`);
    }
    assert.deepEqual(await tableCounts(srv.system), counts);
  });

  it('reads an instance transcript after Stop and while working: tokens on the instance, its device, and a token_usage_update', async () => {
    home = tempHome();
    const srv = await start({ usage_live_interval_seconds: 10 });
    // What the feed's clients (the dashboard) hear.
    const feed = await connectFeed(`${srv.wsUrl}?types=token_usage_update`);
    const updates = async () => {
      await feed.sync();
      return feed.ofType('token_usage_update');
    };
    const transcript = join(claudeDir(), 'projects', '-home-u-app', 'live-1.jsonl');
    mkdirSync(dirname(transcript), { recursive: true });
    writeFileSync(transcript, '');
    const hook = (name: string, extra: Record<string, unknown> = {}, query = '') => srv.hook({ ...hookPayload('live-1', name, extra), transcript_path: transcript }, query);

    // Started over SSH from the phone: its usage belongs to the phone.
    assert.equal((await hook('SessionStart', { source: 'startup' }, '?ssh_client=100.102.92.24%2051000%2022')).status, 200);
    await hook('UserPromptSubmit');
    const now = clock.now();
    appendFileSync(transcript, response('live-1', now, { input: 10, output: 200, cacheRead: 3000 }));
    assert.equal((await hook('Stop')).status, 200);
    await srv.system.settle();

    const inst = await srv.request('GET', '/api/instances/claude-live-1');
    assert.equal(inst.status, 200);
    assert.equal(inst.body.usage.input_tokens, 10);
    assert.equal(inst.body.usage.output_tokens, 200);
    assert.equal(inst.body.usage.total_tokens, 3210);
    assert.ok(inst.body.usage.cost_usd > 0);
    const [first, ...more] = await updates();
    assert.equal(more.length, 0, 'one update');
    assert.equal(first!.instance_id, 'claude-live-1');
    assert.equal(first!.device_id, 'pixel-phone');
    assert.equal(first!.added.total_tokens, 3210);
    assert.equal(first!.device_today.total_tokens, 3210);
    assert.equal(first!.device_today.day, '2026-11-23');

    // Working again: the periodic read picks up what is appended before any Stop.
    await hook('UserPromptSubmit');
    appendFileSync(transcript, response('live-1', now + 1000, { input: 5, output: 50 }));
    clock.advance(10_000);
    await srv.system.settle();
    const later = await srv.request('GET', '/api/instances/claude-live-1');
    assert.equal(later.body.usage.output_tokens, 250);
    assert.equal((await updates()).at(-1)!.instance!.output_tokens, 250);
    const phone = await srv.request('GET', '/api/usage/pixel-phone?group_by=instance');
    assert.equal(phone.body.rows[0].instance_id, 'claude-live-1');
    assert.equal(phone.body.today.output_tokens, 250);
    const byInstance = await srv.request('GET', '/api/usage?group_by=instance,device');
    assert.deepEqual(byInstance.body.rows.map((r: { instance_id: string; device_id: string }) => [r.instance_id, r.device_id]), [['claude-live-1', 'pixel-phone']]);
    // The dashboard shows tokens per instance and today's total per device.
    const dash = await srv.request('GET', '/api/dashboard');
    assert.equal(dash.body.usage.instances['claude-live-1'].output_tokens, 250);
    assert.equal(dash.body.usage.today.day, '2026-11-23');
    assert.deepEqual(dash.body.usage.today.devices.map((d: { device_id: string; total_tokens: number }) => [d.device_id, d.total_tokens]), [['pixel-phone', 3210 + 55]]);
  });

  it('records read before their instance existed (a scan, hooks installed mid-session) are claimed when it registers', async () => {
    home = tempHome();
    const srv = await start({ usage_live_interval_seconds: 0 });
    const transcript = join(claudeDir(), 'projects', '-home-u-app', 'early-1.jsonl');
    mkdirSync(dirname(transcript), { recursive: true });
    writeFileSync(transcript, response('early-1', clock.now(), { input: 7, output: 70 }));
    assert.equal((await srv.request('PUT', '/api/usage/sync')).status, 200);
    const before = await srv.request('GET', '/api/usage/desktop?group_by=instance');
    assert.deepEqual(before.body.rows.map((r: { instance_id: string | null }) => r.instance_id), [null]);

    // The session's first hook arrives over SSH from the phone: its earlier usage moves with it.
    await srv.hook({ ...hookPayload('early-1', 'UserPromptSubmit'), transcript_path: transcript }, '?ssh_client=100.102.92.24%2051000%2022');
    await srv.system.settle();
    const inst = await srv.request('GET', '/api/instances/claude-early-1');
    assert.equal(inst.body.usage.output_tokens, 70);
    const phone = await srv.request('GET', '/api/usage/pixel-phone?group_by=instance');
    assert.deepEqual(phone.body.rows.map((r: { instance_id: string }) => r.instance_id), ['claude-early-1']);
    assert.equal((await srv.request('GET', '/api/usage/desktop')).body.totals.output_tokens, 0);
  });

  it('never reads a transcript_path outside the configured transcript directories', async () => {
    home = tempHome();
    const srv = await start();
    const outside = join(home.dir, 'elsewhere', 'x.jsonl');
    mkdirSync(dirname(outside), { recursive: true });
    writeFileSync(outside, response('out-1', clock.now(), { input: 1, output: 1 }));
    await srv.hook({ ...hookPayload('out-1', 'SessionStart'), transcript_path: outside });
    await srv.hook({ ...hookPayload('out-1', 'Stop'), transcript_path: outside });
    await srv.system.settle();
    const inst = await srv.request('GET', '/api/instances/claude-out-1');
    assert.equal(inst.body.usage.records, 0);
  });

  it('recomputes stored costs when the pricing table changes between runs', async () => {
    home = tempHome();
    let srv = await start();
    await srv.request('POST', '/api/usage/laptop', { records: [record('msg_p:req_p', { model: 'team-model', input_tokens: 1_000_000, output_tokens: 0, cache_read_tokens: 0 })] });
    assert.deepEqual((await srv.request('GET', '/api/usage')).body.totals.unpriced_models, ['team-model']);
    await srv.close();
    s = undefined;
    srv = await start({ usage_pricing: { 'team-model': { input: 2, output: 8 } } });
    const r = await srv.request('GET', '/api/usage');
    assert.equal(r.body.totals.cost_usd, 2);
    assert.deepEqual(r.body.totals.unpriced_models, []);
  });
});
