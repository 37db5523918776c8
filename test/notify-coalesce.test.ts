// Coalescing: intents for one device within the window (3 s by default) become one
// notification, driven by a FakeClock. The intents wait in SQLite while the window is open,
// so a stop inside the window loses nothing: the next start delivers them.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ConfigFile } from '../src/config/config.js';
import { FakeClock } from './support/clock.js';
import { startPhone, type Phone } from './support/phone.js';
import { databaseOf, readRows } from './support/sqlite.js';
import { hookPayload, startTestServer, tempHome, type TestServer } from './support/system.js';

const PHONE_IP = '100.102.92.24';

describe('coalescing notifications for one device', () => {
  let home: ReturnType<typeof tempHome>;
  let phone: Phone;
  let clock: FakeClock;
  let s: TestServer;

  const config = (): ConfigFile => ({
    devices: [{ id: 'pixel-phone', type: 'mobile', tailscale_ip: PHONE_IP, notification_method: 'webhook', webhook_url: phone.url }],
    notifications: { speech: { engine: 'none' }, sound: { player: 'none' } },
  });

  beforeEach(async () => {
    home = tempHome();
    phone = await startPhone();
    clock = new FakeClock();
    s = await startTestServer(home.dir, config(), { clock });
  });
  afterEach(async () => {
    await s?.close();
    await phone.down();
    home.cleanup();
  });

  const settled = () => s.system.settle();
  const start = (session: string, fromPhone = true) =>
    s.hook(hookPayload(session, 'SessionStart', { source: 'startup', ...(fromPhone ? { x_token_api_ssh_client: `${PHONE_IP} 50000 22` } : {}) }));

  it('folds three agents finishing within the window into one notification that names them, once the window closes', async () => {
    for (const id of ['a', 'b', 'c']) await start(id);
    await start('local', false);
    for (const id of ['a', 'b', 'c']) {
      await s.hook(hookPayload(id, 'Stop', {}));
      clock.advance(900);
    }
    await s.hook(hookPayload('local', 'Stop', {}));
    await settled();
    assert.equal(phone.received.length, 0, 'nothing is sent while the window is open');
    const waiting = await s.request('GET', '/health');
    assert.equal(waiting.body.notifications.waiting_intents, 4);

    clock.advance(300); // 3 s after the first intent: the phone's window closes
    await settled();
    await phone.waitFor(1);
    assert.equal(phone.received.length, 1);
    const body = phone.received[0]!.body;
    assert.equal(body.message, 'Claude #1, Claude #2 and Claude #3 in token-api finished');
    assert.equal(body.title, 'Claude #1, Claude #2 and Claude #3 in token-api finished');
    assert.equal(body.event, 'finished');
    assert.equal(body.count, 3);
    assert.equal(body.instance, null);

    clock.advance(3000); // the desktop's own window (it opened later) closes too
    await settled();
    const list = (await s.request('GET', '/api/notifications')).body.notifications as { device: string; message: string; intent_count: number; id: string }[];
    assert.deepEqual(
      list.map((n) => [n.device, n.message, n.intent_count]),
      [
        ['desktop', 'Claude #4 in token-api finished', 1],
        ['pixel-phone', 'Claude #1, Claude #2 and Claude #3 in token-api finished', 3],
      ],
    );
    const one = await s.request('GET', `/api/notifications/${list[1]!.id}`);
    assert.deepEqual(one.body.intents.map((i: { instance: string }) => i.instance), ['claude-a', 'claude-b', 'claude-c']);
    const events = await s.request('GET', '/api/events?type=notification.coalesced');
    assert.equal(events.body.count, 2);
  });

  it('starts a new window after one closed', async () => {
    await start('a');
    await s.hook(hookPayload('a', 'Stop', {}));
    clock.advance(3000);
    await s.hook(hookPayload('a', 'UserPromptSubmit', {}));
    await s.hook(hookPayload('a', 'Stop', {}));
    clock.advance(3000);
    await settled();
    await phone.waitFor(2);
    assert.deepEqual(
      phone.received.map((r) => r.body.message),
      ['Claude #1 in token-api finished', 'Claude #1 in token-api finished'],
    );
  });

  it('tells the phone when its agent expires, though the expired actor has left the hub', async () => {
    await start('idle-1');
    clock.advance(3 * 60 * 60 * 1000); // instance_expiry_minutes: 180; the expiry timer fires
    await s.system.settle(); // the timer's change (and its intent) is committed
    clock.advance(3000);
    await settled();
    await phone.waitFor(1);
    assert.equal(phone.received[0]!.body.message, 'Claude #1 in token-api timed out');
    assert.equal(phone.received[0]!.body.event, 'expired');
    assert.equal((await s.request('GET', '/api/instances/claude-idle-1')).body.state, 'stopped');
  });

  it('loses nothing when token-api stops inside the window: the next start delivers it', async () => {
    await start('a');
    await start('b');
    await s.hook(hookPayload('a', 'Stop', {}));
    await s.hook(hookPayload('b', 'StopFailure', { error: 'rate limited' }));
    clock.advance(1000);
    await s.close(); // inside the window: the intents are acknowledged and in SQLite, not yet a notification
    const rows = await readRows(home.dir, 'SELECT intent, notification_id FROM notification_intents ORDER BY at');
    assert.deepEqual(rows, [
      { intent: 'finished', notification_id: null },
      { intent: 'failed', notification_id: null },
    ]);
    assert.equal(phone.received.length, 0);

    s = await startTestServer(home.dir, config(), { clock });
    assert.equal(s.system.started.notificationsRecovered.intents, 2);
    await settled();
    await phone.waitFor(1);
    assert.equal(phone.received[0]!.body.message, 'Claude #2 in token-api failed. Claude #1 in token-api finished');
    const list = (await s.request('GET', '/api/notifications')).body.notifications;
    assert.equal(list.length, 1);
    assert.equal(list[0].status, 'delivered');
  });

  it('a coalesced notification that cannot be written is tried again, with a growing wait, until it is', async () => {
    await start('w');
    await s.hook(hookPayload('w', 'Stop', {}));
    await settled();
    await databaseOf(s.system).exec('ALTER TABLE notifications RENAME TO notifications_away');
    clock.advance(3000); // the window closes; the write fails
    await settled();
    clock.advance(1000); // the first retry fails too
    await settled();
    assert.equal(phone.received.length, 0);
    await databaseOf(s.system).exec('ALTER TABLE notifications_away RENAME TO notifications');
    clock.advance(1999);
    await settled();
    assert.equal(phone.received.length, 0, 'the second wait is two seconds');
    clock.advance(1);
    await settled();
    await phone.waitFor(1);
    assert.equal(phone.received[0]!.body.message, 'Claude #1 in token-api finished');
    const health = await s.request('GET', '/health');
    assert.equal(health.body.notifications.waiting_intents, 0);
  });
});
