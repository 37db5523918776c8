// The test harness keeps every test on this machine's loopback: a configured phone webhook
// that points anywhere else (a real phone's Tailscale address, say) stops the test before a
// server starts, and a webhook delivery written during a test for such an address fails it
// at close.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertLoopbackWebhooks, hookPayload, startTestServer, tempHome } from './support/system.js';
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
    // A documentation address (RFC 5737, never routed); and the channels are stopped first, so
    // the notification and its delivery are written but nothing is sent.
    const url = 'http://192.0.2.1:9/notify';
    try {
      const s = await startTestServer(home.dir, { notifications: { coalesce_seconds: 0, speech: { engine: 'none' }, sound: { player: 'none' } } });
      s.system.deps.notifications.close();
      await s.request('POST', '/api/devices/register', { id: 'tablet', type: 'mobile', tailscale_ip: '100.64.0.9', notification_method: 'webhook', webhook_url: url });
      await s.hook(hookPayload('t', 'Stop', { x_token_api_ssh_client: '100.64.0.9 50000 22' }));
      const rows = await databaseOf(s.system).all<{ target: string; status: string; attempts: number }>("SELECT target, status, attempts FROM notification_deliveries WHERE channel = 'webhook'");
      assert.deepEqual(rows, [{ target: url, status: 'pending', attempts: 0 }]);
      await assert.rejects(s.close(), new RegExp(`a webhook delivery of this test: webhook ${escaped(url)} is beyond loopback`));
    } finally {
      home.cleanup();
    }
  });
});
