// The phone's webhook receiver is a real local HTTP server. It is down for a while, token-api
// restarts in between, then it comes up: every notification arrives exactly once. 4xx answers
// are recorded as failures, 5xx answers are retried with exponential backoff until the retry
// window ends. Time is a FakeClock; the HTTP traffic is real.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ConfigFile } from '../src/config/config.js';
import { FakeClock } from './support/clock.js';
import { connectFeed } from './support/feed.js';
import { countByKey, startPhone, type Phone } from './support/phone.js';
import { hookPayload, startTestServer, tempHome, type TestServer } from './support/system.js';

const PHONE_IP = '100.102.92.24';

function config(phone: Phone, extra: NonNullable<ConfigFile['notifications']> = {}): ConfigFile {
  return {
    devices: [{ id: 'pixel-phone', name: 'Pixel', type: 'mobile', tailscale_ip: PHONE_IP, notification_method: 'webhook', webhook_url: phone.url }],
    notifications: {
      coalesce_seconds: 0,
      speech: { engine: 'none' },
      sound: { player: 'none' },
      webhook: { backoff_initial_seconds: 1, backoff_max_seconds: 60, timeout_seconds: 5 },
      ...extra,
    },
  };
}

describe('webhook delivery to the phone', () => {
  let home: ReturnType<typeof tempHome>;
  let phone: Phone;
  let clock: FakeClock;
  let s: TestServer;

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

  /** A session started over SSH from the phone, then a finished turn (Stop). */
  async function phoneTurn(session: string, lastMessage = 'All 42 tests pass.'): Promise<void> {
    const start = await s.hook(hookPayload(session, 'SessionStart', { source: 'startup', x_token_api_ssh_client: `${PHONE_IP} 50000 22` }));
    assert.equal(start.body.instance.origin.device_id, 'pixel-phone');
    clock.advance(10);
    const stop = await s.hook(hookPayload(session, 'Stop', { last_assistant_message: lastMessage }));
    assert.equal(stop.status, 200);
  }

  async function webhookDeliveries() {
    const r = await s.request('GET', '/api/notifications?channel=webhook&limit=100');
    assert.equal(r.status, 200);
    return r.body.notifications as { id: string; status: string; deliveries: { channel: string; status: string; attempts: number; next_attempt_at: string | null; last_error: string | null; response_status: number | null; response_body: string | null }[] }[];
  }

  it('is down, token-api restarts, then it is up: every notification arrives exactly once', async () => {
    s = await startTestServer(home.dir, config(phone), { clock });
    await phone.down();
    await phoneTurn('p-1');
    await phoneTurn('p-2');
    await settled();
    let list = await webhookDeliveries();
    assert.equal(list.length, 2);
    for (const n of list) {
      assert.equal(n.status, 'pending');
      assert.equal(n.deliveries[0]!.attempts, 1);
      assert.match(n.deliveries[0]!.last_error ?? '', /ECONNREFUSED/);
    }
    clock.advance(1000); // first retry, still down
    await settled();
    list = await webhookDeliveries();
    assert.deepEqual(list.map((n) => n.deliveries[0]!.attempts), [2, 2]);

    // Restart token-api while the phone is still down; a third notification arrives meanwhile.
    await s.close();
    s = await startTestServer(home.dir, config(phone), { clock });
    assert.deepEqual(s.system.started.notificationsRecovered, { expiredLocal: 0, webhooks: 2, intents: 0 });
    await phoneTurn('p-3');
    await settled();
    assert.equal(phone.received.length, 0);

    await phone.up();
    clock.advance(2000); // the backoff of the oldest two has passed: they go, and the receiver being up pulls the third forward
    await settled();
    await phone.waitFor(3);
    clock.advance(60 * 60 * 1000); // an hour later nothing is sent again
    await settled();

    list = await webhookDeliveries();
    assert.equal(list.length, 3);
    const counts = countByKey(phone.received);
    assert.deepEqual([...counts.values()], [1, 1, 1], JSON.stringify([...counts]));
    assert.deepEqual(new Set(counts.keys()), new Set(list.map((n) => n.id)));
    for (const n of list) {
      assert.equal(n.status, 'delivered');
      assert.equal(n.deliveries[0]!.response_status, 200);
    }

    // What the phone got: the payload, the agent and what happened, no assistant text by default.
    const body = phone.received.find((r) => r.body.instance === 'claude-p-1')!.body;
    assert.deepEqual(Object.keys(body).sort(), ['at', 'count', 'device', 'event', 'id', 'instance', 'message', 'title', 'urgency']);
    assert.equal(body.message, 'Claude #1 in token-api finished');
    assert.equal(body.event, 'finished');
    assert.equal(body.device, 'pixel-phone');
    assert.equal(body.urgency, 'normal');
    assert.equal(phone.received[0]!.headers['content-type'], 'application/json');

    // And after one more restart, delivered notifications stay delivered.
    await s.close();
    s = await startTestServer(home.dir, config(phone), { clock });
    assert.equal(s.system.started.notificationsRecovered.webhooks, 0);
    clock.advance(60_000);
    await settled();
    assert.equal(phone.received.length, 3);
  });

  it('records a 4xx answer as failed with the answer, without retrying; retry sends it again', async () => {
    s = await startTestServer(home.dir, config(phone), { clock });
    const feed = await connectFeed(s.wsUrl);
    await feed.next('snapshot');
    phone.status = 410;
    await phoneTurn('gone-1');
    await settled();
    await feed.sync();
    const updates = feed.ofType('notification');
    await feed.close();
    // The WebSocket feed hears of the notification, then of its delivery outcome.
    assert.deepEqual(
      updates.map((u) => (u.change === 'created' ? [u.change, u.notification.message] : [u.change, u.delivery!.channel, u.delivery!.status, u.delivery!.attempts])),
      [
        ['created', 'Claude #1 in token-api finished'],
        ['delivery', 'webhook', 'failed', 1],
      ],
    );
    clock.advance(10 * 60_000);
    await settled();
    assert.equal(phone.received.length, 1);
    let [n] = await webhookDeliveries();
    assert.equal(n!.status, 'failed');
    assert.equal(n!.deliveries[0]!.response_status, 410);
    assert.equal(n!.deliveries[0]!.response_body, 'refused with 410');
    assert.equal(n!.deliveries[0]!.attempts, 1);

    phone.status = 200;
    const retried = await s.request('POST', `/api/notifications/${n!.id}/retry`);
    assert.equal(retried.status, 202, retried.text);
    await settled();
    [n] = await webhookDeliveries();
    assert.equal(n!.status, 'delivered');
    assert.equal(n!.deliveries[0]!.attempts, 2);
    assert.deepEqual([...countByKey(phone.received).values()], [2]); // the same Idempotency-Key, sent again on request

    const again = await s.request('POST', `/api/notifications/${n!.id}/retry`);
    assert.equal(again.status, 409);
    assert.match(again.body.message, /webhook is delivered/);
  });

  it('two retries of the same failed notification at once send it once; the other is told 409', async () => {
    s = await startTestServer(home.dir, config(phone), { clock });
    phone.status = 410;
    await phoneTurn('twice-1');
    await settled();
    let [n] = await webhookDeliveries();
    assert.equal(n!.status, 'failed');
    assert.equal(phone.received.length, 1);

    phone.status = 200;
    const answers = await Promise.all([s.request('POST', `/api/notifications/${n!.id}/retry`), s.request('POST', `/api/notifications/${n!.id}/retry`)]);
    assert.deepEqual(answers.map((a) => a.status).sort(), [202, 409], answers.map((a) => a.text).join('\n'));
    const refused = answers.find((a) => a.status === 409)!;
    assert.equal(refused.body.error, 'conflict');
    // Usually the first is still in progress; if it already finished, the delivery is pending.
    assert.match(refused.body.message, /retry of .* is already in progress|nothing to retry: webhook is pending/);
    await settled();
    clock.advance(10 * 60_000);
    await settled();
    [n] = await webhookDeliveries();
    assert.equal(n!.status, 'delivered');
    assert.equal(n!.deliveries[0]!.attempts, 2);
    assert.equal(phone.received.length, 2, 'the first failed attempt and one retry, not two');
    assert.deepEqual([...countByKey(phone.received).values()], [2]);
  });

  it('adds the last assistant message to a webhook only when the device asks for it', async () => {
    s = await startTestServer(home.dir, config(phone, { devices: { 'pixel-phone': { include_message: true } } }), { clock });
    await phoneTurn('chatty', 'Refactored the **router**; all tests pass.');
    await settled();
    await phone.waitFor(1);
    assert.equal(phone.received[0]!.body.message, 'Claude #1 in token-api finished: Refactored the router; all tests pass.');
  });

  it('retries a 5xx with exponential backoff and gives up when the retry window ends', async () => {
    s = await startTestServer(home.dir, config(phone, { webhook: { backoff_initial_seconds: 1, backoff_max_seconds: 4, retry_hours: 12 / 3600 } }), { clock });
    phone.status = 503;
    await phoneTurn('busy-1');
    await settled();
    const start = clock.now();
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const [n] = await webhookDeliveries();
      const d = n!.deliveries[0]!;
      if (d.status !== 'pending') break;
      const next = Date.parse(d.next_attempt_at!);
      waits.push(next - clock.now());
      clock.advance(next - clock.now());
      await settled();
    }
    // 1 s, 2 s, 4 s, then capped at 4 s, until 12 s after the first attempt.
    assert.deepEqual(waits, [1000, 2000, 4000, 4000]);
    assert.ok(clock.now() - start <= 12_000);
    const [n] = await webhookDeliveries();
    assert.equal(n!.status, 'failed');
    assert.equal(n!.deliveries[0]!.attempts, 5);
    assert.equal(phone.received.length, 5);
    assert.match(n!.deliveries[0]!.last_error!, /gave up after 5 attempts: HTTP 503/);
  });
});
