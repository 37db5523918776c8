// Webhook receiver chaos: a real local HTTP receiver hangs, resets connections, drops them,
// answers 500 and 429, answers slowly, and token-api restarts while requests hang; then it
// behaves. Every notification is delivered once it behaves (one 2xx per Idempotency-Key,
// never two), and each one's attempt count is exactly the number of attempts the schedule
// allowed. Time is a FakeClock (timeouts and backoff); the HTTP traffic is real.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ConfigFile } from '../src/config/config.js';
import { startChaosReceiver, type ChaosMode, type ChaosReceiver } from './support/chaos-receiver.js';
import { FakeClock } from './support/clock.js';
import { hookPayload, startTestServer, tempHome, type TestServer } from './support/system.js';

const PHONE_IP = '100.102.92.24';
const TIMEOUT_MS = 30_000;
const BACKOFF_MAX_MS = 8_000;

function config(receiver: ChaosReceiver): ConfigFile {
  return {
    devices: [{ id: 'pixel-phone', name: 'Pixel', type: 'mobile', tailscale_ip: PHONE_IP, notification_method: 'webhook', webhook_url: receiver.url }],
    notifications: {
      coalesce_seconds: 0,
      speech: { engine: 'none' },
      sound: { player: 'none' },
      webhook: { backoff_initial_seconds: 1, backoff_max_seconds: BACKOFF_MAX_MS / 1000, timeout_seconds: TIMEOUT_MS / 1000, retry_hours: 2 },
    },
  };
}

interface WebhookView {
  id: string;
  status: string;
  deliveries: { channel: string; status: string; attempts: number; last_error: string | null; response_status: number | null }[];
}

