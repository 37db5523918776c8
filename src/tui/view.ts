// The dashboard as a pure function of its store's context and the time: the lines of the main
// screen (header, instances, status bar, today's usage, recent events, footer), each exactly
// as wide as the screen, and the overlay box (help, details, mode picker, confirmation) when
// one is open. Lines carry blessed tags for colour; text from the server is escaped.
import { sessionsFrame } from './sessions-overlay.js';
import { lastPart } from '../lib/project-name.js';
import type { FeedEvent, FeedInstance } from '../protocol/feed.js';
import { byTime, foldEvents, type ShownEvent } from './event-fold.js';
import { describeEvent } from '../protocol/event-words.js';
import { clockTime, countdown, duration, fit, line, seg, tokens, usd, type Segment } from './format.js';
import { COLUMN_ORDER, columnsFor, layoutFor, type Columns } from './layout.js';
import { DURATIONS, orderedInstances, selectedIndex, visibleTop, type DashboardContext, type NotificationState } from './store.js';

export interface Frame {
  lines: string[];
  overlay: { title: string; lines: string[]; width: number; height: number } | null;
}

const HEX = /^#[0-9a-fA-F]{6}$/;
const colourOf = (i: FeedInstance): string[] => (i.profile.color && HEX.test(i.profile.color) ? [`${i.profile.color}-fg`] : []);

function rule(title: string, width: number, right = ''): string {
  const t = title ? ` ${title} ` : '';
  const r = right ? ` ${right} ` : '';
  const fill = Math.max(0, width - t.length - r.length - (r ? 2 : 1));
  return line([seg('─'), seg(t, 'bold'), seg('─'.repeat(fill)), seg(r), seg(r ? '─' : '')], width);
}

function connectionBadge(ctx: DashboardContext, now: number): Segment {
  const c = ctx.connection;
  if (c.status === 'live') return seg(ctx.relay?.e2e ? '● live, e2e' : '● live', 'green-fg');
  if (c.status === 'connecting') return seg(c.attempt > 1 ? '◌ reconnecting…' : '◌ connecting…', 'yellow-fg');
  if (c.status === 'refused') return seg('○ refused, r retries', 'red-fg', 'bold');
  const wait = c.retryAt - now;
  return seg(`○ disconnected, retrying ${wait > 500 ? `in ${Math.ceil(wait / 1000)}s` : 'now'}`, 'red-fg', 'bold');
}

/** Whether speech and sound work on the server's machine: "speech ✓ sound ✗". */
function outputsBadge(ctx: DashboardContext): Segment[] {
  const o = ctx.outputs;
  if (!o) return [];
  const one = (name: string, ok: boolean) => seg(`${name} ${ok ? '✓' : '✗'}`, ok ? 'green-fg' : 'yellow-fg');
  return [seg('  '), one('speech', o.speech.available), seg(' '), one('sound', o.sound.available)];
}

function header(ctx: DashboardContext, now: number, width: number): string {
  const left: Segment[] = [seg(' TOKEN-API', 'bold'), seg(`  ${ctx.target}  `), connectionBadge(ctx, now), seg(`  ${clockTime(now)}`), ...outputsBadge(ctx)];
  const used = left.reduce((n, s) => n + Array.from(s.text).length, 0);
  for (const keys of ['[q]uit [r]efresh [?]help ', '[q]uit [?]help ', '[?]help ']) {
    if (used + keys.length + 1 > width) continue;
    left.push(seg(' '.repeat(width - used - keys.length)), seg(keys, 'bold'));
    break;
  }
  return line(left, width);
}

function stateSegment(i: FeedInstance, width: number): Segment {
  const text = fit(i.state, width);
  if (i.state === 'awaiting') return seg(text, 'bold', 'red-fg');
  if (i.state === 'working') return seg(text, 'green-fg');
  if (i.state === 'stopped') return seg(text, 'gray-fg');
  return seg(text);
}

/** The project column: the server's word for it, or (an older server) the directory's last part. */
const projectOf = (i: FeedInstance) => i.project ?? lastPart(i.working_dir);

