// Notifications of a machine's agents are routed once, on its hub (hub.notifications "hub"):
// the phone hears the hub's webhook and never the machine's, the machine keeps its own speech
// and sound, a wait answered on the machine supersedes (or follows up) the hub's notice, a
// machine that cannot reach its hub routes its webhooks itself (and the hub does not repeat
// them), and a machine whose changes are taken again from the start is not announced twice.
// Two real systems on their own SQLite files over loopback; the phones are real HTTP servers.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ConfigFile } from '../src/config/config.js';
import { FakeClock } from './support/clock.js';
import { runCli } from './support/process.js';
import { startPhone, type Phone } from './support/phone.js';
import { withDatabase } from './support/sqlite.js';
import { synced as syncedTo, until } from './support/fleet.js';
import { hookPayload, startTestServer, tempHome, type TestServer } from './support/system.js';

/** This computer speaks, plays and pushes to its phone (speech and sound are not installed here: "unavailable"). */
function config(phone: Phone, extra: ConfigFile = {}): ConfigFile {
  return {
    devices: [{ id: 'desktop', name: 'Desk', type: 'local', notification_method: 'tts_sound+webhook', webhook_url: phone.url }],
    notifications: {
      coalesce_seconds: 0,
      speech: { engine: 'none' },
      sound: { player: 'none' },
      webhook: { backoff_initial_seconds: 1, backoff_max_seconds: 5, timeout_seconds: 5, answered_update: true },
    },
    ...extra,
  };
}

