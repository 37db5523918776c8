// The notification routes over real HTTP: POST /api/notify, /api/notify/tts and
// /api/notify/sound, the history and retry, and GET /health's report of the engines. Bad
// input is a 4xx in the error shape that writes nothing. Speech goes through the PowerShell
// stand-in (SAPI's protocol); sound through aplay on ALSA's null device.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { ConfigFile } from '../src/config/config.js';
import { FakeClock } from './support/clock.js';
import { startPhone, type Phone } from './support/phone.js';
import { hookPayload, startTestServer, tableCounts, tempHome, type TestServer } from './support/system.js';

const FAKE_PS = fileURLToPath(new URL('./support/fake-powershell.mjs', import.meta.url));

describe('notification routes', () => {
  const home = tempHome();
  const log = join(home.dir, 'ps.log');
  let phone: Phone;
  let s: TestServer;
  const settled = () => s.system.settle();

  before(async () => {
    chmodSync(FAKE_PS, 0o755);
    writeFileSync(log, '');
    process.env.FAKE_PS_LOG = log;
    phone = await startPhone();
    const config: ConfigFile = {
      // work_music speaks and plays (the default work_silence only plays)
      default_mode: 'work_music',
      devices: [{ id: 'pixel-phone', type: 'mobile', tailscale_ip: '100.102.92.24', notification_method: 'webhook', webhook_url: phone.url }],
      notifications: {
        coalesce_seconds: 0,
        speech: { engine: 'sapi', powershell: FAKE_PS },
        sound: { command: ['aplay', '-q', '-D', 'null'] },
      },
    };
    s = await startTestServer(home.dir, config, { clock: new FakeClock() });
  });
  after(async () => {
    await s.close();
    await phone.down();
    delete process.env.FAKE_PS_LOG;
    home.cleanup();
  });

  const spoken = () =>
    readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { op: string; voice?: string | null; text?: string });

  it('GET /health reports the detected engine and player, and the profile voices they gave', async () => {
    const r = await s.request('GET', '/health');
    assert.equal(r.status, 200);
    const n = r.body.notifications;
    assert.equal(n.speech.engine, 'sapi');
    assert.equal(n.speech.available, true);
    assert.deepEqual(n.speech.voices, ['Microsoft David Desktop', 'Microsoft Zira Desktop', 'Microsoft Hedda Desktop']);
    assert.equal(n.sound.player, 'command');
    assert.deepEqual(n.voices, { voices: ['Microsoft David Desktop', 'Microsoft Zira Desktop'], source: 'detected' });
    const reg = await s.request('POST', '/api/instances/register', { instance_id: 'voiced' });
    assert.equal(reg.body.profile.tts_voice, 'Microsoft David Desktop');
  });

  it('POST /api/notify speaks and plays on the desktop, in the instance voice, after committing the outbox row', async () => {
    const r = await s.request('POST', '/api/notify', { message: 'Deploy finished', title: 'CI', instance: 'voiced' });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.body.device, 'desktop');
    assert.equal(r.body.title, 'CI');
    assert.equal(r.body.voice, 'Microsoft David Desktop');
    assert.deepEqual(r.body.deliveries.map((d: { channel: string }) => d.channel), ['sound', 'speech']);
    await settled();
    const stored = await s.request('GET', `/api/notifications/${r.body.id}`);
    assert.equal(stored.body.status, 'delivered');
    assert.deepEqual(stored.body.deliveries.map((d: { status: string; attempts: number }) => [d.status, d.attempts]), [
      ['delivered', 1],
      ['delivered', 1],
    ]);
    const last = spoken().at(-1)!;
    assert.deepEqual([last.op, last.voice, last.text], ['speak', 'Microsoft David Desktop', 'Deploy finished']);
  });

  it('POST /api/notify to the phone posts the webhook with the notification id as Idempotency-Key', async () => {
    const r = await s.request('POST', '/api/notify', { message: 'Tests are green', device: 'pixel-phone', urgency: 'urgent' });
    assert.equal(r.status, 202, r.text);
    await settled();
    await phone.waitFor(1);
    const got = phone.received.at(-1)!;
    assert.equal(got.key, r.body.id);
    assert.equal(got.body.message, 'Tests are green');
    assert.equal(got.body.urgency, 'urgent');
  });

  it('POST /api/notify/tts speaks with a known voice; /api/notify/sound plays a sound', async () => {
    const t = await s.request('POST', '/api/notify/tts', { message: 'Hello from token-api', voice: 'Microsoft Zira Desktop' });
    assert.equal(t.status, 202, t.text);
    const p = await s.request('POST', '/api/notify/sound', { sound: 'ding.wav' });
    assert.equal(p.status, 202, p.text);
    const d = await s.request('POST', '/api/notify/sound', {});
    assert.equal(d.status, 202, d.text);
    assert.equal(d.body.sound, 'chimes.wav');
    await settled();
    assert.deepEqual(spoken().at(-1)!.text, 'Hello from token-api');
    const list = await s.request('GET', '/api/notifications?status=delivered&limit=3');
    assert.deepEqual(list.body.notifications.map((n: { id: string }) => n.id), [d.body.id, p.body.id, t.body.id]);
  });

  it('a Stop hook from a desktop instance is spoken in its voice', async () => {
    await s.hook(hookPayload('desk-1', 'SessionStart', { source: 'startup' }));
    await s.hook(hookPayload('desk-1', 'Stop', { last_assistant_message: 'I fixed the **flaky** test.' }));
    await settled();
    const last = spoken().at(-1)!;
    assert.equal(last.text, 'Claude #2 in token-api finished: I fixed the flaky test.'); // #1 is the instance registered above
  });

  for (const [name, path, body, status, field] of [
    ['an unknown field', '/api/notify', { message: 'x', colour: 'red' }, 400, 'colour'],
    ['an empty message', '/api/notify', { message: '   ' }, 400, 'message'],
    ['no message', '/api/notify', {}, 400, 'message'],
    ['a message too long', '/api/notify', { message: 'x'.repeat(2001) }, 400, 'message'],
    ['a bad urgency', '/api/notify', { message: 'x', urgency: 'now' }, 400, 'urgency'],
    ['a channel twice', '/api/notify', { message: 'x', channels: ['sound', 'sound'] }, 400, 'channels'],
    ['an unknown channel', '/api/notify', { message: 'x', channels: ['pager'] }, 400, 'channels.0'],
    ['a channel the device cannot do', '/api/notify', { message: 'x', channels: ['webhook'] }, 400, 'channels'],
    ['an unknown device', '/api/notify', { message: 'x', device: 'fridge' }, 400, 'device'],
    ['an unknown instance', '/api/notify', { message: 'x', instance: 'claude-nobody' }, 404, 'instance'],
    ['an array body', '/api/notify', [1, 2], 400, '(root)'],
    ['an unknown voice', '/api/notify/tts', { message: 'x', voice: 'HAL 9000' }, 400, 'voice'],
    ['a path as the sound', '/api/notify/sound', { sound: '../../etc/passwd' }, 400, 'sound'],
    ['a sound that is not there', '/api/notify/sound', { sound: 'nope.wav' }, 400, 'sound'],
  ] as const) {
    it(`rejects ${name} (${status}) in the error shape, writing nothing`, async () => {
      const counts = await tableCounts(s.system);
      const r = await s.request('POST', path, body);
      assert.equal(r.status, status, r.text);
      assert.equal(typeof r.body.error, 'string');
      assert.equal(typeof r.body.message, 'string');
      assert.ok(field in (r.body.fields ?? {}), JSON.stringify(r.body));
      assert.deepEqual(await tableCounts(s.system), counts);
    });
  }

  it('rejects bad JSON, unknown query parameters and bad ids without writing', async () => {
    const counts = await tableCounts(s.system);
    const bad = await s.request('POST', '/api/notify', '{"message":', { 'content-type': 'application/json' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'invalid_json');
    assert.equal((await s.request('POST', '/api/notify?loud=1', { message: 'x' })).status, 400);
    assert.equal((await s.request('GET', '/api/notifications?limit=0')).status, 400);
    assert.equal((await s.request('GET', '/api/notifications?status=lost')).status, 400);
    assert.equal((await s.request('GET', '/api/notifications?colour=red')).status, 400);
    assert.equal((await s.request('GET', '/api/notifications/not%20an%20id')).status, 400);
    assert.equal((await s.request('GET', '/api/notifications/0b4a5d2e-0000-4000-8000-000000000000')).status, 404);
    assert.equal((await s.request('POST', '/api/notifications/0b4a5d2e-0000-4000-8000-000000000000/retry')).status, 404);
    assert.equal((await s.request('DELETE', '/api/notifications')).status, 405);
    assert.deepEqual(await tableCounts(s.system), counts);
  });

  it('answers 409, writing nothing, when the machine has no speech engine or player', async () => {
    const other = tempHome();
    const quiet = await startTestServer(other.dir, { notifications: { speech: { engine: 'none' }, sound: { player: 'none' } } }, { clock: new FakeClock() });
    try {
      const counts = await tableCounts(quiet.system);
      const t = await quiet.request('POST', '/api/notify/tts', { message: 'hello' });
      assert.equal(t.status, 409);
      assert.equal(t.body.error, 'unavailable');
      assert.match(t.body.message, /speech is turned off/);
      const p = await quiet.request('POST', '/api/notify/sound', {});
      assert.equal(p.status, 409);
      assert.deepEqual(await tableCounts(quiet.system), counts);
      const h = await quiet.request('GET', '/health');
      assert.equal(h.body.notifications.speech.available, false);
      assert.equal(h.body.notifications.sound.available, false);
      // Profiles keep the configured voices when nothing was detected.
      assert.equal(h.body.notifications.voices.source, 'configured');
    } finally {
      await quiet.close();
      other.cleanup();
    }
  });
});