function instanceLine(ctx: DashboardContext, i: FeedInstance, cols: Columns, now: number, width: number, selected: boolean): string {
  const stopped = i.status === 'stopped';
  // An offline machine's instances stay on the list, greyed.
  const offline = i.machine?.online === false;
  const colour = stopped || offline ? ['gray-fg'] : colourOf(i);
  const marker = stopped ? seg('○ ', 'gray-fg') : i.state === 'awaiting' ? seg('! ', 'bold', 'red-fg') : seg('● ', ...colour);
  const used = ctx.usage.instances[i.id];
  const since = Date.parse(i.state_since);
  const born = Date.parse(i.registered_at);
  const dim = stopped || offline ? ['gray-fg'] : [];
  const cells: Record<Exclude<keyof Columns, 'marker'>, Segment> = {
    machine: seg(fit(i.machine ? `${i.machine.name}${offline ? ' (off)' : ''}` : 'this', cols.machine), ...dim),
    name: seg(fit(i.display_name, cols.name), ...colour, ...(selected ? ['bold'] : [])),
    device: seg(fit(i.device_id, cols.device), ...dim),
    project: seg(fit(projectOf(i) ?? '-', cols.project), ...dim),
    profile: seg(fit(i.profile.name ?? '-', cols.profile), ...colour),
    state: stateSegment(i, cols.state),
    tool: seg(fit(stopped ? (i.stop_reason ?? '-') : (i.current_tool ?? '-'), cols.tool), ...dim),
    inState: seg(fit(Number.isFinite(since) ? duration(now - since) : '-', cols.inState, 'right'), ...dim),
    age: seg(fit(Number.isFinite(born) ? duration(now - born) : '-', cols.age, 'right'), ...dim),
    tokens: seg(fit(used ? tokens(used.total_tokens) : '-', cols.tokens, 'right'), ...dim),
  };
  return line([marker, ...joinColumns(cols, cells)], width, selected ? ['inverse'] : []);
}

/** The cells of the columns shown (a column of width 0 is left out), one space apart. */
function joinColumns(cols: Columns, cells: Record<Exclude<keyof Columns, 'marker'>, Segment>): Segment[] {
  const out: Segment[] = [];
  for (const k of COLUMN_ORDER) {
    if (k === 'marker' || cols[k] === 0) continue;
    if (out.length > 0) out.push(seg(' '));
    out.push(cells[k]);
  }
  return out;
}

function columnTitles(cols: Columns, width: number): string {
  const t = (s: string, w: number, align: 'left' | 'right' = 'left') => seg(fit(s, w, align), 'gray-fg');
  const cells = {
    machine: t('MACHINE', cols.machine),
    name: t('NAME', cols.name),
    device: t('DEVICE', cols.device),
    project: t('PROJECT', cols.project),
    profile: t('PROFILE', cols.profile),
    state: t('STATE', cols.state),
    tool: t('TOOL', cols.tool),
    inState: t('IN STATE', cols.inState, 'right'),
    age: t('AGE', cols.age, 'right'),
    tokens: t('TOKENS', cols.tokens, 'right'),
  };
  return line([seg(' '.repeat(cols.marker)), ...joinColumns(cols, cells)], width);
}

function statusBar(ctx: DashboardContext, now: number, width: number): string {
  // The fullest form that fits: the mode it returns to, then the long label, give way first.
  const variants: [boolean, string][] = [
    [true, 'PRODUCTIVITY: '],
    [false, 'PRODUCTIVITY: '],
    [false, 'GATE: '],
  ];
  let out: Segment[] = [];
  for (const [returnTo, gateLabel] of variants) {
    out = statusSegments(ctx, now, returnTo, gateLabel);
    if (out.reduce((n, x) => n + Array.from(x.text).length, 0) <= width) break;
  }
  return line(out, width);
}

function statusSegments(ctx: DashboardContext, now: number, returnTo: boolean, gateLabel: string): Segment[] {
  const s: Segment[] = [seg(' MODE: ', 'bold')];
  const m = ctx.mode;
  if (!m) s.push(seg('?'));
  else {
    s.push(seg(m.mode, 'cyan-fg'));
    if (m.deadline) {
      const left = Date.parse(m.deadline) - now;
      s.push(seg(` ${countdown(left)} left${returnTo && m.return_to ? ` → ${m.return_to}` : ''}`));
    }
  }
  s.push(seg(' │ '), seg(gateLabel, 'bold'));
  const g = ctx.gate;
  if (!g) s.push(seg('?'));
  else if (g.state === 'grace' && g.grace_until) s.push(seg(`grace ${countdown(Date.parse(g.grace_until) - now)}`, 'yellow-fg'));
  else if (g.productive) s.push(seg(`active (${g.working} working)`, 'green-fg'));
  else s.push(seg('idle', 'gray-fg'));
  s.push(seg(' │ '), seg('FOCUS: ', 'bold'), m?.focus ? seg('on', 'bold', 'yellow-fg') : seg('off'));
  return s;
}

