// End to end with the real server process: the mode timer across a real restart (SIGKILL),
// its remaining time intact and its expiry after one, and the gate answering the phone's
// bare URL from hooks sent to the same process.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { getJson, postJson, startServerProcess, type ServerProcess } from './support/process.js';
import { hookPayload, tempHome } from './support/system.js';

/** Polls until `probe` holds (an outcome, not a duration, is what is awaited). */
async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 300; i++) {
    last = await probe();
    if (ok(last)) return last;
    await delay(50);
  }
  assert.fail(`${what}; last seen ${JSON.stringify(last)}`);
}

describe('the real server: mode timer across restarts, gate for the phone', () => {
  const home = tempHome('token-api-e2e-mode-');
  let server: ServerProcess | undefined;
  after(async () => {
    await server?.kill();
    home.cleanup();
  });

  it('keeps a timed mode and its deadline across SIGKILL and a restart', async () => {
    server = await startServerProcess(home.dir);
    const set = await postJson(`${server.url}/api/mode`, { mode: 'break', minutes: 30 });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    await server.kill('SIGKILL');
    server = await startServerProcess(home.dir);
    const mode = await getJson(`${server.url}/api/mode`);
    assert.equal(mode.body.mode, 'break');
    assert.equal(mode.body.deadline, set.body.deadline);
    assert.equal(mode.body.return_to, 'work_silence');
    assert.ok(mode.body.remaining_s > 0 && mode.body.remaining_s <= 30 * 60);
  });

  it('a timer whose deadline passes while the server is down ends when it starts again, and is recorded', async () => {
    const set = await postJson(`${server!.url}/api/mode`, { mode: 'off', minutes: 0.02 });
    assert.equal(set.status, 200);
    assert.equal(set.body.return_to, 'work_silence', 'a timer set during a timer keeps the first way back');
    await server!.kill('SIGKILL');
    // Wait (on the wall clock the server uses) until the deadline has passed.
    const deadline = Date.parse(set.body.deadline);
    while (Date.now() <= deadline) await delay(Math.max(1, deadline - Date.now() + 1));
    server = await startServerProcess(home.dir);
    const mode = await getJson(`${server.url}/api/mode`);
    assert.equal(mode.body.mode, 'work_silence');
    assert.equal(mode.body.set_by, 'timer');
    const events = await eventually(
      () => getJson(`${server!.url}/api/events?type=mode.changed&limit=1`),
      (r) => r.body.events[0]?.details.by === 'timer',
      'the timer change is recorded',
    );
    assert.deepEqual([events.body.events[0].details.from, events.body.events[0].details.to], ['off', 'work_silence']);
  });

  it('a timer running across a restart fires after it', async () => {
    await postJson(`${server!.url}/api/mode`, { mode: 'work_music' });
    const set = await postJson(`${server!.url}/api/mode`, { mode: 'break', minutes: 0.05 });
    await server!.kill('SIGKILL');
    server = await startServerProcess(home.dir);
    const mode = await eventually(
      () => getJson(`${server!.url}/api/mode`),
      (r) => r.body.mode === 'work_music',
      'the mode returns to work_music',
    );
    assert.equal(mode.body.set_by, 'timer');
    assert.ok(Date.now() >= Date.parse(set.body.deadline), 'not before its deadline');
  });

  it('answers the phone: blocked while idle, allowed while an agent works', async () => {
    const url = server!.url;
    const text = async (path: string) => (await fetch(url + path)).text();
    assert.equal(await text('/?app=youtube'), 'blocked', 'work_music and no agent working');
    const hook = (name: string) => postJson(`${url}/api/hooks`, hookPayload('phone-e2e', name));
    assert.equal((await hook('UserPromptSubmit')).status, 200);
    assert.equal(await text('/?app=com.google.android.youtube'), 'allowed');
    await hook('Stop');
    assert.equal(await text('/?app=youtube'), 'allowed', 'within the grace period');
    await postJson(`${url}/api/state`, { focus: true });
    assert.equal(await text('/?app=youtube'), 'blocked');
    assert.equal(await text('/?app=calculator'), 'allowed');
  });
});
