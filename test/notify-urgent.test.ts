// Urgent notices: a permission request or a question goes out at once (no coalescing window)
// and alone; a channel that would deliver it after the instance stopped waiting drops it
// (`superseded`); with webhook.answered_update, a webhook already sent is followed by "answered".
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ConfigFile } from '../src/config/config.js';
import { FakeClock } from './support/clock.js';
import { startPhone, type Phone } from './support/phone.js';
import { hookPayload, startTestServer, tempHome, type TestServer } from './support/system.js';

const PHONE_IP = '100.102.92.24';

describe('urgent notifications', () => {
  let home: ReturnType<typeof tempHome>;
  let phone: Phone;
  let clock: FakeClock;
  let s: TestServer;

  const config = (webhook: Record<string, unknown> = {}): ConfigFile => ({
    devices: [{ id: 'pixel-phone', type: 'mobile', tailscale_ip: PHONE_IP, notification_method: 'webhook', webhook_url: phone.url }],
    notifications: { speech: { engine: 'none' }, sound: { player: 'none' }, webhook },
  });
  const boot = async (webhook: Record<string, unknown> = {}) => {
    s = await startTestServer(home.dir, config(webhook), { clock });
  };

  beforeEach(async () => {
    home = tempHome();
    phone = await startPhone();
    clock = new FakeClock();
  });
  afterEach(async () => {
    await s?.close();
    await phone.down();
    home.cleanup();
  });

  const settled = () => s.system.settle();
  const hook = (session: string, name: string, extra: Record<string, unknown> = {}) =>
    s.hook(hookPayload(session, name, { x_token_api_ssh_client: `${PHONE_IP} 50000 22`, ...extra }));
  const deliveries = async () =>
    (await s.request('GET', '/api/notifications?limit=50')).body.notifications.map((n: { event: string; deliveries: { channel: string; status: string }[] }) => [
      n.event,
      n.deliveries.map((d) => `${d.channel}:${d.status}`).join(','),
    ]);

  it('a permission request goes out at once, not after the window, and is never merged with a Stop', async () => {
    await boot();
    await hook('p', 'UserPromptSubmit');
    await hook('q', 'UserPromptSubmit');
    await hook('q', 'Stop', { last_assistant_message: 'done' });
    await hook('p', 'PermissionRequest', { tool_name: 'Bash' });
    await settled();
    await phone.waitFor(1);
    assert.equal(phone.received.length, 1, 'the request went out before any clock moved; the Stop waits in its window');
    assert.equal(phone.received[0]!.body.event, 'needs_permission');
    assert.equal(phone.received[0]!.body.urgency, 'urgent');
    assert.equal(phone.received[0]!.body.count, 1);
    clock.advance(3000);
    await settled();
    await phone.waitFor(2);
    assert.equal(phone.received[1]!.body.event, 'finished', 'the Stop went on its own');
  });

  it('a webhook whose instance stopped waiting before it could be delivered is dropped as superseded', async () => {
    await boot();
    phone.status = 503; // the phone is not taking it: retried with backoff
    await hook('s', 'UserPromptSubmit');
    await hook('s', 'PermissionRequest', { tool_name: 'Bash' });
    await settled();
    await phone.waitFor(1);
    // The request is answered in the terminal (the tool runs) before the retry.
    await hook('s', 'PostToolUse', { tool_name: 'Bash' });
    phone.status = 200;
    clock.advance(60_000);
    await settled();
    assert.equal(phone.received.length, 1, 'not sent again once answered');
    assert.deepEqual(await deliveries(), [['needs_permission', 'webhook:superseded']]);
    const n = (await s.request('GET', '/api/notifications?status=superseded')).body.notifications;
    assert.equal(n.length, 1);
    const ev = await s.request('GET', '/api/events?type=notification.superseded');
    assert.equal(ev.body.count, 1);
  });

  it('with webhook.answered_update, a sent request is followed by a short "answered" once the instance goes on', async () => {
    await boot({ answered_update: true });
    await hook('a', 'UserPromptSubmit');
    await hook('a', 'PermissionRequest', { tool_name: 'Bash' });
    await settled();
    await phone.waitFor(1);
    await hook('a', 'PostToolUse', { tool_name: 'Bash' });
    await settled();
    await phone.waitFor(2);
    assert.equal(phone.received[1]!.body.event, 'answered');
    assert.equal(phone.received[1]!.body.message, 'answered');
    assert.equal(phone.received[1]!.body.instance, 'claude-a');
    await hook('a', 'PreToolUse', { tool_name: 'Read' });
    await settled();
    assert.equal(phone.received.length, 2, 'said once');
  });

  it('without it (the default), nothing follows', async () => {
    await boot();
    await hook('n', 'UserPromptSubmit');
    await hook('n', 'PermissionRequest', { tool_name: 'Bash' });
    await settled();
    await phone.waitFor(1);
    await hook('n', 'PostToolUse', { tool_name: 'Bash' });
    await settled();
    assert.equal(phone.received.length, 1);
  });
});