function usageLine(ctx: DashboardContext, width: number): string {
  const devices = Object.entries(ctx.usage.devices).sort((a, b) => b[1].total_tokens - a[1].total_tokens);
  const s: Segment[] = [seg(' TODAY', 'bold'), seg(ctx.usage.day ? ` ${ctx.usage.day}: ` : ': ')];
  if (devices.length === 0) s.push(seg('no tokens used yet', 'gray-fg'));
  devices.forEach(([id, t], n) => {
    if (n > 0) s.push(seg(' · '));
    s.push(seg(id, 'cyan-fg'), seg(` ${tokens(t.total_tokens)} tok ${usd(t.cost_usd)}`));
  });
  return line(s, width);
}

function nameFinder(ctx: DashboardContext): (id: string) => string | null {
  return (id) => ctx.instances[id]?.display_name ?? null;
}

/** How each channel of a notification went, in a few words. */
function outcomeOf(n: NotificationState | undefined): { text: string; alert: boolean } | null {
  if (!n) return null;
  if (n.deliveries.length === 0) {
    const mode = n.reason ? /mode (\S+)/.exec(n.reason)?.[1] : undefined;
    return { text: mode ? `silenced by mode ${mode}` : `not delivered${n.reason ? `: ${n.reason.split('; ').pop()}` : ''}`, alert: false };
  }
  const said: string[] = [];
  let alert = false;
  for (const d of [...n.deliveries].sort((a, b) => a.channel.localeCompare(b.channel))) {
    const done = { speech: 'spoken', sound: 'sound played', webhook: 'pushed' }[d.channel] ?? `sent by ${d.channel}`;
    const not = { speech: 'not spoken', sound: 'no sound', webhook: 'not pushed' }[d.channel] ?? `not sent by ${d.channel}`;
    const missing = { speech: 'no speech engine here', sound: 'no sound player here' }[d.channel];
    if (d.status === 'delivered') said.push(done);
    else if (d.status === 'unavailable') said.push(`${not}: ${missing ?? d.error ?? 'not available here'}`);
    else if (d.status === 'superseded') said.push(`${not}: answered before it went out`);
    else if (d.status === 'failed' || d.status === 'expired') {
      alert = true;
      said.push(`${not}: ${d.status === 'expired' ? 'too late' : (d.error ?? 'failed')}`);
    } else said.push(d.attempts > 0 && d.error ? `${d.channel} retrying: ${d.error}` : `${d.channel === 'webhook' ? 'pushing' : d.channel === 'speech' ? 'speaking' : 'playing'}…`);
  }
  return { text: said.join(', '), alert };
}

function eventLine(ctx: DashboardContext, shown: ShownEvent, width: number): string {
  const e = shown.event;
  const time = Number.isFinite(shown.at) ? clockTime(shown.at) : '--:--:--';
  if (e.type === 'notification') {
    const d = (e.details ?? {}) as { id?: string; title?: string; message?: string };
    const outcome = outcomeOf(d.id ? ctx.notifications[d.id] : undefined);
    return line(
      [
        seg(` ${time}  `, 'gray-fg'),
        seg('→ ', 'magenta-fg'),
        seg(`${e.device_id ?? 'notified'}: ${d.message ?? d.title ?? ''}`),
        ...(outcome ? [seg(' · ', 'gray-fg'), outcome.alert ? seg(outcome.text, 'bold', 'red-fg') : seg(outcome.text, 'gray-fg')] : []),
      ],
      width,
    );
  }
  const w = shown.words;
  return line([seg(` ${time}  `, 'gray-fg'), w.alert ? seg(w.text, 'bold', 'red-fg') : seg(w.text)], width);
}

/** Recent events to show, newest first as they happened: routine ones (each tool call, allowed gate checks) only when asked. */
export function shownEvents(ctx: DashboardContext): ShownEvent[] {
  const nameOf = nameFinder(ctx);
  const listed = ctx.showAllEvents ? ctx.events : ctx.events.filter((e) => e.type === 'notification' || !describeEvent(e, nameOf).routine);
  return foldEvents(byTime(listed), nameOf);
}

function footer(ctx: DashboardContext, now: number, width: number): string {
  if (ctx.notice && now < ctx.notice.until) return line([seg(` ${ctx.notice.text}`, ...(ctx.notice.kind === 'error' ? ['red-fg', 'bold'] : ['green-fg']))], width);
  if (ctx.connection.status === 'disconnected' || ctx.connection.status === 'refused') return line([seg(` ${ctx.connection.reason}`, 'red-fg')], width);
  return line([seg(' ↑↓ jk move  enter details  m mode  f focus  s stop  a all  ? help  q quit', 'gray-fg')], width);
}

