// The dashboard's recent events and notifications as a person reads them: in the order they
// happened, a session's start as one line, the gate flapping as one line, every event type
// the server writes in words (never its raw name), each notification with how it went on
// each channel, the header saying whether speech and sound work there, panes sized to what
// they hold, and help that fits 80 columns. The pure view and store, fed protocol messages.
process.env.TZ = 'UTC';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeEvent } from '../src/protocol/event-words.js';
import { plain } from '../src/tui/format.js';
import { applyMessage, createDashboardStore, initialContext, type DashboardContext } from '../src/tui/store.js';
import { render } from '../src/tui/view.js';
import { FakeClock } from './support/clock.js';
import { startPhone } from './support/phone.js';
import { everyKindOfEvent } from './support/scenario.js';
import { startTestServer, tempHome } from './support/system.js';
import { event, instance, knownSnapshot, message, NOON } from './support/tui.js';

const at = (hms: string) => `2026-11-23T${hms}.000Z`;
let seq = 2000;
const feed = (ctx: DashboardContext, raw: Record<string, unknown>) => applyMessage(ctx, message({ seq: seq++, at: at('12:00:00'), ...raw }));
const eventMsg = (e: ReturnType<typeof event>) => ({ type: 'event', event: e });
const shown = (ctx: DashboardContext) => render(ctx, NOON + 10_000).lines.map(plain);
const eventLines = (ctx: DashboardContext) => shown(ctx).filter((l) => /^ \d\d:\d\d:\d\d {2}/.test(l)).map((l) => l.trimEnd());

function empty(width = 100, height = 30): DashboardContext {
  const snap = knownSnapshot() as Extract<ReturnType<typeof knownSnapshot>, { type: 'snapshot' }>;
  return applyMessage(initialContext('127.0.0.1:7777', width, height), message({ ...snap, events: [] }));
}

describe('recent events', () => {
  it('folds a session start into one line and gate flapping into one line, and orders events by when they happened', () => {
    let ctx = empty();
    ctx = feed(ctx, eventMsg(event('instance.registered', '12:00:00', 'claude-x', { name: 'Claude #5', project: 'api', origin: { device_id: 'desktop' }, revived: false })));
    ctx = feed(ctx, eventMsg(event('hook.session_start', '12:00:00', 'claude-x', { from: 'idle', to: 'idle', payload: { source: 'startup' } })));
    for (const [t, from, to] of [
      ['12:00:01', 'idle', 'productive'],
      ['12:00:03', 'productive', 'grace'],
      ['12:00:04', 'grace', 'productive'],
      ['12:00:06', 'productive', 'grace'],
    ] as const) {
      ctx = feed(ctx, eventMsg(event('gate.changed', t, null, { from, to })));
    }
    // A hook the spool kept while the server was down arrives last, with its own earlier time.
    ctx = feed(ctx, eventMsg(event('hook.stop_failure', '11:59:00', 'claude-a', { from: 'working', to: 'idle', payload: {} })));
    // A resumed session is news of its own.
    ctx = feed(ctx, eventMsg(event('hook.session_start', '12:00:08', 'claude-a', { payload: { source: 'resume' } })));
    assert.deepEqual(eventLines(ctx), [
      ' 12:00:08  Claude #1 started a session (resume)',
      ' 12:00:06  Productivity: idle → productive → grace → productive → grace (4 changes in 5s)',
      ' 12:00:00  Claude #5 (api) started on desktop',
      ' 11:59:00  Claude #1 failed',
    ]);
  });

  it('says where a stopped instance came back, with its project and the stop it came back from', () => {
    let ctx = empty();
    ctx = feed(ctx, eventMsg(event('instance.revived', '12:00:00', 'claude-x', { name: 'Claude #5', project: 'api', origin: { device_id: 'pixel-phone' }, revived: true, from: 'process_gone', by: 'hook.user_prompt_submit' })));
    assert.deepEqual(eventLines(ctx), [' 12:00:00  Claude #5 (api) came back on pixel-phone (it had stopped: process gone)']);
  });

  it('keeps gate changes apart when more than a few seconds separate them', () => {
    let ctx = empty();
    ctx = feed(ctx, eventMsg(event('gate.changed', '11:50:00', null, { from: 'idle', to: 'productive' })));
    ctx = feed(ctx, eventMsg(event('gate.changed', '11:55:00', null, { from: 'productive', to: 'grace' })));
    assert.deepEqual(eventLines(ctx), [' 11:55:00  Productivity: productive → grace', ' 11:50:00  Productivity: idle → productive']);
  });

  it('puts every event type the running server writes into words, never its raw name', async () => {
    const home = tempHome();
    const phone = await startPhone();
    const clock = new FakeClock();
    const s = await startTestServer(
      home.dir,
      { notifications: { coalesce_seconds: 0, speech: { engine: 'none' }, sound: { player: 'none' }, webhook: { answered_update: true } } },
      { clock },
    );
    try {
      const events = await everyKindOfEvent(s, { phone, clock });
      const types = new Set(events.map((e) => e.type));
      assert.ok(types.size >= 20, `a wide sample of types: ${[...types].join(', ')}`);
      for (const e of events) {
        const text = describeEvent(e, () => 'Claude #1').text;
        assert.ok(!text.includes(e.type), `${e.type} shown raw: ${text}`);
        assert.doesNotMatch(text, /\b[a-z]+\.[a-z_]+\b/, `${e.type} in words: ${text}`);
      }
    } finally {
      await s.close();
      await phone.down();
      home.cleanup();
    }
  });
});

