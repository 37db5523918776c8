// The dashboard drawn on a real blessed screen with fake terminal streams: what is on each
// line for a known state (and in which colour), the width it uses, resizes, a small terminal,
// moving the selection through a long list, the overlays, the disconnected state, and paints
// throttled to one per 50 ms however fast messages come. Times run on a FakeClock.
process.env.TZ = 'UTC';
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import blessed from 'blessed';
import { describeEvent } from '../src/protocol/event-words.js';
import { createKeyHandler } from '../src/tui/keys.js';
import { createScreen, type DashboardScreen } from '../src/tui/screen.js';
import { createDashboardStore, initialContext, type DashboardStore } from '../src/tui/store.js';
import { render } from '../src/tui/view.js';
import type { ApiClient } from '../src/tui/api.js';
import { FakeClock } from './support/clock.js';
import { event, fakeTerminal, instance, KEY, knownSnapshot, message, NOON, type FakeTerminal } from './support/tui.js';

const INVERSE = 8;
const BOLD = 1;
const flags = (attr: number) => attr >> 18;
const fg = (attr: number) => (attr >> 9) & 0x1ff;

interface Harness {
  clock: FakeClock;
  term: FakeTerminal;
  screen: DashboardScreen;
  store: DashboardStore;
  /** Paints now and answers the rows as the terminal shows them. */
  rows(): string[];
  calls: string[];
}