/** How the dashboard reaches its server, when through a relay: where, and what the relay can read. */
function routeLines(ctx: DashboardContext): string[] {
  const r = ctx.relay;
  if (!r) return [];
  return ['', `Through the relay ${r.host}, room ${r.room}:`, r.e2e ? 'end-to-end encrypted (the relay sees methods and paths only).' : 'not end-to-end encrypted (the relay can read it; pair for that).'];
}

function helpOverlay(ctx: DashboardContext, width: number): Frame['overlay'] {
  const keys: [string, string][] = [
    ['q, Ctrl-C', 'quit'],
    ['r', 'refresh: a fresh snapshot, or reconnect now'],
    ['↑ ↓, j k', 'move the selection'],
    ['PgUp PgDn, g G', 'page, first, last'],
    ['enter', 'details of the selected instance'],
    ['m', 'pick the work mode, then for how long'],
    ['f', 'focus on or off'],
    ['s', 'mark the selected instance stopped (asks first)'],
    ['y, n', 'allow / deny the awaiting instance’s permission'],
    ['a', 'all events, or only the notable ones'],
    ['o', 'managed sessions: start, prompt, cancel, stop, output'],
    ['?, esc', 'this help; esc closes it'],
  ];
  // Inside the border, each line fits: a 16-column key, a space, the words.
  const inner = Math.min(70, width - 4);
  const lines = [...keys.map(([k, what]) => `{bold}${fit(k, 16)}{/} ${line([seg(what)], Math.max(1, inner - 17)).trimEnd()}`), ...routeLines(ctx).map((l) => line([seg(l)], inner).trimEnd())];
  return { title: ' Keys ', lines, width: inner + 2, height: lines.length + 2 };
}

function detailsOverlay(ctx: DashboardContext, id: string, loaded: FeedEvent[] | null, error: string | null, now: number): Frame['overlay'] {
  const i = ctx.instances[id];
  if (!i) return { title: ' Details ', lines: ['This instance is no longer on the list.'], width: 60, height: 3 };
  const used = ctx.usage.instances[id];
  const esc = (s: string) => line([seg(s)], Array.from(s).length);
  const row = (k: string, v: string) => `{bold}${fit(k, 13)}{/}${esc(v)}`;
  const lines = [
    row('name', `${i.display_name} (${i.agent_type})`),
    row('state', `${i.state} for ${duration(now - Date.parse(i.state_since))}${i.current_tool ? `, running ${i.current_tool}` : ''}${i.stop_reason ? `, ${i.stop_reason}` : ''}`),
    row('device', `${i.device_id} (${i.origin.type}${i.origin.source_ip ? ` from ${i.origin.source_ip}` : ''})`),
    row('project', projectOf(i) ?? '-'),
    row('profile', `${i.profile.name ?? '-'}, voice ${i.profile.tts_voice ?? '-'}, sound ${i.profile.notification_sound ?? '-'}`),
    row('directory', i.working_dir ?? '-'),
    row('pid', i.pid === null ? '-' : String(i.pid)),
    row('session', i.session_id),
    row('counts', `${i.tool_count} tool calls, ${i.subagent_count} subagents now`),
    row('tokens', used ? `${tokens(used.total_tokens)} (${used.records} responses, ${usd(used.cost_usd)})` : '-'),
    row('registered', `${new Date(i.registered_at).toISOString().replace('T', ' ').slice(0, 19)} UTC, ${duration(now - Date.parse(i.registered_at))} ago`),
    '',
    '{bold}last events{/}',
  ];
  const events = loaded ?? ctx.events.filter((e) => e.instance_id === id);
  const nameOf = nameFinder(ctx);
  for (const shown of foldEvents(byTime(events), nameOf).slice(0, 8)) {
    lines.push(`{gray-fg}${Number.isFinite(shown.at) ? clockTime(shown.at) : '--:--:--'}{/} ${esc(shown.words.text)}`);
  }
  if (events.length === 0) lines.push(loaded === null && !error ? '{gray-fg}loading…{/}' : '{gray-fg}none{/}');
  if (error) lines.push(`{red-fg}${esc(`could not load the event log: ${error}`)}{/}`);
  lines.push('', '{gray-fg}esc or enter closes{/}');
  return { title: ` ${line([seg(i.display_name)], Array.from(i.display_name).length)} `, lines, width: 76, height: lines.length + 2 };
}