describe('notifications on the dashboard', () => {
  const created = (id: string, message: string, deliveries: { channel: string; status: string; attempts: number; last_error: string | null }[], reason: string | null = null) => ({
    type: 'notification',
    change: 'created',
    notification: { id, created_at: at('12:00:05'), device: 'desktop', instance: 'claude-a', event: 'finished', title: message, message, urgency: 'normal', status: 'pending', reason, deliveries },
    delivery: null,
  });
  const delivery = (id: string, channel: string, status: string, error: string | null, attempts = 1) => ({
    type: 'notification',
    change: 'delivery',
    notification: { id, created_at: at('12:00:05'), device: 'desktop', instance: 'claude-a', event: 'finished', title: 'x', message: 'x', urgency: 'normal' },
    delivery: { channel, status, attempts, error },
  });

  it('says how each notification went: spoken, played, pushed, or why not', () => {
    let ctx = empty(160, 30);
    ctx = feed(
      ctx,
      created('n1', 'Claude #1 in api finished', [
        { channel: 'sound', status: 'pending', attempts: 0, last_error: null },
        { channel: 'speech', status: 'unavailable', attempts: 0, last_error: 'no speech engine found: install espeak-ng' },
        { channel: 'webhook', status: 'pending', attempts: 0, last_error: null },
      ]),
    );
    assert.match(eventLines(ctx)[0]!, /→ desktop: Claude #1 in api finished · playing…, not spoken: no speech engine here, pushing…$/);
    ctx = feed(ctx, delivery('n1', 'sound', 'delivered', null));
    ctx = feed(ctx, delivery('n1', 'webhook', 'pending', 'HTTP 500'));
    assert.match(eventLines(ctx)[0]!, /· sound played, not spoken: no speech engine here, webhook retrying: HTTP 500$/);
    ctx = feed(ctx, delivery('n1', 'webhook', 'failed', 'gave up after 9 attempts: HTTP 500', 9));
    assert.match(eventLines(ctx)[0]!, /· sound played, not spoken: no speech engine here, not pushed: gave up after 9 attempts: HTTP 500$/);
    ctx = feed(ctx, created('n2', 'Claude #2 in blog finished', [], 'desktop lists sound and speech; mode off allows nothing: sound and speech suppressed'));
    assert.match(eventLines(ctx)[0]!, /→ desktop: Claude #2 in blog finished · silenced by mode off$/);
    // A permission request answered before the phone could be reached: dropped, not "pushing…".
    ctx = feed(ctx, created('n3', 'Claude #3 in api needs permission to run Bash: npm test', [{ channel: 'webhook', status: 'pending', attempts: 1, last_error: 'HTTP 503' }]));
    ctx = feed(ctx, delivery('n3', 'webhook', 'superseded', 'the instance no longer waits for the person: the request was answered before this channel delivered'));
    assert.match(eventLines(ctx)[0]!, /→ desktop: Claude #3 in api needs permission to run Bash: npm test · not pushed: answered before it went out$/);
  });

  it('shows in the header whether speech and sound work on the server\'s machine', () => {
    const store = createDashboardStore(empty(80, 24));
    store.trigger.outputs({ outputs: { speech: { available: false, problem: 'no speech engine found' }, sound: { available: true, problem: null } } });
    const header = plain(render(store.getSnapshot().context, NOON).lines[0]!);
    assert.equal(header, ' TOKEN-API  127.0.0.1:7777  ● live  12:00:00  speech ✗ sound ✓   [q]uit [?]help ');
  });
});

describe('panes and help', () => {
  it('at 200x50 gives the events the rows the instances do not need', () => {
    let ctx = empty(200, 50);
    for (let n = 0; n < 60; n++) ctx = feed(ctx, eventMsg(event('hook.stop', `11:${String(n).padStart(2, '0')}:00`, 'claude-a', { payload: {} })));
    const lines = shown(ctx);
    assert.equal(lines.length, 50);
    const firstEvent = lines.findIndex((l) => /^ \d\d:\d\d:\d\d {2}/.test(l));
    assert.equal(firstEvent, 11, 'four instance rows, then the status, usage and events');
    assert.equal(eventLines(ctx).length, 50 - 8 - 4, 'every other row shows an event');
  });

  it('opens help that fits 80 columns, nothing cut', () => {
    const store = createDashboardStore(empty(80, 24));
    store.trigger.openHelp();
    const frame = render(store.getSnapshot().context, NOON);
    assert.ok(frame.overlay && frame.overlay.width <= 78);
    for (const l of frame.overlay!.lines) {
      assert.ok(Array.from(plain(l)).length <= frame.overlay!.width - 2, l);
      assert.ok(!plain(l).includes('…'), `cut: ${l}`);
    }
  });

  it('a stopped row still names its project', () => {
    let ctx = empty(100, 24);
    ctx = feed(ctx, { type: 'instance', instance: instance({ id: 'claude-z', name: 'Claude #9', device: 'desktop', profile: 'profile_1', color: '#0099ff', state: 'stopped', since: '11:00:00', registered: '10:00:00', stoppedAt: '11:00:00', dir: '/srv/x/web', project: 'web' }) });
    assert.ok(shown(ctx).some((l) => /^○ Claude #9 +desktop +web +/.test(l)));
  });
});
