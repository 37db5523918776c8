// "Break ended" reaches the person where they are: a mode timer running out is told to this
// machine and to every device used in the last recent_device_minutes (an agent's hook from it,
// a gate check it asked), not to one used before that. Real mode actor, real SQLite, real
// local HTTP servers as the phone's and the laptop's webhooks, an injected clock.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FakeClock } from './support/clock.js';
import { startPhone, type Phone } from './support/phone.js';
import { hookPayload, startTestServer, tempHome, type TestServer } from './support/system.js';

const MIN = 60_000;
const PHONE_IP = '100.102.92.24';
const LAPTOP_IP = '100.70.1.2';

describe('a mode timer ending', () => {
  let home: ReturnType<typeof tempHome>;
  let s: TestServer;
  let phone: Phone;
  let laptop: Phone;
  let clock: FakeClock;

  beforeEach(async () => {
    home = tempHome();
    clock = new FakeClock();
    phone = await startPhone();
    laptop = await startPhone();
    await phone.up();
    await laptop.up();
    s = await startTestServer(
      home.dir,
      {
        devices: [
          { id: 'pixel-phone', type: 'mobile', tailscale_ip: PHONE_IP, webhook_url: phone.url },
          { id: 'laptop', type: 'laptop', tailscale_ip: LAPTOP_IP, webhook_url: laptop.url },
        ],
        notifications: { coalesce_seconds: 0, speech: { engine: 'none' }, sound: { player: 'none' } },
      },
      { clock, peerAddress: (req) => (req.headers['x-test-peer'] as string | undefined) ?? req.socket.remoteAddress },
    );
  });
  afterEach(async () => {
    await s.close();
    await phone.down();
    await laptop.down();
    home.cleanup();
  });

  it('goes to every device used in the last 30 minutes, and not to one used before', async () => {
    await s.hook(hookPayload('on-laptop', 'SessionStart', { source: 'startup' }), `?ssh_client=${LAPTOP_IP}%2040000%2022`);
    clock.advance(20 * MIN);
    // The phone's automation asks the gate: the person is on the phone.
    assert.equal((await s.request('GET', '/api/check?app=youtube', undefined, { 'x-test-peer': PHONE_IP })).status, 200);
    assert.equal((await s.request('POST', '/api/mode', { mode: 'break', minutes: 15 })).status, 200);

    clock.advance(15 * MIN); // the laptop was last used 35 minutes ago
    await s.system.settle();
    await s.system.settle();
    await phone.waitFor(1);
    assert.equal(phone.received[0]!.body.message, 'The break timer ended; mode is now work_silence');
    assert.equal(laptop.received.length, 0);
    const list = (await s.request('GET', '/api/notifications')).body.notifications as { device: string; event: string }[];
    assert.deepEqual(list.map((n) => [n.device, n.event]).sort(), [
      ['desktop', 'mode_timer_ended'],
      ['pixel-phone', 'mode_timer_ended'],
    ]);
  });
});
