// The routing table (origin device x mode x intent), the words of notifications, and the
// routing decision recorded as an event in the transaction of the transition that caused it.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fixedModeSource } from '../src/actors/mode-gate/mode-source.js';
import { channelsOfDevice, route, URGENT_INTENTS, type RoutableDevice, type RoutingPolicy } from '../src/notifications/routing.js';
import { compose, plainText, sentenceOf } from '../src/notifications/text.js';
import { INTENT_NAMES } from '../src/notifications/service.js';
import { FakeClock } from './support/clock.js';
import { readRows } from './support/sqlite.js';
import { hookPayload, startTestServer, tempHome, type TestServer } from './support/system.js';

const policy: RoutingPolicy = {
  localDevice: 'desktop',
  modeChannels: { work_music: ['speech', 'sound'], work_silence: ['sound'], break: ['speech', 'sound'], off: [] },
  focusMutesSpeech: true,
  deviceChannels: {},
};

// Routing only reads these; nothing is sent. The webhook is a documentation address (RFC 5737,
// never routed) all the same, so that no copy of this table can reach a real phone.
const devices: Record<string, RoutableDevice> = {
  desktop: { id: 'desktop', type: 'local', notification_method: 'tts_sound', webhook_url: null },
  phone: { id: 'pixel-phone', type: 'mobile', notification_method: 'webhook', webhook_url: 'http://192.0.2.24:7777/notify' },
  // A desktop that also pushes to a phone: a device may list several channels.
  both: { id: 'desktop', type: 'local', notification_method: 'tts_sound,webhook', webhook_url: 'http://192.0.2.24:7777/notify' },
};

type Row = Record<'desktop' | 'phone' | 'both', string>;
/** Channels for a non-urgent intent, per mode (and focus), per origin. */
const NORMAL: Record<string, Row> = {
  work_music: { desktop: 'sound speech', phone: 'webhook', both: 'sound speech webhook' },
  work_silence: { desktop: 'sound', phone: 'webhook', both: 'sound webhook' },
  break: { desktop: 'sound speech', phone: 'webhook', both: 'sound speech webhook' },
  off: { desktop: '', phone: 'webhook', both: 'webhook' },
  'work_music+focus': { desktop: 'sound', phone: 'webhook', both: 'sound webhook' },
  'off+focus': { desktop: '', phone: 'webhook', both: 'webhook' },
  'unlisted_mode': { desktop: 'sound speech', phone: 'webhook', both: 'sound speech webhook' },
};
/** Urgent intents reach every channel of the origin device, whatever the mode. */
const URGENT: Row = { desktop: 'sound speech', phone: 'webhook', both: 'sound speech webhook' };

describe('routing table: origin x mode x intent', () => {
  for (const [modeKey, row] of Object.entries(NORMAL)) {
    const [mode, focus] = modeKey.split('+') as [string, string | undefined];
    for (const origin of ['desktop', 'phone', 'both'] as const) {
      for (const intent of INTENT_NAMES) {
        const urgent = URGENT_INTENTS.has(intent);
        const want = urgent ? URGENT[origin] : row[origin];
        it(`${origin} origin, mode ${modeKey}, ${intent} -> ${want || 'nothing'}`, () => {
          const r = route({ event: intent, urgency: urgent ? 'urgent' : 'normal', device: devices[origin]!, deviceId: devices[origin]!.id, mode: { mode, focus: focus === 'focus' } }, policy);
          assert.equal(r.channels.join(' '), want);
          assert.equal(r.deviceId, devices[origin]!.id);
          if (urgent) assert.match(r.reason, /urgent: delivered whatever the mode/);
          else if (want !== (origin === 'phone' ? 'webhook' : URGENT[origin])) assert.match(r.reason, /suppressed/);
        });
      }
    }
  }

  it('reads channels from notification_method words, the config override, or the device type', () => {
    const d = (over: Partial<RoutableDevice>): RoutableDevice => ({ id: 'x', type: 'mobile', notification_method: null, webhook_url: null, ...over });
    assert.deepEqual(channelsOfDevice(d({ notification_method: 'tts' }), policy), ['speech']);
    assert.deepEqual(channelsOfDevice(d({ notification_method: 'sound + webhook' }), policy), ['sound', 'webhook']);
    assert.deepEqual(channelsOfDevice(d({ notification_method: 'none' }), policy), []);
    assert.deepEqual(channelsOfDevice(d({ type: 'local' }), policy), ['sound', 'speech']);
    assert.deepEqual(channelsOfDevice(d({ webhook_url: 'http://h/' }), policy), ['webhook']);
    assert.deepEqual(channelsOfDevice(d({ notification_method: 'webhook' }), { ...policy, deviceChannels: { x: { channels: ['sound'] } } }), ['sound']);
  });

  it('says why a channel cannot be used, and delivers nowhere for an unknown device', () => {
    const noUrl = route({ event: 'finished', urgency: 'normal', device: { id: 'tab', type: 'mobile', notification_method: 'webhook', webhook_url: null }, deviceId: 'tab', mode: { mode: 'work_music', focus: false } }, policy);
    assert.deepEqual(noUrl.channels, []);
    assert.deepEqual(noUrl.unsupported, ['webhook']);
    assert.match(noUrl.reason, /tab has no webhook_url/);
    const remoteSpeech = route({ event: 'finished', urgency: 'normal', device: { id: 'laptop', type: 'laptop', notification_method: 'tts_sound', webhook_url: null }, deviceId: 'laptop', mode: { mode: 'work_music', focus: false } }, policy);
    assert.deepEqual(remoteSpeech.channels, []);
    assert.match(remoteSpeech.reason, /speech and sound play only on desktop/);
    const unknown = route({ event: 'finished', urgency: 'normal', device: null, deviceId: 'ghost', mode: { mode: 'work_music', focus: false } }, policy);
    assert.deepEqual(unknown.channels, []);
    assert.match(unknown.reason, /ghost is not known/);
  });
});