describe('notifications of machines routed once on their hub', () => {
  const hubHome = tempHome('token-api-hub-');
  const machineHome = tempHome('token-api-machine-');
  const hubClock = new FakeClock(Date.now());
  let hubPhone: Phone;
  let machinePhone: Phone;
  let hub: TestServer;
  let machine: TestServer;
  let machineId: string;
  /** A hook of an agent working in /work/<project> on the machine. */
  const hook = (session: string, name: string, project: string, extra: Record<string, unknown> = {}) =>
    machine.hook(hookPayload(session, name, { cwd: `/work/${project}`, ...extra }), `?pid=${process.pid}`);

  let hubPort: number | undefined;
  const startHub = async () => {
    const s = await startTestServer(hubHome.dir, config(hubPhone), { clock: hubClock }, { port: hubPort });
    s.system.listeningAt(s.url); // as serve does: links are given at the hub's address
    return s;
  };
  const startMachine = () => startTestServer(machineHome.dir, config(machinePhone, { hub: { url: hub.url, heartbeat_seconds: 1 } }));
  const connected = () => until('the machine connected to its hub', async () => (await machine.request('GET', '/v1/machine')).body.hub.connected === true);

  before(async () => {
    hubPhone = await startPhone();
    machinePhone = await startPhone();
    const r = await runCli(['machines', 'add', 'laptop', '--home', hubHome.dir]);
    assert.equal(r.code, 0, r.stderr);
    writeFileSync(join(machineHome.dir, 'hub-token'), r.stdout, { mode: 0o600 });
    hub = await startHub();
    hubPort = Number(new URL(hub.url).port);
    machine = await startMachine();
    machineId = (await machine.request('GET', '/v1/machine')).body.id;
    await connected();
  });
  after(async () => {
    await machine?.close();
    await hub?.close();
    await hubPhone.down();
    await machinePhone.down();
    hubHome.cleanup();
    machineHome.cleanup();
  });

  /** Everything the machine committed is on the hub, and both have delivered what they planned. */
  async function synced(): Promise<void> {
    await syncedTo(machine, hub);
    await hub.system.settle();
  }

  const titles = (p: Phone) => p.received.map((r) => `${r.body.event}: ${r.body.title}`);

  it('a finished turn on the machine: one webhook, from the hub, worded as everywhere; the machine keeps speech and sound', async () => {
    await hook('m-1', 'SessionStart', 'api', { source: 'startup' });
    await hook('m-1', 'UserPromptSubmit', 'api', { prompt: 'go' });
    assert.equal((await hook('m-1', 'Stop', 'api', { last_assistant_message: 'All tests pass.' })).status, 200);
    await synced();
    await hubPhone.waitFor(1);
    assert.equal(hubPhone.received.length, 1);
    assert.equal(hubPhone.received[0]!.body.event, 'finished');
    assert.match(String(hubPhone.received[0]!.body.title), /Claude #1 in api finished/);
    assert.equal(machinePhone.received.length, 0);
    assert.equal((await machine.request('GET', '/v1/machine')).body.hub.notifications, 'hub');

    // The machine: speech and sound are its own (unavailable here), the webhook left to the hub, with the reason.
    const mine = (await machine.request('GET', '/api/notifications?limit=10')).body.notifications;
    assert.equal(mine.length, 1);
    assert.ok(mine[0].deliveries.some((d: any) => d.channel === 'sound'));
    assert.ok(!mine[0].deliveries.some((d: any) => d.channel === 'webhook'));
    assert.match(mine[0].reason, /webhooks go through the hub/);
    // The hub: a notification of the machine's instance, webhook only, saying where it came from.
    const theirs = (await hub.request('GET', '/api/notifications?limit=10')).body.notifications;
    assert.equal(theirs.length, 1);
    assert.equal(theirs[0].instance, 'claude-m-1');
    assert.deepEqual(theirs[0].deliveries.map((d: any) => [d.channel, d.status]), [['webhook', 'delivered']]);
    assert.match(theirs[0].reason, /from machine laptop: speech and sound play there/);
    const routed = (await hub.request('GET', '/api/events?type=notification.routed')).body.events;
    assert.equal(routed.length, 1);
    assert.deepEqual(routed[0].details.machine, { id: machineId, name: 'laptop' });
  });

  it('a permission request: the hub notifies at once, and says "answered" when the machine reports it answered', async () => {
    const before = hubPhone.received.length;
    await hook('m-1', 'UserPromptSubmit', 'api', { prompt: 'again' });
    await hook('m-1', 'PermissionRequest', 'api', { tool_name: 'Bash', tool_input: { command: 'npm test' } });
    await synced();
    await hubPhone.waitFor(before + 1);
    const asked = hubPhone.received[before]!.body;
    assert.equal(asked.event, 'needs_permission');
    assert.match(String(asked.title), /needs permission to run Bash: npm test/);
    assert.equal(asked.urgency, 'urgent');
    // Answered in the machine's terminal: the tool ran.
    await hook('m-1', 'PostToolUse', 'api', { tool_name: 'Bash', tool_input: { command: 'npm test' }, tool_response: {} });
    await synced();
    await hubPhone.waitFor(before + 2);
    assert.deepEqual(titles(hubPhone).slice(before), [`needs_permission: ${asked.title}`, `answered: ${asked.title}`]);
    assert.equal(machinePhone.received.length, 0);
  });

  it('a request answered on the machine before the hub could deliver is superseded there, not sent late', async () => {
    await hubPhone.down();
    const sentBefore = hubPhone.received.length;
    await hook('m-1', 'PermissionRequest', 'api', { tool_name: 'Edit', tool_input: { file_path: '/work/api/a.ts' } });
    await synced();
    const waiting = await until('the hub\'s first attempt to fail', async () => {
      const n = (await hub.request('GET', '/api/notifications?limit=1')).body.notifications[0];
      return n.event === 'needs_permission' && n.deliveries[0].attempts === 1 && n.deliveries[0].status === 'pending' && n;
    });
    await hook('m-1', 'PostToolUse', 'api', { tool_name: 'Edit', tool_input: {}, tool_response: {} });
    await synced();
    await hubPhone.up();
    hubClock.advance(1000); // the retry
    await hub.system.settle();
    const after = (await hub.request('GET', `/api/notifications/${waiting.id}`)).body;
    assert.equal(after.deliveries[0].status, 'superseded');
    assert.equal(hubPhone.received.length, sentBefore);
  });

  it("a held permission request: the hub's webhook carries the machine's one-time links through the hub, and opening one answers the machine's hook", async () => {
    const before = hubPhone.received.length;
    const held = fetch(`${machine.url}/api/approvals/wait?pid=${process.pid}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(hookPayload('m-5', 'PermissionRequest', { cwd: '/work/api', tool_name: 'Bash', tool_input: { command: 'git push' }, permission_mode: 'default' })),
    });
    await hubPhone.waitFor(before + 1);
    const body = hubPhone.received[before]!.body as { event: string; actions?: { approve: string; deny: string } };
    assert.equal(body.event, 'needs_permission');
    assert.ok(body.actions, `the hub's webhook carries the links: ${JSON.stringify(body)}`);
    assert.ok(body.actions.approve.startsWith(`${hub.url}/v1/machines/${machineId}/approvals/`), body.actions.approve);
    // A link preview decides nothing; opening the link decides on the machine, and its held hook answers.
    assert.equal((await fetch(body.actions.approve, { headers: { 'Sec-Purpose': 'prefetch' } })).status, 200);
    assert.equal((await machine.request('GET', '/api/approvals?state=pending')).body.approvals.length, 1);
    const opened = await fetch(body.actions.approve);
    assert.equal(opened.status, 200, await opened.clone().text());
    const decided = (await opened.json()) as { state: string; decision: { behavior: string; by: string } };
    assert.deepEqual([decided.state, decided.decision.behavior, decided.decision.by], ['decided', 'allow', 'link']);
    const answer = (await (await held).json()) as { hookSpecificOutput: { decision: { behavior: string } } };
    assert.equal(answer.hookSpecificOutput.decision.behavior, 'allow');
    // Single use, through the hub as on the machine; a forged one is refused by the machine.
    assert.equal((await fetch(body.actions.deny)).status, 409);
    assert.equal((await fetch(body.actions.deny.replace(/t=[^.]+/, 't=eyJmb3JnZWQiOjF9'))).status, 400);
    assert.equal(machinePhone.received.length, 0);
  });

  it('a machine that cannot reach its hub sends its own webhooks, and the hub does not repeat them when it returns', async () => {
    await hub.close();
    await until('the machine to notice', async () => (await machine.request('GET', '/v1/machine')).body.hub.connected === false);
    assert.equal((await machine.request('GET', '/v1/machine')).body.hub.notifications, 'here');
    await hook('m-2', 'SessionStart', 'web', { source: 'startup' });
    await hook('m-2', 'Stop', 'web', { last_assistant_message: 'done' });
    await machine.system.settle();
    await machinePhone.waitFor(1);
    assert.match(String(machinePhone.received[0]!.body.title), /in web finished/);
    const hubNoticesBefore = hubPhone.received.length;
    hub = await startHub();
    await connected();
    await synced();
    assert.equal(hubPhone.received.length, hubNoticesBefore);
    const onHub = (await hub.request('GET', '/api/notifications?limit=50')).body.notifications;
    assert.equal(onHub.filter((n: any) => n.instance === 'm-2').length, 0);
  });

  it('a machine whose changes are taken again from the start (a new database epoch) is not announced twice', async () => {
    const hubCount = (await hub.request('GET', '/api/notifications?limit=100')).body.notifications.length;
    const phoneCount = hubPhone.received.length;
    await machine.close();
    // As if the machine's database had been restored from a copy: the hub takes everything again.
    await withDatabase(machine.config.databaseFile, async (db) => {
      await db.run("UPDATE fleet_meta SET v = '00000000-0000-4000-8000-000000000001' WHERE k = 'epoch'");
    });
    machine = await startMachine();
    await connected();
    await synced();
    const m = (await hub.request('GET', `/v1/machines/${machineId}`)).body.machine;
    assert.equal(m.sync.epoch, '00000000-0000-4000-8000-000000000001');
    assert.equal((await hub.request('GET', '/api/notifications?limit=100')).body.notifications.length, hubCount);
    assert.equal(hubPhone.received.length, phoneCount);
  });

  it('with hub.notifications "here", the machine sends its own webhooks and the hub none', async () => {
    await machine.close();
    machine = await startTestServer(machineHome.dir, config(machinePhone, { hub: { url: hub.url, heartbeat_seconds: 1, notifications: 'here' } }));
    await connected();
    const phoneCount = hubPhone.received.length;
    const mineBefore = machinePhone.received.length;
    await hook('m-3', 'SessionStart', 'docs', { source: 'startup' });
    await hook('m-3', 'Stop', 'docs', { last_assistant_message: 'done' });
    await synced();
    await machinePhone.waitFor(mineBefore + 1);
    assert.match(String(machinePhone.received[mineBefore]!.body.title), /in docs finished/);
    assert.equal(hubPhone.received.length, phoneCount);
  });

  it('an intent that reaches the hub later than hub.notify_max_age_seconds is recorded with the reason, not sent', async () => {
    await machine.close();
    machine = await startMachine();
    await connected();
    const phoneCount = hubPhone.received.length;
    // The hub's clock runs 400 s ahead: what the machine forwards now arrives "400 s after it happened".
    hubClock.advance(400_000);
    await hook('m-4', 'SessionStart', 'ops', { source: 'startup' });
    await hook('m-4', 'Stop', 'ops', { last_assistant_message: 'done' });
    await synced();
    const n = (await hub.request('GET', '/api/notifications?limit=100')).body.notifications.find((x: any) => x.instance === 'claude-m-4');
    assert.ok(n, 'the hub records the late intent');
    assert.deepEqual(n.deliveries, []);
    assert.match(n.reason, /from machine laptop, \d+ s after it happened \(more than hub.notify_max_age_seconds, 300\): recorded, not sent/);
    assert.equal(hubPhone.received.length, phoneCount);
  });
});
