// End to end with the real server process: two agents on the phone finish inside the
// coalescing window, token-api is SIGKILLed before the window closes, restarted while the
// phone is down, SIGKILLed again with the webhook waiting to retry, restarted, and the phone
// comes up: it receives the one coalesced notification, exactly once.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { countByKey, startPhone } from './support/phone.js';
import { getJson, postJson, startServerProcess, type ServerProcess } from './support/process.js';
import { hookPayload, tempHome } from './support/system.js';

const PHONE_IP = '100.102.92.24';

/** Polls until `check` holds (a condition, not a duration), failing after `limitMs`. */
async function until<T>(what: string, check: () => Promise<T | undefined | false>, limitMs = 20_000): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the real server delivers to the phone exactly once across SIGKILLs', () => {
  const home = tempHome('token-api-notify-e2e-');
  let server: ServerProcess | undefined;
  after(async () => {
    await server?.kill();
    home.cleanup();
  });

  it('keeps intents through a kill inside the window and the webhook through a kill while the phone is down', async () => {
    const phone = await startPhone();
    await phone.down();
    writeFileSync(
      join(home.dir, 'config.json'),
      JSON.stringify({
        devices: [{ id: 'pixel-phone', type: 'mobile', tailscale_ip: PHONE_IP, notification_method: 'webhook', webhook_url: phone.url }],
        notifications: {
          coalesce_seconds: 60,
          speech: { engine: 'none' },
          sound: { player: 'none' },
          webhook: { backoff_initial_seconds: 0.05, backoff_max_seconds: 0.2 },
        },
      }),
    );
    server = await startServerProcess(home.dir);
    for (const session of ['e2e-a', 'e2e-b']) {
      const hook = (name: string, extra: Record<string, unknown> = {}) => postJson(`${server!.url}/api/hooks`, hookPayload(session, name, { x_token_api_ssh_client: `${PHONE_IP} 40000 22`, ...extra }));
      assert.equal((await hook('SessionStart', { source: 'startup' })).status, 200);
      assert.equal((await hook('Stop')).status, 200);
    }
    // Acknowledged, inside a 60 s window: nothing sent yet. Kill it there.
    assert.equal((await getJson(`${server.url}/api/notifications`)).body.count, 0);
    await server.kill('SIGKILL');

    // Restart with the phone down: the window's intents become the notification, which cannot be delivered yet.
    server = await startServerProcess(home.dir);
    const pending = await until('a failed attempt', async () => {
      const r = await getJson(`${server!.url}/api/notifications`);
      const n = r.body.notifications[0];
      return n && n.deliveries[0].attempts >= 1 ? n : undefined;
    });
    assert.equal(pending.message, 'Claude #1 and Claude #2 in token-api finished');
    assert.equal(pending.status, 'pending');
    await server.kill('SIGKILL');

    server = await startServerProcess(home.dir);
    await phone.up();
    const delivered = await until('delivery', async () => {
      const r = await getJson(`${server!.url}/api/notifications/${pending.id}`);
      return r.body.status === 'delivered' ? r.body : undefined;
    });
    assert.equal(delivered.intents.length, 2);
    assert.ok(delivered.deliveries[0].attempts >= 2);
    assert.deepEqual([...countByKey(phone.received)], [[pending.id, 1]]);
    assert.equal(phone.received[0]!.body.message, 'Claude #1 and Claude #2 in token-api finished');
    await phone.down();
  });
});