describe('the dashboard on a blessed screen', () => {
  let h: Harness | null = null;
  afterEach(() => {
    h?.screen.destroy();
    h = null;
  });

  /** The dashboard's screen, store and keys, without a feed: tests feed it protocol messages. */
  function harness(columns = 80, rows = 24): Harness {
    const clock = new FakeClock(NOON);
    const term = fakeTerminal(columns, rows);
    const screen = createScreen({ input: term.input, output: term.output, clock });
    const size = screen.size();
    const store = createDashboardStore(initialContext('127.0.0.1:7777', size.width, size.height));
    screen.setSource(() => render(store.getSnapshot().context, clock.now()));
    store.subscribe(() => screen.invalidate());
    screen.onResize((s) => store.trigger.resize(s));
    const calls: string[] = [];
    const ok = (what: string) => {
      calls.push(what);
      return Promise.resolve({ ok: true as const, value: null });
    };
    const api = {
      setMode: (m: string, minutes?: number) => ok(`mode ${m}${minutes === undefined ? '' : ` ${minutes}`}`),
      setFocus: (f: boolean) => ok(`focus ${f}`),
      stopInstance: (id: string) => ok(`stop ${id}`),
      instanceEvents: (id: string) => {
        calls.push(`events ${id}`);
        return Promise.resolve({ ok: true as const, value: [event('hook.stop', '11:58:30', id, { from: 'working', to: 'idle', payload: {} })] });
      },
    } as unknown as ApiClient;
    const onKey = createKeyHandler({ store, api, clock, refresh: () => calls.push('refresh'), feedSend: (m) => (calls.push(`feed ${m.type}`), true), quit: () => calls.push('quit') });
    screen.onKey((k) => onKey(k.full, k.ch));
    h = {
      clock,
      term,
      screen,
      store,
      calls,
      rows() {
        screen.paintNow();
        return screen.rows();
      },
    };
    return h;
  }

  /** Lets the fake input stream deliver typed keys. */
  const typed = () => new Promise<void>((r) => setImmediate(r));

  it('draws a known state at 80x24, line by line', () => {
    const t = harness();
    t.store.trigger.feed({ message: knownSnapshot() });
    assert.deepEqual(t.rows(), [
      ' TOKEN-API  127.0.0.1:7777  ● live  12:00:00           [q]uit [r]efresh [?]help ',
      '─ INSTANCES (3 active, 1 awaiting) ─────────────────────────────────────────────',
      '  NAME          DEVICE      PROJECT   STATE    TOOL       IN STATE    AGE TOKENS',
      '! Claude #2     pixel-phone blog      awaiting -               30s    45m   350k',
      '● Claude #1     desktop     api       working  Bash             2m  2h15m   1.2M',
      '● build-tab     desktop     shop      idle     -               10m     1h      -',
      '○ Claude #3     desktop     api       stopped  deregiste…       5m    15m      -',
      '─'.repeat(80),
      ' MODE: break 12:30 left → work_silence │ PRODUCTIVITY: grace 1:30 │ FOCUS: on   ',
      ' TODAY 2026-11-23: desktop 1.5M tok $3.10 · pixel-phone 350k tok $0.50          ',
      '─ RECENT EVENTS ────────────────────────────────────────────────────────────────',
      ' 11:59:30  Claude #2 needs permission for Write                                 ',
      ' 11:57:00  youtube blocked: focus is on                                         ',
      ' 11:55:00  Claude #3 stopped (deregistered)                                     ',
      ' 11:45:32  Claude #2 (blog) started on pixel-phone                              ',
      ' 11:30:15  Mode changed: work_music → work_silence                              ',
      ...Array(7).fill(' '.repeat(80)),
      ' ↑↓ jk move  enter details  m mode  f focus  s stop  a all  ? help  q quit      ',
    ]);
    // Awaiting stands out (bold red), the selected line is inverse, names carry their profile colour.
    const awaitingCol = t.screen.rows()[3]!.indexOf('awaiting');
    assert.equal(fg(t.screen.attr(3, awaitingCol)), 1, 'awaiting is red');
    assert.ok(flags(t.screen.attr(3, awaitingCol)) & BOLD, 'and bold');
    assert.ok(flags(t.screen.attr(3, 20)) & INVERSE, 'the first line is selected');
    assert.ok(!(flags(t.screen.attr(4, 20)) & INVERSE));
    assert.equal(fg(t.screen.attr(4, 2)), blessed.colors.match('#0099ff'), 'Claude #1 in its profile colour');
    assert.equal(fg(t.screen.attr(5, 2)), blessed.colors.match('#33cc66'));
    assert.equal(fg(t.screen.attr(4, t.screen.rows()[4]!.indexOf('working'))), 2, 'working is green');
    assert.ok(flags(t.screen.attr(12, t.screen.rows()[12]!.indexOf('youtube'))) & BOLD, 'a blocked app is an alert');

    // Time moves on: the clock, times in state and countdowns follow.
    t.clock.advance(61_000);
    const later = t.rows();
    assert.match(later[0]!, /12:01:01/);
    assert.match(later[3]!, /awaiting -\s+1m31s\s+46m/);
    assert.match(later[8]!, /MODE: break 11:29 left → work_silence │ PRODUCTIVITY: grace 0:29 │/);
  });

  it('on a hub: a machine column, and an offline machine\'s instances greyed, not removed; one id on two machines is two lines', () => {
    const t = harness();
    t.store.trigger.feed({ message: knownSnapshot() });
    assert.doesNotMatch(t.rows()[2]!, /MACHINE/, 'no column while only this server reports');
    const remote = (online: boolean) => ({
      ...(instance({ id: 'claude-a', name: 'Claude #9', device: 'desktop', profile: 'profile_1', color: '#0099ff', state: 'working', tool: 'Bash', since: '11:59:00', registered: '11:00:00' }) as Record<string, unknown>),
      machine: { id: '0b7c4f8e-2d1a-4c3b-9e5f-6a7b8c9d0e1f', name: 'laptop', online },
    });
    t.store.trigger.feed({ message: message({ type: 'instance', seq: 1001, at: '2026-11-23T12:00:00.000Z', instance: remote(true) }) });
    let rows = t.rows();
    assert.match(rows[2]!, /^ {2}MACHINE +NAME +DEVICE/);
    const line = rows.findIndex((r) => r.includes('Claude #9'));
    assert.match(rows[line]!, /^● laptop +Claude #9 +desktop/);
    // The local instance of the same id stays: two lines.
    assert.equal(rows.filter((r) => /this +Claude #1 /.test(r)).length, 1);
    assert.notEqual(fg(t.screen.attr(line, 2)), 8, 'not grey while online');
    t.store.trigger.feed({ message: message({ type: 'instance', seq: 1002, at: '2026-11-23T12:00:01.000Z', instance: remote(false) }) });
    rows = t.rows();
    const off = rows.findIndex((r) => r.includes('Claude #9'));
    // "laptop (off)", cut to the column's width at 80 columns.
    assert.match(rows[off]!, /^. laptop … Claude #9/);
    assert.equal(fg(t.screen.attr(off, rows[off]!.indexOf('Claude #9'))), 8, 'greyed');
    assert.equal(rows.filter((r) => r.includes('Claude #9')).length, 1, 'one line, updated');
  });

  it('uses the width it has, and redraws on resize', () => {
    const t = harness();
    const snap = knownSnapshot();
    t.store.trigger.feed({ message: snap });
    t.store.trigger.feed({ message: message({ type: 'instance', seq: 1001, at: '2026-11-23T12:00:00.000Z', instance: instance({ id: 'claude-c', name: 'a-long-tab-name-for-build', device: 'desktop', profile: 'profile_3', color: '#33cc66', state: 'working', tool: 'mcp__github__create_pr', since: '11:59:50', registered: '11:00:00' }) }) });
    const narrow = t.rows();
    assert.equal(narrow[5], '● a-long-tab-n… desktop     project   working  mcp__gith…      10s     1h      -');
    t.term.resize(120, 30);
    const wide = t.rows();
    assert.equal(wide.length, 30);
    assert.ok(wide.every((r) => r.length === 120));
    assert.match(wide[5]!, /^● a-long-tab-name-for… +desktop +project +profile_3 +working +mcp__github__crea… +10s +1h +- *$/);
    assert.equal(t.store.getSnapshot().context.width, 120);
    // Taller: the list keeps the rows its four instances need, the events get the rest.
    assert.equal(wide.filter((r) => /^ \d\d:\d\d:\d\d {2}/.test(r)).length, 5, 'all five notable events fit');
    assert.match(wide[7]!, /^─+$/, 'the list ends after its four instances');
  });

  it('fits a small terminal: header, instances and footer', () => {
    const t = harness(60, 10);
    t.store.trigger.feed({ message: knownSnapshot() });
    const rows = t.rows();
    assert.equal(rows.length, 10);
    assert.ok(rows.every((r) => r.length === 60));
    assert.match(rows[0]!, /^ TOKEN-API {2}127\.0\.0\.1:7777 {2}● live {2}12:00:00/);
    // 60 columns: profile, age and tokens are left out, the rest keeps its room.
    assert.equal(rows[1], `─ INSTANCES (3 active, 1 awaiting) ${'─'.repeat(25)}`);
    assert.equal(rows[2], '! Claude #2 pixel-phone blog      awaiting -             30s');
    assert.match(rows[9]!, /q quit|move/);
  });

  it('moves the selection with j, k and the arrows, and scrolls a long list', async () => {
    const t = harness();
    const many = Array.from({ length: 20 }, (_, n) =>
      instance({ id: `claude-${String(n).padStart(2, '0')}`, name: `Claude #${n + 1}`, device: 'desktop', profile: `profile_${n + 1}`, color: '#0099ff', state: 'idle', since: '11:00:00', registered: `10:${String(n).padStart(2, '0')}:00` }),
    );
    const snap = knownSnapshot() as Extract<ReturnType<typeof knownSnapshot>, { type: 'snapshot' }>;
    t.store.trigger.feed({ message: message({ ...snap, instances: many }) });
    const selected = () => t.rows().findIndex((_r, i) => i >= 3 && i < 16 && (flags(t.screen.attr(i, 5)) & INVERSE) !== 0);
    assert.equal(selected(), 3);
    t.term.type('jjj');
    await typed();
    assert.equal(selected(), 6);
    assert.match(t.rows()[6]!, /Claude #4 /);
    t.term.type(KEY.down.repeat(10));
    await typed();
    // 14th of 20 on a 13-row list (the events keep three): scrolled so it is the last line shown.
    assert.match(t.rows()[1]!, /INSTANCES \(20 active\) ─+ 2-14 of 20 ─$/);
    assert.equal(selected(), 15);
    assert.match(t.rows()[15]!, /Claude #14 /);
    t.term.type('k' + KEY.up);
    await typed();
    assert.equal(selected(), 13);
    t.term.type('G');
    await typed();
    assert.match(t.rows()[15]!, /Claude #20 /);
    assert.equal(selected(), 15);
    t.term.type('g');
    await typed();
    assert.match(t.rows()[3]!, /Claude #1 /);
    assert.equal(selected(), 3);
    // The selection follows the instance when the order changes.
    t.term.type('jj');
    await typed();
    t.store.trigger.feed({ message: message({ type: 'instance', seq: 1001, at: '2026-11-23T12:00:00.000Z', instance: { ...many[2]!, state: 'awaiting' } }) });
    assert.match(t.rows()[3]!, /^! Claude #3 /);
    assert.equal(selected(), 3);
  });

  it('opens help, details, the mode picker and the stop confirmation; their keys act and esc closes', async () => {
    const t = harness();
    t.store.trigger.feed({ message: knownSnapshot() });
    t.term.type('?');
    await typed();
    let text = t.rows().join('\n');
    assert.match(text, /Keys/);
    assert.match(text, /mark the selected instance stopped \(asks first\)/);
    t.term.type(KEY.escape);
    await typed();
    assert.doesNotMatch(t.rows().join('\n'), /─ Keys ─/);

    t.term.type('j' + KEY.enter);
    await typed();
    await typed();
    text = t.rows().join('\n');
    assert.deepEqual(t.calls, ['events claude-a']);
    assert.match(text, /─ Claude #1 ─/);
    assert.match(text, /directory +\/home\/me\/src\/api\/server/);
    assert.match(text, /project +api/);
    assert.match(text, /pid +4242/);
    assert.match(text, /session +claude-a-session/);
    assert.match(text, /counts +12 tool calls, 0 subagents now/);
    assert.match(text, /tokens +1\.2M \(3 responses, \$2\.50\)/);
    assert.match(text, /11:58:30 Claude #1 finished/, 'the events from the event log');
    t.term.type(KEY.escape);
    await typed();

    t.term.type('m');
    await typed();
    text = t.rows().join('\n');
    assert.match(text, /Work mode/);
    assert.match(text, /3\. break \(now\)/);
    // A mode, then for how long: none, 15, 30, 60 minutes or typed.
    t.term.type(KEY.down + KEY.enter);
    await typed();
    text = t.rows().join('\n');
    assert.match(text, /off for how long\?/);
    for (const choice of ['1. until changed (no timer)', '2. 15 minutes', '3. 30 minutes', '4. 60 minutes', '5. other: type minutes']) assert.ok(text.includes(choice), choice);
    t.term.type(KEY.enter);
    await typed();
    await typed();
    assert.deepEqual(t.calls.slice(1), ['mode off']);
    assert.match(t.rows()[23]!, /mode set to off/);
    t.term.type('m23');
    await typed();
    await typed();
    assert.deepEqual(t.calls.slice(2), ['mode work_music 30']);
    assert.match(t.rows()[23]!, /mode set to work_music for 30 min/);
    t.term.type('m35');
    await typed();
    assert.match(t.rows().join('\n'), /minutes: _/);
    t.term.type('45' + KEY.enter);
    await typed();
    await typed();
    assert.deepEqual(t.calls.slice(3), ['mode break 45']);

    t.term.type('f');
    await typed();
    await typed();
    assert.deepEqual(t.calls.slice(4), ['focus false'], 'focus was on: f turns it off');

    t.term.type('s');
    await typed();
    assert.match(t.rows().join('\n'), /Mark Claude #1 stopped\?/);
    t.term.type('n');
    await typed();
    assert.doesNotMatch(t.rows().join('\n'), /stopped\?/);
    assert.equal(t.calls.length, 5, 'n changes nothing');
    t.term.type('sy');
    await typed();
    await typed();
    assert.deepEqual(t.calls.slice(5), ['stop claude-a']);
    assert.match(t.rows()[23]!, /Claude #1 marked stopped/);

    t.term.type('r');
    await typed();
    t.term.type('q');
    await typed();
    assert.deepEqual(t.calls.slice(6), ['refresh', 'quit']);
  });

  it('says when it is disconnected and when it retries, never a stack trace', () => {
    const t = harness();
    t.store.trigger.feed({ message: knownSnapshot() });
    t.store.trigger.disconnected({ reason: 'token-api is not reachable (connection refused)', retryAt: NOON + 3000, attempt: 2 });
    let rows = t.rows();
    assert.match(rows[0]!, /○ disconnected, retrying in 3s/);
    assert.equal(rows[23], ' token-api is not reachable (connection refused)'.padEnd(80));
    assert.match(rows[3]!, /Claude #2/, 'the last picture stays on screen');
    t.clock.advance(3000);
    rows = t.rows();
    assert.match(rows[0]!, /retrying now/);
    t.store.trigger.connecting({ attempt: 3 });
    assert.match(t.rows()[0]!, /◌ reconnecting…/);
  });

  it('shows routine events only when asked (a)', async () => {
    const t = harness();
    t.store.trigger.feed({ message: knownSnapshot() });
    assert.doesNotMatch(t.rows().join('\n'), /runs Bash|slack allowed/);
    t.term.type('a');
    await typed();
    const text = t.rows().join('\n');
    assert.match(text, /RECENT EVENTS \(all\)/);
    assert.match(text, /11:59:00 {2}Claude #1 runs Bash/);
    assert.match(text, /11:58:00 {2}slack allowed/);
  });

  it('puts events into words, marking the routine ones and the alerts', () => {
    const names: Record<string, string> = { 'claude-a': 'Claude #1' };
    const say = (type: string, details: unknown, instance: string | null = 'claude-a', device: string | null = 'desktop') => {
      const w = describeEvent(event(type, '12:00:00', instance, details, device) as never, (id) => names[id] ?? null);
      return `${w.text}${w.routine ? ' [routine]' : ''}${w.alert ? ' [alert]' : ''}`;
    };
    assert.deepEqual(
      [
        say('instance.registered', { name: 'Claude #1', origin: { device_id: 'pixel-phone' }, revived: false }),
        say('instance.registered', { name: 'Claude #1', origin: { device_id: 'desktop' }, revived: true }),
        say('instance.stopped', { name: 'Claude #9', reason: 'expired' }, 'claude-gone'),
        say('hook.stop', { payload: {} }),
        say('hook.stop_failure', { payload: {} }),
        say('hook.pre_tool_use', { payload: { tool_name: 'Read' } }),
        say('hook.notification', { payload: { notification_type: 'idle_prompt' } }),
        say('hook.session_start', { payload: { source: 'resume' } }),
        say('mode.changed', { from: 'break', to: 'work_silence', by: 'timer', deadline: null }, null),
        say('focus.changed', { focus: true }, null),
        say('gate.changed', { from: 'productive', to: 'grace' }, null),
        say('gate.check', { app: 'reddit', allowed: false, reason: 'no agent is working; work_silence blocks reddit' }, null),
        say('notification.routed', { intent: 'needs_permission', channels: ['webhook'] }, 'claude-a', 'pixel-phone'),
        say('notification.failed', { channel: 'webhook', error: 'HTTP 500' }),
        say('notification.coalesced', { count: 3, title: 'Claude #1 and Claude #2 in api finished' }, null),
        say('usage.synced', { records: 12 }, null),
        say('actor.reset', { actor: '#mode', reason: 'snapshot invalid' }, null),
        say('something.new', {}, null, 'laptop'),
      ],
      [
        'Claude #1 started on pixel-phone',
        'Claude #1 came back on desktop',
        'Claude #9 stopped (expired)',
        'Claude #1 finished',
        'Claude #1 failed [alert]',
        'Claude #1 runs Read [routine]',
        'Claude #1 is waiting for input [alert]',
        'Claude #1 started a session (resume)',
        'Mode changed: break → work_silence (timer ended)',
        'Focus on',
        'Productivity: productive → grace',
        'reddit blocked: no agent is working; work_silence blocks reddit [alert]',
        'Claude #1: needs permission → pixel-phone (webhook) [routine]',
        'Notification failed on webhook: HTTP 500 [alert]',
        '3 notifications folded into one: Claude #1 and Claude #2 in api finished [routine]',
        'Usage read: 12 new record(s) [routine]',
        '#mode started afresh: snapshot invalid [alert]',
        'Something new (laptop)',
      ],
    );
  });

  it('paints at most once per 50 ms however fast messages come, and the last paint shows the last message', () => {
    const t = harness();
    t.store.trigger.feed({ message: knownSnapshot(1000) });
    t.screen.paintNow();
    const start = t.screen.paints();
    const burst = (from: number) => {
      for (let i = 0; i < 1000; i++) {
        const seq = from + i;
        t.store.trigger.feed({ message: message({ type: 'event', seq, at: '2026-11-23T12:00:00.000Z', event: event('hook.stop', '12:00:00', 'claude-a', { n: seq }) }) });
        t.store.trigger.feed({ message: message({ type: 'instance', seq, at: '2026-11-23T12:00:00.000Z', instance: instance({ id: 'claude-a', name: `Claude #${seq}`, device: 'desktop', profile: 'profile_1', color: '#0099ff', state: 'working', since: '11:58:00', registered: '09:45:00' }) }) });
      }
    };
    burst(1001);
    assert.equal(t.screen.paints(), start, 'nothing painted within the 50 ms after the last paint');
    t.clock.advance(49);
    assert.equal(t.screen.paints(), start);
    t.clock.advance(1);
    assert.equal(t.screen.paints(), start + 1);
    burst(2001);
    t.clock.advance(25);
    burst(3001);
    t.clock.advance(25);
    assert.equal(t.screen.paints(), start + 2, 'two bursts within one interval: one paint');
    assert.match(t.screen.rows().join('\n'), /Claude #4000 /);
    // The store keeps a bounded number of events.
    assert.equal(t.store.getSnapshot().context.events.length, 200);
  });
});