function modeOverlay(ctx: DashboardContext, index: number): Frame['overlay'] {
  const modes = ctx.mode?.modes ?? [];
  const lines = modes.map((m, n) => {
    const current = m === ctx.mode?.mode ? ' (now)' : '';
    const text = line([seg(`${n + 1}. ${m}${current}`)], 30);
    return n === index ? `{inverse}${text}{/}` : text;
  });
  lines.push('', '{gray-fg}↑↓ choose, enter next, esc cancels{/}');
  return { title: ' Work mode ', lines, width: 40, height: lines.length + 2 };
}

/** The second step of `m`: for how long the mode holds before it returns. */
function durationOverlay(mode: string, index: number, typed: string | null): Frame['overlay'] {
  const words = (d: (typeof DURATIONS)[number]) => (d === null ? 'until changed (no timer)' : d === 'typed' ? 'other: type minutes' : `${d} minutes`);
  const lines = DURATIONS.map((d, n) => {
    const text = line([seg(`${n + 1}. ${words(d)}`)], 34);
    return n === index && typed === null ? `{inverse}${text}{/}` : text;
  });
  if (typed !== null) lines.push('', line([seg(`minutes: ${typed}_`)], 34));
  lines.push('', typed === null ? '{gray-fg}↑↓ choose, enter sets, esc cancels{/}' : '{gray-fg}digits, enter sets, esc cancels{/}');
  const title = ` ${line([seg(mode)], Array.from(mode).length)} for how long? `;
  return { title, lines, width: 40, height: lines.length + 2 };
}

function confirmOverlay(name: string): Frame['overlay'] {
  const n = line([seg(name)], Array.from(name).length);
  return {
    title: ' Stop ',
    lines: [`Mark {bold}${n}{/} stopped?`, 'Its profile is freed; a new session starts it again.', '', '{bold}y{/} yes    {bold}n{/} no'],
    width: 58,
    height: 6,
  };
}

export function render(ctx: DashboardContext, now: number): Frame {
  const ordered = orderedInstances(ctx);
  const lay = layoutFor(ctx.width, ctx.height, ordered.length);
  const width = lay.width;
  const cols = columnsFor(width, { machines: Object.values(ctx.instances).some((i) => i.machine) });
  const live = ordered.filter((i) => i.status !== 'stopped');
  const awaiting = live.filter((i) => i.state === 'awaiting').length;
  const sel = selectedIndex(ctx, ordered);
  const top = visibleTop(ctx.scrollTop, sel, ordered.length, lay.listRows);

  const lines: string[] = [header(ctx, now, width)];
  const position = ordered.length > lay.listRows ? `${top + 1}-${Math.min(ordered.length, top + lay.listRows)} of ${ordered.length}` : '';
  lines.push(rule(`INSTANCES (${live.length} active${awaiting ? `, ${awaiting} awaiting` : ''})`, width, position));
  if (!lay.compact) lines.push(columnTitles(cols, width));
  for (let r = 0; r < lay.listRows; r++) {
    const i = ordered[top + r];
    if (i) lines.push(instanceLine(ctx, i, cols, now, width, top + r === sel));
    else if (r === 0 && ordered.length === 0) lines.push(line([seg('  no instances yet: they appear when an agent with token-api hooks starts', 'gray-fg')], width));
    else lines.push(line([], width));
  }
  if (!lay.compact) {
    lines.push(line([seg('─'.repeat(width))], width));
    lines.push(statusBar(ctx, now, width));
    lines.push(usageLine(ctx, width));
    lines.push(rule(`RECENT EVENTS${ctx.showAllEvents ? ' (all)' : ''}`, width));
    const events = shownEvents(ctx);
    for (let r = 0; r < lay.eventRows; r++) {
      const e = events[r];
      lines.push(e ? eventLine(ctx, e, width) : line([], width));
    }
  }
  lines.push(footer(ctx, now, width));

  let overlay: Frame['overlay'] = null;
  const o = ctx.overlay;
  if (o?.kind === 'help') overlay = helpOverlay(ctx, width);
  else if (o?.kind === 'details') overlay = detailsOverlay(ctx, o.id, o.events, o.error, now);
  else if (o?.kind === 'mode') overlay = modeOverlay(ctx, o.index);
  else if (o?.kind === 'duration') overlay = durationOverlay(o.mode, o.index, o.typed);
  else if (o?.kind === 'confirm_stop') overlay = confirmOverlay(o.name);
  else if (o?.kind === 'sessions') overlay = sessionsFrame(o, width);
  if (overlay) overlay = { ...overlay, width: Math.min(overlay.width, width - 2), height: Math.min(overlay.height, lay.height - 2) };
  return { lines, overlay };
}