describe('the words of a notification', () => {
  it('says which agent, in which project, and what happened', () => {
    const base = { name: 'Claude #2', project: 'api', tool: null };
    assert.equal(sentenceOf({ ...base, intent: 'finished' }), 'Claude #2 in api finished');
    assert.equal(sentenceOf({ ...base, intent: 'failed' }), 'Claude #2 in api failed');
    assert.equal(sentenceOf({ ...base, intent: 'needs_permission', name: 'Claude #3', tool: 'Bash', input: 'npm test' }), 'Claude #3 in api needs permission to run Bash: npm test');
    // The command is cut to a sensible length, at a word.
    const long = `npm test -- ${'--grep something-rather-long '.repeat(6)}`;
    const cut = sentenceOf({ ...base, intent: 'needs_permission', tool: 'Bash', input: long });
    assert.match(cut, /^Claude #2 in api needs permission to run Bash: npm test -- --grep something-rather-long .*…$/);
    assert.ok(cut.length <= 'Claude #2 in api needs permission to run Bash: '.length + 60, cut);
    assert.equal(sentenceOf({ ...base, intent: 'needs_permission', tool: null }), 'Claude #2 in api needs permission');
    assert.equal(sentenceOf({ ...base, intent: 'needs_input' }), 'Claude #2 in api has a question');
    assert.equal(sentenceOf({ ...base, intent: 'expired', project: null }), 'Claude #2 timed out');
    assert.equal(sentenceOf({ ...base, intent: 'finished', name: 'api' }), 'api finished', 'a tab named like its project says it once');
    assert.equal(sentenceOf({ intent: 'mode_timer_ended', name: null, project: null, tool: null, endedMode: 'break', mode: 'work_music' }), 'The break timer ended; mode is now work_music');
  });

  it('names each agent with its project when several of one kind fold into one, and adds the detail only to a single intent', () => {
    const w = (instanceId: string, intent: string, name: string, project: string | null, detail: string | null = null) => ({
      instanceId,
      intent,
      name,
      project,
      sentence: sentenceOf({ intent, name, project, tool: null }),
      detail,
    });
    assert.deepEqual(compose([w('a', 'finished', 'Claude #1', 'api'), w('b', 'finished', 'Codex #1', 'blog')], { includeDetail: true, maxChars: 100 }), {
      title: 'Claude #1 (api) and Codex #1 (blog) finished',
      message: 'Claude #1 (api) and Codex #1 (blog) finished',
    });
    assert.deepEqual(
      compose([w('a', 'finished', 'Claude #1', 'api'), w('b', 'finished', 'Claude #2', 'web'), w('a', 'finished', 'Claude #1', 'api'), w('c', 'failed', 'Codex #1', 'blog')], { includeDetail: true, maxChars: 100 }),
      { title: 'Codex #1 (blog) failed; 2 agents finished', message: 'Codex #1 in blog failed. Claude #1 (api) and Claude #2 (web) finished' },
    );
    const five = ['a', 'b', 'c', 'd', 'e'].map((id, n) => w(id, 'finished', `Claude #${n + 1}`, n === 4 ? null : 'api'));
    assert.equal(compose(five, { includeDetail: false, maxChars: 100 }).message, 'Claude #1 (api), Claude #2 (api), Claude #3 (api) and 2 others finished');
    assert.deepEqual(compose([w('a', 'finished', 'Claude #1', 'api', '**All** 42 tests `pass`.')], { includeDetail: true, maxChars: 100 }), {
      title: 'Claude #1 in api finished',
      message: 'Claude #1 in api finished: All 42 tests pass.',
    });
    assert.equal(compose([w('a', 'finished', 'Claude #1', 'api', 'secret')], { includeDetail: false, maxChars: 100 }).message, 'Claude #1 in api finished');
  });

  it('makes text fit to be spoken: no markup or control characters, cut at a word', () => {
    assert.equal(plainText('# Done\n\n```ts\ncode()\n```\nSee [the docs](http://x) now', 100), 'Done See the docs now');
    assert.equal(plainText('one two three four five six', 14), 'one two three…');
  });
});

describe('routing decisions in the running system', () => {
  let home: ReturnType<typeof tempHome>;
  let s: TestServer;
  let clock: FakeClock;
  const mode = fixedModeSource({ mode: 'off', focus: false });

  beforeEach(async () => {
    home = tempHome();
    clock = new FakeClock();
    s = await startTestServer(home.dir, { notifications: { coalesce_seconds: 0, speech: { engine: 'none' }, sound: { player: 'none' } } }, { clock, mode });
  });
  afterEach(async () => {
    await s.close();
    home.cleanup();
  });

  it('records each decision with its reason in the transaction of the transition; one the mode silenced is in the history as suppressed', async () => {
    await s.hook(hookPayload('m-1', 'SessionStart', { source: 'startup' }));
    await s.hook(hookPayload('m-1', 'Stop', {}));
    await s.hook(hookPayload('m-1', 'PreToolUse', { tool_name: 'Bash', tool_input: { command: 'npm test' } }));
    await s.hook(hookPayload('m-1', 'PermissionRequest', { tool_name: 'Bash', tool_input: { command: 'npm test' } }));
    await s.system.settle();
    const events = (await s.request('GET', '/api/events?type=notification.routed')).body.events.reverse();
    assert.equal(events.length, 2);
    assert.deepEqual(events[0].details.channels, []);
    assert.equal(events[0].details.intent, 'finished');
    assert.equal(events[0].details.mode, 'off');
    assert.match(events[0].details.reason, /mode off allows nothing: sound and speech suppressed/);
    assert.deepEqual(events[1].details.channels, ['sound', 'speech']);
    assert.equal(events[1].details.urgency, 'urgent');
    const list = (await s.request('GET', '/api/notifications')).body.notifications.reverse();
    assert.equal(list.length, 2);
    // Silenced by the mode: in the history, with why, and nothing delivered.
    assert.equal(list[0].status, 'suppressed');
    assert.equal(list[0].message, 'Claude #1 in token-api finished');
    assert.match(list[0].reason, /mode off allows nothing: sound and speech suppressed/);
    assert.deepEqual(list[0].deliveries, []);
    assert.equal(list[0].id, events[0].details.notification);
    assert.equal((await s.request('GET', '/api/notifications?status=suppressed')).body.count, 1);
    assert.equal(list[1].message, 'Claude #1 in token-api needs permission to run Bash: npm test');
    assert.equal(list[1].id, events[1].details.notification);
    // Neither engine nor player exists here: the deliveries say so instead of failing silently.
    assert.deepEqual(list[1].deliveries.map((d: { status: string }) => d.status), ['sound', 'speech'].map(() => 'unavailable'));

    // The routing event, the intent and the notification were committed with the hook's transition.
    await s.close();
    const rows = await readRows(
      home.dir,
      `SELECT (SELECT COUNT(*) FROM events WHERE event_type = 'hook.permission_request') AS hooks,
              (SELECT COUNT(*) FROM notification_intents WHERE intent = 'needs_permission') AS intents,
              (SELECT COUNT(*) FROM notification_intents WHERE intent = 'finished' AND notification_id IS NOT NULL) AS suppressed`,
    );
    assert.deepEqual(rows, [{ hooks: 1, intents: 1, suppressed: 1 }]);
    s = await startTestServer(home.dir, { notifications: { speech: { engine: 'none' }, sound: { player: 'none' } } }, { clock: new FakeClock(), mode });
  });

  it('sends intents of no instance (the mode timer) to the local device', async () => {
    mode.set({ mode: 'work_music' });
    // The mode actor's timer ends: it emits a notify intent with no instance.
    await s.request('POST', '/api/mode', { mode: 'work_music' });
    assert.equal((await s.request('POST', '/api/mode', { mode: 'break', minutes: 1 })).status, 200);
    clock.advance(60_000);
    await s.system.settle();
    const [n] = (await s.request('GET', '/api/notifications')).body.notifications;
    assert.equal(n.device, 'desktop');
    assert.equal(n.event, 'mode_timer_ended');
    assert.equal(n.message, 'The break timer ended; mode is now work_music: break ended; back to work_music');
    mode.set({ mode: 'off' });
  });
});
