// Devices over HTTP and from the config file: a registration of a known id merges (the fields
// it leaves out are kept, so phone routing goes on), PATCH changes only what it names, a
// webhook must be http(s), and devices added to or changed in the config file are applied at
// the next start. Real SQLite, real HTTP, a real local server as the phone's webhook.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FakeClock } from './support/clock.js';
import { startPhone, type Phone } from './support/phone.js';
import { hookPayload, startTestServer, tableCounts, tempHome, type TestServer } from './support/system.js';

const PHONE_IP = '100.102.92.24';

describe('devices', () => {
  let home: ReturnType<typeof tempHome>;
  let s: TestServer | undefined;
  let phone: Phone;

  const config = (extra: object = {}) => ({ notifications: { coalesce_seconds: 0, speech: { engine: 'none' as const }, sound: { player: 'none' as const } }, ...extra });

  beforeEach(async () => {
    home = tempHome();
    phone = await startPhone();
    await phone.up();
  });
  afterEach(async () => {
    await s?.close();
    s = undefined;
    await phone.down();
    home.cleanup();
  });

  it('a registration of a known id merges: the fields left out are kept and phone routing goes on', async () => {
    s = await startTestServer(home.dir, config(), { clock: new FakeClock() });
    const first = await s.request('POST', '/api/devices/register', { id: 'pixel-phone', type: 'mobile', tailscale_ip: PHONE_IP, webhook_url: phone.url });
    assert.equal(first.status, 201);
    assert.equal(first.body.outcome, 'created');

    const renamed = await s.request('POST', '/api/devices/register', { id: 'pixel-phone', name: 'Pixel 9' });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.body.outcome, 'merged');
    assert.deepEqual(renamed.body.changed, ['name']);
    assert.equal(renamed.body.name, 'Pixel 9');
    assert.equal(renamed.body.tailscale_ip, PHONE_IP);
    assert.equal(renamed.body.type, 'mobile');
    assert.equal(renamed.body.webhook_url, phone.url);

    // An agent started over SSH from the phone still notifies the phone.
    await s.hook(hookPayload('ph-1', 'SessionStart', { source: 'startup' }), `?ssh_client=${PHONE_IP}%2052144%2022`);
    await s.hook(hookPayload('ph-1', 'Stop'));
    await phone.waitFor(1);
    assert.match(String(phone.received[0]!.body.message), /^Claude #1 in token-api finished/);
  });

  it('PATCH changes only the fields it names; null clears one; an unknown id is 404; nothing named is 400', async () => {
    s = await startTestServer(home.dir, config(), { clock: new FakeClock() });
    await s.request('POST', '/api/devices/register', { id: 'laptop', type: 'laptop', tailscale_ip: '100.70.1.2', webhook_url: phone.url, notification_method: 'webhook' });
    const r = await s.request('PATCH', '/api/devices/laptop', { webhook_url: null, name: 'ThinkPad' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.changed.sort(), ['name', 'webhook_url']);
    const got = await s.request('GET', '/api/devices/laptop');
    assert.equal(got.body.name, 'ThinkPad');
    assert.equal(got.body.webhook_url, null);
    assert.equal(got.body.tailscale_ip, '100.70.1.2');
    assert.equal(got.body.type, 'laptop');
    assert.equal(got.body.notification_method, 'webhook');

    const counts = await tableCounts(s.system);
    const missing = await s.request('PATCH', '/api/devices/nope', { name: 'x' });
    assert.equal(missing.status, 404);
    const empty = await s.request('PATCH', '/api/devices/laptop', {});
    assert.equal(empty.status, 400);
    assert.match(empty.body.message, /has nothing to change; name at least one of name, type/);
    const bad = await s.request('PATCH', '/api/devices/laptop', { webhook_url: 'javascript:alert(1)' });
    assert.equal(bad.status, 400);
    const id = await s.request('PATCH', '/api/devices/laptop', { id: 'other' });
    assert.equal(id.status, 400);
    assert.deepEqual(await tableCounts(s.system), counts);
  });

  it('applies devices added to or changed in the config file at the next start, keeping what the file leaves out', async () => {
    s = await startTestServer(home.dir, config(), { clock: new FakeClock() });
    assert.deepEqual((await s.request('GET', '/api/devices')).body.devices.map((d: { id: string }) => d.id), ['desktop']);
    await s.close();

    s = await startTestServer(home.dir, config({ devices: [{ id: 'pixel-phone', type: 'mobile', tailscale_ip: PHONE_IP, webhook_url: 'http://127.0.0.1:1/old' }] }), { clock: new FakeClock() });
    assert.equal((await s.request('GET', '/api/devices/pixel-phone')).body.webhook_url, 'http://127.0.0.1:1/old');
    // Renamed through the API; the file does not name it.
    await s.request('PATCH', '/api/devices/pixel-phone', { name: 'Pixel 9' });
    await s.close();

    s = await startTestServer(home.dir, config({ devices: [{ id: 'pixel-phone', type: 'mobile', tailscale_ip: PHONE_IP, webhook_url: phone.url }] }), { clock: new FakeClock() });
    const d = (await s.request('GET', '/api/devices/pixel-phone')).body;
    assert.equal(d.webhook_url, phone.url);
    assert.equal(d.name, 'Pixel 9');
    const events = (await s.request('GET', '/api/events?type=device.updated')).body.events;
    assert.equal(events[0].details.source, 'config');
    assert.deepEqual(events[0].details.changed, ['webhook_url']);
  });
});
