// Scheduled jobs over real HTTP, SQLite, shell commands and the live feed, on a FakeClock: the
// default jobs; creating, changing and deleting jobs (each committed and an event); runs when
// the schedule comes, by hand (202 once started, 200 with wait), never twice at once; shell
// commands off unless allowed, then run with a timeout, their output kept truncated and their
// exit code recorded; the built-in actions (mode, backup, usage, notify); a missed run caught
// up once at start only when the job says so; runs cut off by a stop marked interrupted; every
// refusal a clear 4xx that writes nothing.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openDatabase } from '../src/db/database.js';
import { FakeClock } from './support/clock.js';
import { connectFeed, startFeedServer, type FeedServer } from './support/feed.js';
import { readRows } from './support/sqlite.js';
import { startTestServer, tableCounts, tempHome, type TestServer } from './support/system.js';

const MIN = 60_000;
const QUIET = { notifications: { speech: { engine: 'none' as const }, sound: { player: 'none' as const } } };

describe('scheduled jobs over HTTP', () => {
  const home = tempHome();
  const clock = new FakeClock();
  let s: TestServer;
  before(async () => {
    s = await startTestServer(home.dir, { ...QUIET, cron: { timezone: 'UTC', allow_commands: true, output_max_bytes: 1024, timeout_seconds: 300 } }, { clock });
  });
  after(async () => {
    await s.close();
    home.cleanup();
  });

  it('lists the default jobs, a daily backup and a usage scan, like any other', async () => {
    const r = await s.request('GET', '/api/cron/jobs');
    assert.equal(r.status, 200);
    const byId = Object.fromEntries(r.body.jobs.map((j: { id: string }) => [j.id, j]));
    assert.deepEqual(byId['daily-backup'].action, { type: 'backup', keep: 7 });
    assert.equal(byId['daily-backup'].schedule, '30 3 * * *');
    assert.equal(byId['daily-backup'].next_run_at, '2026-11-24T03:30:00.000Z');
    assert.equal(byId['daily-backup'].catch_up, true);
    assert.deepEqual(byId['usage-scan'].action, { type: 'usage.sync' });
    assert.equal(byId['usage-scan'].next_run_at, '2026-11-23T13:00:00.000Z');
    assert.equal(byId['usage-scan'].running, false);
    assert.equal(byId['usage-scan'].last_run, null);
  });

  it('creates a job, runs it when its time comes, records the run and the event', async () => {
    const created = await s.request('POST', '/api/cron/jobs', { name: 'Break at quarter past', schedule: '15 * * * *', action: { type: 'mode.set', mode: 'break', minutes: 10 } });
    assert.equal(created.status, 201);
    assert.equal(created.body.id, 'break-at-quarter-past');
    assert.equal(created.body.next_run_at, '2026-11-23T12:15:00.000Z');
    assert.equal(created.body.enabled, true);
    assert.equal((await readRows(home.dir, 'SELECT id FROM cron_jobs WHERE id = ?', ['break-at-quarter-past'])).length, 1, 'committed before the answer');

    clock.advance(15 * MIN);
    await s.system.settle();
    assert.equal((await s.request('GET', '/api/mode')).body.mode, 'break');
    const runs = await s.request('GET', '/api/cron/jobs/break-at-quarter-past/runs');
    assert.equal(runs.body.count, 1);
    const run = runs.body.runs[0];
    assert.equal(run.trigger, 'schedule');
    assert.equal(run.status, 'succeeded');
    assert.equal(run.scheduled_for, '2026-11-23T12:15:00.000Z');
    assert.equal(run.result.mode, 'break');
    const job = (await s.request('GET', '/api/cron/jobs/break-at-quarter-past')).body;
    assert.equal(job.last_run.id, run.id);
    assert.equal(job.next_run_at, '2026-11-23T13:15:00.000Z');
    const events = (await s.request('GET', '/api/events?type=cron.*')).body.events;
    assert.deepEqual(events.map((e: { type: string }) => e.type).reverse(), ['cron.job_created', 'cron.executed']);
    assert.equal(events[0].details.status, 'succeeded');
    assert.equal(events[0].details.run_id, run.id);
  });

  it('runs a job by hand: 202 once its start is committed, 200 when asked to wait', async () => {
    const started = await s.request('POST', '/api/cron/jobs/break-at-quarter-past/execute');
    assert.equal(started.status, 202);
    assert.equal(started.body.status, 'running');
    assert.equal(started.body.trigger, 'manual');
    assert.equal((await readRows(home.dir, 'SELECT id FROM cron_runs WHERE id = ?', [started.body.id])).length, 1);
    await s.system.settle();
    const waited = await s.request('POST', '/api/cron/jobs/break-at-quarter-past/execute', { wait: true });
    assert.equal(waited.status, 200);
    assert.equal(waited.body.status, 'succeeded');
    assert.equal(waited.body.trigger, 'manual');
  });

  it('runs a shell command: its exit code, its output (the end kept), a timeout on the clock', async () => {
    const fail = await s.request('POST', '/api/cron/jobs', { id: 'fails', name: 'Fails', schedule: '@yearly', command: 'echo to-stdout; echo to-stderr 1>&2; exit 3' });
    assert.equal(fail.status, 201);
    const r = (await s.request('POST', '/api/cron/jobs/fails/execute', { wait: true })).body;
    assert.equal(r.status, 'failed');
    assert.equal(r.exit_code, 3);
    assert.equal(r.error, 'exited with code 3');
    assert.match(r.output, /to-stdout\n/);
    assert.match(r.output, /to-stderr\n/);
    assert.equal(r.output_truncated, false);

    await s.request('POST', '/api/cron/jobs', { id: 'chatty', name: 'Chatty', schedule: '@yearly', command: 'i=0; while [ $i -lt 500 ]; do echo "line $i of a long output"; i=$((i+1)); done; echo the-end' });
    const c = (await s.request('POST', '/api/cron/jobs/chatty/execute', { wait: true })).body;
    assert.equal(c.status, 'succeeded');
    assert.equal(c.exit_code, 0);
    assert.equal(c.output_truncated, true);
    assert.ok(c.output_bytes > 10_000, `${c.output_bytes} bytes written`);
    assert.ok(Buffer.byteLength(c.output) <= 1024);
    assert.match(c.output, /line 499 of a long output\nthe-end\n$/);

    await s.request('POST', '/api/cron/jobs', { id: 'slow', name: 'Slow', schedule: '@yearly', command: 'sleep 600', timeout_seconds: 30 });
    const slow = await s.request('POST', '/api/cron/jobs/slow/execute');
    assert.equal(slow.status, 202);
    const again = await s.request('POST', '/api/cron/jobs/slow/execute');
    assert.equal(again.status, 409);
    assert.match(again.body.message, /^job slow is running \(run .+\); a job never runs twice at once$/);
    clock.advance(30_000);
    await s.system.settle();
    const done = (await s.request('GET', '/api/cron/jobs/slow/runs')).body.runs;
    assert.equal(done.length, 1, 'the refused start left no run');
    assert.equal(done[0].status, 'timed_out');
    assert.equal(done[0].signal, 'SIGTERM');
    assert.equal(done[0].error, 'took longer than 30 s and was stopped');
  });

  it('skips a scheduled time that comes while the job still runs, and says so', async () => {
    await s.request('POST', '/api/cron/jobs', { id: 'minutely', name: 'Every minute', schedule: '* * * * *', command: 'sleep 600', timeout_seconds: 90 });
    clock.advance(MIN - (clock.now() % MIN));
    // Its start committed, the command runs (its timeout counts from the scheduled time).
    while ((await s.request('GET', '/api/cron/jobs/minutely/runs')).body.count === 0) await new Promise((r) => setImmediate(r));
    clock.advance(MIN);
    clock.advance(30_000);
    await s.system.settle();
    await s.request('PUT', '/api/cron/jobs/minutely', { enabled: false });
    const runs = (await s.request('GET', '/api/cron/jobs/minutely/runs')).body.runs.reverse();
    assert.deepEqual(
      runs.map((r: { status: string }) => r.status),
      ['timed_out', 'skipped'],
    );
    assert.match(runs[1].error, /^run .+ was still running; a job never runs twice at once$/);
    const skipped = (await s.request('GET', '/api/events?type=cron.skipped')).body.events;
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0].details.job_id, 'minutely');
  });

  it('backs the database up into a folder and keeps the newest copies', async () => {
    const dir = join(home.dir, 'copies');
    await s.request('POST', '/api/cron/jobs', { id: 'backup-test', name: 'Backup', schedule: '@yearly', action: { type: 'backup', dir, keep: 2 } });
    for (let i = 0; i < 3; i++) {
      const r = (await s.request('POST', '/api/cron/jobs/backup-test/execute', { wait: true })).body;
      assert.equal(r.status, 'succeeded', r.error);
      assert.ok(existsSync(r.result.target));
    }
    const copies = readdirSync(dir).sort();
    assert.equal(copies.length, 2, 'the oldest of three deleted');
    assert.match(copies[0]!, /^token-api-\d{8}-\d{6}-2\.db$/);
    assert.match(copies[1]!, /^token-api-\d{8}-\d{6}-3\.db$/);
    const db = await openDatabase(join(dir, copies[1]!), { readOnly: true });
    assert.ok((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM cron_jobs'))!.n >= 2);
    await db.close();
  });

  it('changes a job (masking a stored token), disables it, and deletes it with its runs', async () => {
    const created = await s.request('POST', '/api/cron/jobs', { id: 'push', name: 'Push', schedule: '0 2 * * *', action: { type: 'usage.push', to: 'http://127.0.0.1:9/', token: 's3cret' } });
    assert.equal(created.body.action.token, '********');
    const kept = await s.request('PUT', '/api/cron/jobs/push', { name: 'Push to the hub', action: created.body.action });
    assert.equal(kept.status, 200);
    assert.equal(kept.body.name, 'Push to the hub');
    const stored = await readRows(home.dir, 'SELECT action FROM cron_jobs WHERE id = ?', ['push']);
    assert.equal(JSON.parse(String(stored[0]!.action)).token, 's3cret', 'the mask sent back keeps the stored token');

    const off = await s.request('PUT', '/api/cron/jobs/push', { enabled: false });
    assert.equal(off.body.enabled, false);
    assert.equal(off.body.next_run_at, null);
    // A record to send (from a laptop), to a hub that is not there.
    const record = { key: 'k-1', source: 'claude', model: 'claude-sonnet-4-5', timestamp: '2026-11-23T10:00:00Z', input_tokens: 1, output_tokens: 2, cache_creation_tokens: 0, cache_read_tokens: 0 };
    assert.equal((await s.request('POST', '/api/usage/laptop', { records: [record] })).status, 200);
    const run = (await s.request('POST', '/api/cron/jobs/push/execute', { wait: true })).body;
    assert.equal(run.status, 'failed', 'nothing listens on port 9');
    assert.match(run.error, /cannot reach http:\/\/127\.0\.0\.1:9/);

    const del = await s.request('DELETE', '/api/cron/jobs/push');
    assert.equal(del.status, 200);
    assert.equal((await s.request('GET', '/api/cron/jobs/push')).status, 404);
    assert.equal((await s.request('GET', '/api/cron/jobs/push/runs')).status, 404);
    assert.deepEqual(await readRows(home.dir, 'SELECT id FROM cron_runs WHERE job_id = ?', ['push']), []);
    const types = (await s.request('GET', '/api/events?type=cron.*&limit=500')).body.events.filter((e: { details: { id?: string } }) => e.details.id === 'push').map((e: { type: string }) => e.type);
    assert.deepEqual(types.reverse(), ['cron.job_created', 'cron.job_updated', 'cron.job_updated', 'cron.job_deleted']);
  });

  it('refuses in words, writing nothing: a schedule croner refuses, both or neither of command and action, a mode not configured, a taken id, an unknown job', async () => {
    const before = await tableCounts(s.system);
    const bad = async (method: string, path: string, body: unknown, status: number, field: string | null, words: RegExp) => {
      const r = await s.request(method, path, body);
      assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
      if (field) assert.match(r.body.fields[field], words, JSON.stringify(r.body));
      else assert.match(r.body.message, words);
    };
    await bad('POST', '/api/cron/jobs', { name: 'x', schedule: '61 * * * *', action: { type: 'usage.sync' } }, 400, 'schedule', /croner refuses \(Invalid value for minute: 61\); expected five fields/);
    await bad('POST', '/api/cron/jobs', { name: 'x', schedule: 'every day', action: { type: 'usage.sync' } }, 400, 'schedule', /expected five fields/);
    await bad('POST', '/api/cron/jobs', { name: 'x', schedule: '0 0 30 2 *', action: { type: 'usage.sync' } }, 400, 'schedule', /never comes/);
    await bad('POST', '/api/cron/jobs', { name: 'x', schedule: '@daily', action: { type: 'usage.sync' }, command: 'true' }, 400, 'command', /names both command and action/);
    await bad('POST', '/api/cron/jobs', { name: 'x', schedule: '@daily' }, 400, 'action', /is missing; expected an action, or a command/);
    await bad('POST', '/api/cron/jobs', { name: 'x', schedule: '@daily', action: { type: 'reboot' } }, 400, 'action.type', /one of usage\.sync, usage\.push, backup, notify, mode\.set/);
    await bad('POST', '/api/cron/jobs', { name: 'x', schedule: '@daily', action: { type: 'mode.set', mode: 'party' } }, 400, 'action.mode', /mode party is not one of the configured modes/);
    await bad('POST', '/api/cron/jobs', { name: 'x', schedule: '@daily', timezone: 'Mars/Base', action: { type: 'usage.sync' } }, 400, 'timezone', /IANA time zone/);
    await bad('POST', '/api/cron/jobs', { id: 'usage-scan', name: 'x', schedule: '@daily', action: { type: 'usage.sync' } }, 409, 'id', /job usage-scan exists/);
    await bad('PUT', '/api/cron/jobs/usage-scan', {}, 400, '(root)', /names no field/);
    await bad('PUT', '/api/cron/jobs/usage-scan', { schedule: '* *' }, 400, 'schedule', /expected five fields/);
    await bad('PUT', '/api/cron/jobs/nope', { enabled: false }, 404, null, /no job nope/);
    await bad('POST', '/api/cron/jobs/nope/execute', undefined, 404, null, /no job nope/);
    await bad('GET', '/api/cron/jobs/usage-scan/runs?limit=0', undefined, 400, 'limit', /is 0; expected a whole number from 1 to 500/);
    await bad('GET', '/api/cron/jobs/UPPER', undefined, 400, 'id', /lowercase letters/);
    assert.deepEqual(await tableCounts(s.system), before);
  });
});

