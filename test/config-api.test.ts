// GET and PUT /api/config over real HTTP against a real config file: the configuration as it
// runs and as the file says, secrets masked (and a mask sent back keeping the secret); a change
// checked by the file's own schema and rules, written atomically beside a backup (mode kept, no
// temporary file left), applied at once for the cron, obsidian and metrics blocks and otherwise
// answered with restart_required; every refusal a clear 4xx that leaves the file as it was.
import assert from 'node:assert/strict';
import { chmodSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from './support/clock.js';
import { startTestServer, tableCounts, tempHome, type TestServer } from './support/system.js';

const QUIET = { notifications: { speech: { engine: 'none' as const }, sound: { player: 'none' as const } } };

describe('the configuration over HTTP', () => {
  const home = tempHome();
  let s: TestServer;
  const fileText = () => readFileSync(s.config.configFile, 'utf8');
  const onDisk = () => JSON.parse(fileText());
  before(async () => {
    s = await startTestServer(home.dir, { ...QUIET, metrics: { max_keys: 5 }, obsidian: { api_key: 'very-secret-key', vault: home.dir } }, { clock: new FakeClock() });
    chmodSync(s.config.configFile, 0o640);
  });
  after(async () => {
    await s.close();
    home.cleanup();
  });

  it('answers the configuration as it runs and as the file says, secrets masked', async () => {
    const r = await s.request('GET', '/api/config');
    assert.equal(r.status, 200);
    assert.equal(r.body.file, s.config.configFile);
    assert.equal(r.body.exists, true);
    assert.equal(r.body.settings.obsidian.api_key, '********');
    assert.equal(r.body.settings.metrics.max_keys, 5);
    assert.equal(r.body.effective.obsidian.apiKey, '********');
    assert.equal(r.body.effective.port, s.config.port);
    assert.equal(r.body.effective.metrics.maxKeys, 5);
    assert.deepEqual(r.body.restart_required, []);
    assert.doesNotMatch(r.text, /very-secret-key/);
  });

  it('applies a live setting at once: written atomically, the old file kept as .bak, the mode kept', async () => {
    const before = fileText();
    const r = await s.request('PUT', '/api/config', { set: { metrics: { max_keys: 1 } } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.changed, ['metrics.max_keys']);
    assert.deepEqual(r.body.applied, ['metrics.max_keys']);
    assert.deepEqual(r.body.restart_required, []);
    assert.equal(onDisk().metrics.max_keys, 1);
    assert.equal(onDisk().obsidian.api_key, 'very-secret-key', 'the rest of the file as it was');
    assert.equal(readFileSync(`${s.config.configFile}.bak`, 'utf8'), before);
    assert.equal(statSync(s.config.configFile).mode & 0o777, 0o640);
    assert.deepEqual(readdirSync(home.dir).filter((f) => f.startsWith('config.json')).sort(), ['config.json', 'config.json.bak'], 'no temporary file left');

    assert.equal((await s.request('POST', '/api/metrics/one', { value: 1 })).status, 201);
    const full = await s.request('POST', '/api/metrics/two', { value: 2 });
    assert.equal(full.status, 409, 'the new bound holds without a restart');
    assert.match(full.body.message, /maximum of 1 keys/);
    const event = (await s.request('GET', '/api/events?type=config.changed')).body.events[0];
    assert.deepEqual(event.details, { changed: ['metrics.max_keys'], applied: ['metrics.max_keys'], restart_required: [] });
  });

  it('writes what needs a restart and says so, now and in GET, until the server restarts', async () => {
    const r = await s.request('PUT', '/api/config', { set: { port: 18_777, event_retention_days: 7 } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.changed.sort(), ['event_retention_days', 'port']);
    assert.deepEqual(r.body.applied, []);
    assert.deepEqual(r.body.restart_required.sort(), ['event_retention_days', 'port']);
    assert.equal(r.body.effective.port, s.config.port, 'still listening where it was');
    assert.deepEqual((await s.request('GET', '/api/config')).body.restart_required.sort(), ['event_retention_days', 'port']);
    const back = await s.request('PUT', '/api/config', { unset: ['port', 'event_retention_days'] });
    assert.deepEqual(back.body.restart_required, [], 'back to what runs');
    assert.equal(onDisk().port, undefined);
  });

  it('keeps a secret sent back masked, and turns shell commands in jobs on without a restart', async () => {
    const shown = (await s.request('GET', '/api/config')).body.settings.obsidian;
    const r = await s.request('PUT', '/api/config', { set: { obsidian: { ...shown, timeout_seconds: 3 }, cron: { allow_commands: true } } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.changed.sort(), ['cron.allow_commands', 'obsidian.timeout_seconds']);
    assert.equal(onDisk().obsidian.api_key, 'very-secret-key');
    assert.equal(onDisk().obsidian.timeout_seconds, 3);
    const job = await s.request('POST', '/api/cron/jobs', { name: 'Echo', schedule: '@daily', command: 'echo hi' });
    assert.equal(job.status, 201, JSON.stringify(job.body));
  });

  it('refuses a change the file would not take, in words, leaving the file and the tables as they were', async () => {
    const before = fileText();
    const counts = await tableCounts(s.system);
    const cases: [unknown, string, RegExp][] = [
      [{ set: { obsidian: { url: 'ftp://example' } } }, 'set.obsidian.url', /expected an http:\/\/ or https:\/\/ URL/],
      [{ set: { metrics: { max_keys: 0 } } }, 'set.metrics.max_keys', /is 0; expected at least 1/],
      [{ set: { prot: 8080 } }, 'set.prot', /is not a known field.*\(did you mean port\?\)/],
      [{ set: { default_mode: 'party' } }, 'set.default_mode', /"party" is not one of the modes/],
      [{ set: { cron: { timezone: 'Mars/Base' } } }, 'set.cron.timezone', /IANA time zone/],
      [{ unset: ['Port!'] }, 'unset.0', /a config file key/],
      [{}, '(root)', /names nothing to change/],
    ];
    for (const [body, field, words] of cases) {
      const r = await s.request('PUT', '/api/config', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.body.error, 'validation_failed');
      assert.match(r.body.fields[field], words, `${JSON.stringify(body)}: ${r.text}`);
    }
    const crossKey = await s.request('PUT', '/api/config', { set: { default_mode: 'party' } });
    assert.match(crossKey.body.message, /^the change would make the config file invalid: default_mode "party" is not one of the modes .*; nothing was written$/);
    assert.equal(fileText(), before);
    assert.deepEqual(await tableCounts(s.system), counts);
  });

  it('refuses to change a file someone broke by hand since', async () => {
    const good = fileText();
    writeFileSync(s.config.configFile, '{ "port": ');
    const r = await s.request('PUT', '/api/config', { set: { metrics: { max_keys: 9 } } });
    assert.equal(r.status, 409);
    assert.match(r.body.message, /is not valid JSON now .*; fix it by hand, then try again/);
    assert.equal(readFileSync(s.config.configFile, 'utf8'), '{ "port": ');
    writeFileSync(s.config.configFile, good);
  });
});

describe('the configuration file written where there was none', () => {
  const home = tempHome();
  let s: TestServer;
  before(async () => {
    s = await startTestServer(home.dir, QUIET, { clock: new FakeClock() });
  });
  after(async () => {
    await s.close();
    home.cleanup();
  });

  it('creates it, readable by its owner only', async () => {
    unlinkSync(join(home.dir, 'config.json'));
    assert.equal((await s.request('GET', '/api/config')).body.exists, false);
    const r = await s.request('PUT', '/api/config', { set: { cron: { runs_kept: 10 } } });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(readFileSync(join(home.dir, 'config.json'), 'utf8')), { cron: { runs_kept: 10 } });
    assert.equal(statSync(join(home.dir, 'config.json')).mode & 0o777, 0o600);
  });
});