describe('webhook receiver chaos', () => {
  let home: ReturnType<typeof tempHome>;
  let receiver: ChaosReceiver;
  let clock: FakeClock;
  let s: TestServer;
  let turns = 0;

  beforeEach(async () => {
    home = tempHome('token-api-fault-webhook-');
    receiver = await startChaosReceiver();
    clock = new FakeClock();
    turns = 0;
  });
  afterEach(async () => {
    await s?.close();
    await receiver.close();
    home.cleanup();
  });

  const settled = () => s.system.settle();

  /** Lets time pass in steps shorter than the time limit, so that anything sent meanwhile really goes out and is answered. */
  async function pass(ms: number, step: number): Promise<void> {
    for (let t = 0; t < ms; t += step) {
      clock.advance(step);
      await settled();
    }
  }

  async function webhooks(): Promise<WebhookView[]> {
    const r = await s.request('GET', '/api/notifications?channel=webhook&limit=500');
    assert.equal(r.status, 200);
    return r.body.notifications as WebhookView[];
  }

  /** A finished turn of a session started over SSH from the phone: one notification for its webhook. Returns its id. */
  async function notification(): Promise<string> {
    const known = new Set((await webhooks()).map((n) => n.id));
    const session = `chaos-${++turns}`;
    const start = await s.hook(hookPayload(session, 'SessionStart', { source: 'startup', x_token_api_ssh_client: `${PHONE_IP} 50000 22` }));
    assert.equal(start.body.instance.origin.device_id, 'pixel-phone');
    assert.equal((await s.hook(hookPayload(session, 'Stop', { last_assistant_message: 'done' }))).status, 200);
    const fresh = (await webhooks()).filter((n) => !known.has(n.id));
    assert.equal(fresh.length, 1);
    return fresh[0]!.id;
  }

  it('hangs, resets, drops, fails, throttles, restarts mid-request, answers slowly, then behaves: each notification delivered exactly once', { timeout: 120_000 }, async () => {
    s = await startTestServer(home.dir, config(receiver), { clock });
    /** Attempts token-api has recorded for each notification, as the schedule makes them. */
    const attempts = new Map<string, number>();
    const pending = () => [...attempts.keys()];

    /**
     * One phase: the receiver misbehaves in `mode`; everything pending comes due (within the
     * longest backoff) and is tried once, and `fresh` new notifications are tried at once.
     */
    async function phase(mode: ChaosMode, fresh: number, opts: { advance?: boolean; recorded?: boolean } = {}): Promise<string[]> {
      receiver.mode = mode;
      const before = receiver.arrivals();
      const tried = pending();
      if (opts.advance !== false) clock.advance(BACKOFF_MAX_MS);
      for (let i = 0; i < fresh; i++) tried.push(await notification());
      if (mode === 'hang' || mode === 'slow') await receiver.waitForArrivals(before + tried.length);
      for (const id of tried) attempts.set(id, (attempts.get(id) ?? 0) + (opts.recorded === false ? 0 : 1));
      return tried;
    }

    async function expectPending(ids: string[], error: RegExp): Promise<void> {
      const list = await webhooks();
      for (const id of ids) {
        const d = list.find((n) => n.id === id)!.deliveries[0]!;
        assert.equal(d.status, 'pending', `${id}: ${JSON.stringify(d)}`);
        assert.equal(d.attempts, attempts.get(id), `${id} attempts`);
        assert.match(d.last_error ?? '', error);
      }
    }

    // 1. It hangs: nothing answers, and each attempt times out on token-api's clock.
    const first = await phase('hang', 3, { advance: false });
    assert.equal((await s.request('GET', '/health')).body.notifications.webhooks.in_flight, 3);
    clock.advance(TIMEOUT_MS);
    await settled();
    await expectPending(first, new RegExp(`no answer within ${TIMEOUT_MS} ms`));

    // 2. It resets every connection after reading the request head.
    await phase('reset', 2);
    await settled();
    await expectPending(pending(), /ECONNRESET|socket hang up/);

    // 3. It hangs again, and token-api restarts while the requests hang: their outcome is never
    //    recorded, and the restarted token-api takes every pending webhook back.
    await phase('hang', 1, { recorded: false });
    await s.close();
    s = await startTestServer(home.dir, config(receiver), { clock });
    assert.equal(s.system.started.notificationsRecovered.webhooks, attempts.size);
    receiver.dropHung();

    // 4. It closes connections before reading anything; 5. it answers 500; 6. it answers 429.
    await phase('drop', 1);
    await settled();
    await expectPending(pending(), /ECONNRESET|socket hang up|EPIPE/);
    await phase('error', 1);
    await settled();
    await expectPending(pending(), /HTTP 500: the receiver failed/);
    await phase('busy', 0);
    await settled();
    await expectPending(pending(), /HTTP 429: slow down/);
    assert.equal([...receiver.delivered.values()].length, 0, 'nothing may count as delivered yet');

    // 7. It behaves, slowly: every answer is held for most of the time limit, then sent in pieces.
    const last = await phase('slow', 1);
    clock.advance(TIMEOUT_MS - BACKOFF_MAX_MS - 1);
    assert.equal((await s.request('GET', '/health')).body.notifications.webhooks.in_flight, last.length, 'a slow answer within the limit is waited for');
    await receiver.releaseSlow();
    await settled();

    // Later, nothing is sent again, also across one more restart.
    receiver.mode = 'ok';
    const seen = receiver.arrivals();
    await pass(10 * BACKOFF_MAX_MS, BACKOFF_MAX_MS);
    await s.close();
    s = await startTestServer(home.dir, config(receiver), { clock });
    assert.equal(s.system.started.notificationsRecovered.webhooks, 0);
    await pass(10 * BACKOFF_MAX_MS, BACKOFF_MAX_MS);
    assert.equal(receiver.arrivals(), seen);

    // Every notification arrived exactly once (one 2xx per key), and token-api says so.
    const list = await webhooks();
    assert.equal(list.length, attempts.size);
    assert.equal(attempts.size, 9);
    assert.deepEqual(new Set(receiver.delivered.keys()), new Set(list.map((n) => n.id)));
    assert.deepEqual([...receiver.delivered.values()], list.map(() => 1));
    for (const n of list) {
      const d = n.deliveries[0]!;
      assert.equal(n.status, 'delivered', JSON.stringify(n));
      assert.deepEqual([d.status, d.response_status, d.attempts], ['delivered', 200, attempts.get(n.id)], `${n.id}: ${JSON.stringify(d)}`);
      assert.ok(receiver.seen.get(n.id)! <= d.attempts + 1, `${n.id}: the receiver saw more requests than attempts`);
    }
  });

  it('a receiver that hangs past the time limit on every try: retried with backoff until the retry window ends, then failed, never delivered twice', async () => {
    s = await startTestServer(home.dir, { ...config(receiver), notifications: { ...config(receiver).notifications, webhook: { backoff_initial_seconds: 1, backoff_max_seconds: 2, timeout_seconds: 5, retry_hours: 20 / 3600 } } }, { clock });
    receiver.mode = 'hang';
    const id = await notification();
    const waits: number[] = [];
    for (let i = 1; i <= 6; i++) {
      await receiver.waitForArrivals(i);
      clock.advance(5000); // the time limit of this attempt
      await settled();
      const [n] = (await webhooks()).filter((w) => w.id === id);
      const d = n!.deliveries[0]!;
      if (d.status !== 'pending') {
        assert.equal(d.status, 'failed');
        assert.match(d.last_error!, /gave up after \d+ attempts: no answer within 5000 ms/);
        break;
      }
      const next = Date.parse((await s.request('GET', `/api/notifications/${id}`)).body.deliveries[0].next_attempt_at);
      waits.push(next - clock.now());
      clock.advance(next - clock.now());
    }
    // 1 s, then 2 s (the cap), while the window (20 s from the first attempt) lasts.
    assert.deepEqual(waits, [1000, 2000, 2000]);
    receiver.dropHung();
    receiver.mode = 'ok';
    await pass(60_000, 2000);
    assert.equal(receiver.delivered.size, 0);
    const [n] = await webhooks();
    assert.equal(n!.status, 'failed');
    // A retry on request, once it behaves: delivered once.
    const retried = await s.request('POST', `/api/notifications/${id}/retry`);
    assert.equal(retried.status, 202, retried.text);
    await settled();
    assert.deepEqual([...receiver.delivered.entries()], [[id, 1]]);
  });
});
