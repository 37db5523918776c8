// The test harness keeps every test on this machine's loopback: a configured phone webhook
// that points anywhere else (a real phone's Tailscale address, say) stops the test before a
// server starts, and a webhook delivery written during a test for such an address fails it
// at close.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertLoopbackWebhooks, startTestServer, tempHome } from './support/system.js';
import { databaseOf } from './support/sqlite.js';

const escaped = (s: string) => s.replace(/[.?/[\]]/g, '\\$&');

describe('tests never reach beyond loopback', () => {
  it('takes loopback receivers and refuses any other webhook address', () => {
    assert.doesNotThrow(() => assertLoopbackWebhooks(['http://127.0.0.1:4567/notify', 'http://localhost:1/', 'http://[::1]:80/x', null], 'here'));
    for (const url of ['http://100.102.92.24:7777/notify', 'https://phone.example/hook', 'http://192.168.1.20/notify', 'http://10.0.0.2/']) {
      assert.throws(() => assertLoopbackWebhooks([url], 'here'), new RegExp(`here: webhook ${escaped(url)} is beyond loopback`));
    }
  });

  it('refuses to start a test server whose config pushes to a real phone', async () => {
    const home = tempHome();
    try {
      await assert.rejects(
        startTestServer(home.dir, { devices: [{ id: 'pixel-phone', type: 'mobile', notification_method: 'webhook', webhook_url: 'http://100.102.92.24:7777/notify' }] }),
        /test config: webhook http:\/\/100\.102\.92\.24:7777\/notify is beyond loopback/,
      );
    } finally {
      home.cleanup();
    }
  });

  it('fails a test that had a webhook delivered beyond loopback, to a device registered over the API', async () => {
    const home = tempHome();
    // A documentation address (RFC 5737, never routed). Nothing may be sent to it, so the
    // pending delivery token-api's outbox would write for that device's notification is written
    // here, through a connection of the test's own, instead of by a hook.
    const url = 'http://192.0.2.1:9/notify';
    try {
      const s = await startTestServer(home.dir, { notifications: { coalesce_seconds: 0, speech: { engine: 'none' }, sound: { player: 'none' } } });
      await s.request('POST', '/api/devices/register', { id: 'tablet', type: 'mobile', tailscale_ip: '100.64.0.9', notification_method: 'webhook', webhook_url: url });
      const device = (await s.request('GET', '/api/devices/tablet')).body;
      assert.equal(device.webhook_url, url);
      const now = new Date().toISOString();
      await databaseOf(s.system).run("INSERT INTO notifications (id, created_at, source, event, device_id, title, message, urgency) VALUES ('n-far', ?, 'test', 'stop', 'tablet', 'Claude', 'finished', 'normal')", [now]);
      await databaseOf(s.system).run("INSERT INTO notification_deliveries (notification_id, channel, target, status, expires_at) VALUES ('n-far', 'webhook', ?, 'pending', ?)", [device.webhook_url, now]);
      await assert.rejects(s.close(), new RegExp(`a webhook delivery of this test: webhook ${escaped(url)} is beyond loopback`));
    } finally {
      home.cleanup();
    }
  });
});