describe('scheduled jobs with shell commands off', () => {
  const home = tempHome();
  let s: TestServer;
  before(async () => {
    s = await startTestServer(home.dir, { ...QUIET, cron: { timezone: 'UTC' } }, { clock: new FakeClock() });
  });
  after(async () => {
    await s.close();
    home.cleanup();
  });

  it('refuses a command (403, nothing written), by creation or change', async () => {
    const before = await tableCounts(s.system);
    const r = await s.request('POST', '/api/cron/jobs', { name: 'Nope', schedule: '@daily', command: 'rm -rf /tmp/x' });
    assert.equal(r.status, 403);
    assert.equal(r.body.error, 'forbidden');
    assert.equal(r.body.fields.command, 'shell commands are off: set cron.allow_commands to true in the config file to allow jobs that run them');
    const p = await s.request('PUT', '/api/cron/jobs/usage-scan', { command: 'true' });
    assert.equal(p.status, 403);
    assert.deepEqual(await tableCounts(s.system), before);
    assert.deepEqual((await s.request('GET', '/api/cron/jobs/usage-scan')).body.action, { type: 'usage.sync' });
  });
});

describe('scheduled jobs across restarts, and on the live feed', () => {
  const home = tempHome();
  const clock = new FakeClock();
  const file = { ...QUIET, cron: { timezone: 'UTC', allow_commands: true }, websocket: { ping_seconds: 3600 } };
  let f: FeedServer | null = null;
  after(async () => {
    await f?.close();
    home.cleanup();
  });

  it('catches up a missed run once at start when the job says so, and only then; a run cut off is interrupted', async () => {
    f = await startFeedServer(home.dir, file, { clock });
    await f.post('/api/cron/jobs', { id: 'hourly-catch-up', name: 'Catch up', schedule: '0 * * * *', catch_up: true, action: { type: 'mode.set', mode: 'break' } });
    await f.post('/api/cron/jobs', { id: 'hourly-no', name: 'No catch up', schedule: '0 * * * *', action: { type: 'mode.set', mode: 'work_music' } });
    await f.post('/api/cron/jobs', { id: 'long', name: 'Long', schedule: '@yearly', command: 'sleep 600' });
    assert.equal((await f.post('/api/cron/jobs/long/execute', {})).status, 202);
    await f.close();
    f = null;
    const cut = await readRows(home.dir, "SELECT status, error FROM cron_runs WHERE job_id = 'long'");
    assert.deepEqual(cut, [{ status: 'interrupted', error: 'stopped: token-api stopped, or the job was deleted, during the run' }]);
    // A run the process could not record the end of (it was killed) is marked at the next start.
    const db = await openDatabase(join(home.dir, 'token-api.db'));
    await db.run("INSERT INTO cron_runs (id, job_id, trigger, started_at, status) VALUES ('run-killed', 'long', 'manual', '2026-11-23T12:00:00.000Z', 'running')");
    await db.close();

    clock.advance(3 * 60 * MIN + 10 * MIN); // down from 12:00 to 15:10
    f = await startFeedServer(home.dir, file, { clock });
    const client = await connectFeed(f.wsUrl);
    await client.next('snapshot');
    clock.advance(0);
    await f.running.system.settle();
    const caught = (await f.get('/api/cron/jobs/hourly-catch-up/runs')).body.runs;
    assert.equal(caught.length, 1, 'three missed hours, one run');
    assert.equal(caught[0].trigger, 'missed');
    assert.equal(caught[0].scheduled_for, '2026-11-23T13:00:00.000Z');
    assert.equal((await f.get('/api/cron/jobs/hourly-no/runs')).body.count, 0);
    assert.equal((await f.get('/api/mode')).body.mode, 'break');
    assert.equal((await f.get('/api/cron/jobs/hourly-catch-up')).body.next_run_at, '2026-11-23T16:00:00.000Z');

    const killed = await readRows(home.dir, "SELECT status, error, finished_at FROM cron_runs WHERE id = 'run-killed'");
    assert.deepEqual(killed, [{ status: 'interrupted', error: 'token-api stopped during the run', finished_at: '2026-11-23T15:10:00.000Z' }]);

    const msg = await client.next('cron_job_executed');
    assert.deepEqual(msg.job, { id: 'hourly-catch-up', name: 'Catch up' });
    assert.equal(msg.run.status, 'succeeded');
    assert.equal(msg.run.trigger, 'missed');
    await client.close();
  });

  it('puts a usage scan on the feed as sync_status, and each run as cron_job_executed', async () => {
    const client = await connectFeed(f!.wsUrl);
    await client.next('snapshot');
    const run = await f!.post('/api/cron/jobs/usage-scan/execute', { wait: true });
    assert.equal(run.status, 200);
    assert.equal(run.body.status, 'succeeded');
    assert.equal(typeof run.body.result.files, 'number');
    const sync = await client.next('sync_status');
    assert.equal(sync.kind, 'scan');
    assert.equal(sync.status, 'ok');
    assert.equal(sync.device_id, 'desktop');
    const executed = await client.next('cron_job_executed', (m) => m.job.id === 'usage-scan');
    assert.equal(executed.run.id, run.body.id);
    assert.equal(executed.seq > sync.seq, true, 'the scan is over before its run is');
    await client.close();
  });
});
