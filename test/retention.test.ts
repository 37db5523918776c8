// The event log keeps `event_retention_days` of history: older rows go at start and then
// daily (on the injected clock); newer ones, and everything with 0, stay.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { FakeClock } from './support/clock.js';
import { hookPayload, startTestServer, tempHome, type TestServer } from './support/system.js';
import { databaseOf } from './support/sqlite.js';

const DAY = 86_400_000;

describe('event retention', () => {
  const homes: ReturnType<typeof tempHome>[] = [];
  const servers: TestServer[] = [];
  after(async () => {
    for (const s of servers) await s.close();
    for (const h of homes) h.cleanup();
  });

  async function count(s: TestServer): Promise<number> {
    return (await databaseOf(s.system).get<{ n: number }>('SELECT COUNT(*) AS n FROM events'))!.n;
  }

  it('deletes events older than the retention once a day, keeping newer ones', async () => {
    const home = tempHome();
    homes.push(home);
    const clock = new FakeClock();
    const s = await startTestServer(home.dir, { event_retention_days: 1, instance_expiry_minutes: 60 * 24 * 30 }, { clock });
    servers.push(s);
    const olderThan = async (ms: number) =>
      (await databaseOf(s.system).get<{ n: number }>('SELECT COUNT(*) AS n FROM events WHERE created_at < ?', [new Date(ms).toISOString()]))!.n;
    const t0 = clock.now();
    await s.hook(hookPayload('old', 'SessionStart'));
    await s.hook(hookPayload('old', 'UserPromptSubmit'));
    const first = await count(s);
    assert.ok(first >= 3);
    clock.advance(DAY + 12 * 3_600_000);
    await s.hook(hookPayload('new', 'SessionStart'));
    await s.system.settle();
    const ofNew = async () => (await s.request('GET', '/api/events?instance=claude-new&limit=100')).body.count as number;
    const newer = await ofNew();
    assert.ok(newer >= 2);
    // The daily runs delete what is more than a day old by then: the first events only.
    clock.advance(12 * 3_600_000 + 1000);
    await s.system.settle();
    assert.equal(await olderThan(t0 + 1000), 0, 'the first events are gone');
    assert.equal((await s.request('GET', '/api/events?instance=claude-old&limit=100')).body.count, 0);
    assert.equal(await ofNew(), newer, 'the newer ones stay');
  });

  it('keeps everything with 0', async () => {
    const home = tempHome();
    homes.push(home);
    const clock = new FakeClock();
    const s = await startTestServer(home.dir, { event_retention_days: 0 }, { clock });
    servers.push(s);
    await s.hook(hookPayload('keep', 'SessionStart'));
    const t0 = clock.now();
    const upTo = async (ms: number) => (await databaseOf(s.system).get<{ n: number }>('SELECT COUNT(*) AS n FROM events WHERE created_at <= ?', [new Date(ms).toISOString()]))!.n;
    const n = await upTo(t0);
    assert.ok(n >= 2);
    clock.advance(10 * DAY);
    await s.system.settle();
    assert.equal(await upTo(t0), n, 'ten days later, the first events are all there');
  });
});
