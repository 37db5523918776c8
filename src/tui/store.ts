// The dashboard's view state in one @xstate/store: what the feed said (instances, mode, gate,
// events, usage), the connection, the selection and scroll, the open overlay, the screen size
// and a passing notice. Every change is an event; the screen is a function of this context
// (view.ts), so what is drawn never depends on anything else.
import type { SessionsOverlay } from './sessions-overlay.js';
import { createStore } from '@xstate/store';
import type { FeedEvent, FeedGate, FeedInstance, FeedMode, FeedUsageTotals, ServerMessage } from '../protocol/feed.js';
import { layoutFor } from './layout.js';
import { outputLines, type SessionItem } from './session-data.js';
import { SESSIONS_CLEANED_UP, withoutExited, withSessionChanges } from '../protocol/session-changes.js';

export type Connection =
  | { status: 'connecting'; attempt: number }
  | { status: 'live' }
  | { status: 'disconnected'; reason: string; retryAt: number; attempt: number }
  /** Not retried until the person presses r (a revoked or expired client token). */
  | { status: 'refused'; reason: string };

/** The relay the dashboard reaches its server through, and whether end to end encrypted. */
export interface RelayRoute {
  host: string;
  room: string;
  e2e: boolean;
}

export type Overlay =
  | { kind: 'help' }
  | { kind: 'details'; id: string; events: FeedEvent[] | null; error: string | null }
  | { kind: 'mode'; index: number }
  /** After a mode is picked: for how long (a choice of DURATIONS, or minutes typed). */
  | { kind: 'duration'; mode: string; index: number; typed: string | null }
  | { kind: 'confirm_stop'; id: string; name: string }
  /** Managed sessions (key o): src/tui/sessions-overlay.ts. */
  | SessionsOverlay;

/** The durations `m` offers after a mode: none (until changed), 15, 30, 60 minutes, or typed. */
export const DURATIONS: readonly (number | null | 'typed')[] = [null, 15, 30, 60, 'typed'];

/** How one channel of a notification went. */
export interface DeliveryState {
  channel: string;
  status: string;
  attempts: number;
  error: string | null;
}

/** A notification as the dashboard follows it: its deliveries as they happen, or why there are none. */
export interface NotificationState {
  reason: string | null;
  deliveries: DeliveryState[];
}

/** Whether speech and sound work on the server's machine (GET /health). */
export interface LocalOutputs {
  speech: { available: boolean; problem: string | null };
  sound: { available: boolean; problem: string | null };
}

export interface Notice {
  text: string;
  kind: 'info' | 'error';
  until: number;
}

export interface DashboardContext {
  /** Where the dashboard is connected, as shown in the header. */
  target: string;
  /** Through a relay, or null when direct. */
  relay: RelayRoute | null;
  connection: Connection;
  server: { version: string; started_at: string } | null;
  /** The last stream seq applied. */
  seq: number | null;
  instances: Record<string, FeedInstance>;
  mode: FeedMode | null;
  gate: FeedGate | null;
  /** Newest first, as they arrived. */
  events: FeedEvent[];
  /** The notifications of the event list, by id. */
  notifications: Record<string, NotificationState>;
  /** Speech and sound on the server's machine; null until known. */
  outputs: LocalOutputs | null;
  usage: {
    instances: Record<string, FeedUsageTotals>;
    day: string | null;
    devices: Record<string, FeedUsageTotals>;
  };
  selectedId: string | null;
  scrollTop: number;
  overlay: Overlay | null;
  /** Managed sessions as the feed showed them changing since the last snapshot, by id: laid over the sessions list when it is read. */
  sessionChanges: Record<string, SessionItem>;
  showAllEvents: boolean;
  notice: Notice | null;
  width: number;
  height: number;
}

/** Events kept for the list and the details view. */
export const MAX_EVENTS = 200;
/** Lines of a session's output kept while it is shown. */
const MAX_OUTPUT_LINES = 500;
/** Stopped instances kept on the list, most recent first. */
export const MAX_STOPPED = 20;

const STATE_RANK: Record<string, number> = { awaiting: 0, working: 1, idle: 2 };

/** Live instances, awaiting first, then working, then idle (oldest first within each); then the recently stopped. */
export function orderedInstances(ctx: Pick<DashboardContext, 'instances'>): FeedInstance[] {
  const all = Object.values(ctx.instances);
  const live = all.filter((i) => i.status !== 'stopped');
  const stopped = all.filter((i) => i.status === 'stopped');
  live.sort((a, b) => (STATE_RANK[a.state] ?? 3) - (STATE_RANK[b.state] ?? 3) || a.registered_at.localeCompare(b.registered_at) || a.id.localeCompare(b.id));
  stopped.sort((a, b) => (b.stopped_at ?? '').localeCompare(a.stopped_at ?? '') || a.id.localeCompare(b.id));
  return [...live, ...stopped];
}

/** The index of the selected line (the first when the selection is gone). */
export function selectedIndex(ctx: Pick<DashboardContext, 'instances' | 'selectedId'>, ordered = orderedInstances(ctx)): number {
  const i = ctx.selectedId === null ? -1 : ordered.findIndex((x) => x.id === ctx.selectedId);
  return i === -1 ? 0 : i;
}

/** The first row shown so that the selection stays in view, starting from the remembered one. */
export function visibleTop(scrollTop: number, selected: number, count: number, rows: number): number {
  let top = Math.min(scrollTop, selected);
  if (selected >= top + rows) top = selected - rows + 1;
  return Math.max(0, Math.min(top, Math.max(0, count - rows)));
}

/** An instance's key in the store: another machine's (on a hub) may share an id with one of this server's. */
export const instanceKey = (i: FeedInstance): string => (i.machine ? `${i.machine.id}/${i.id}` : i.id);

function trimStopped(instances: Record<string, FeedInstance>): Record<string, FeedInstance> {
  const stopped = Object.values(instances)
    .filter((i) => i.status === 'stopped')
    .sort((a, b) => (b.stopped_at ?? '').localeCompare(a.stopped_at ?? ''));
  if (stopped.length <= MAX_STOPPED) return instances;
  const out = { ...instances };
  for (const i of stopped.slice(MAX_STOPPED)) delete out[instanceKey(i)];
  return out;
}

function pushEvent(events: FeedEvent[], e: FeedEvent): FeedEvent[] {
  const out = [e, ...events];
  if (out.length > MAX_EVENTS) out.length = MAX_EVENTS;
  return out;
}

/** Notifications still on the event list (the others are forgotten with their lines). */
function keepListed(events: FeedEvent[], notifications: Record<string, NotificationState>): Record<string, NotificationState> {
  const listed = new Set(events.filter((e) => e.type === 'notification').map((e) => (e.details as { id?: string }).id));
  const out: Record<string, NotificationState> = {};
  for (const [id, n] of Object.entries(notifications)) if (listed.has(id)) out[id] = n;
  return out;
}

/** What a cleanup leaves: the exited sessions forgotten, in the changes held and in the open list. */
function forgetExitedSessions(ctx: DashboardContext): DashboardContext {
  const sessionChanges = Object.fromEntries(Object.entries(ctx.sessionChanges).filter(([, s]) => s.state !== 'exited'));
  const o = ctx.overlay;
  if (o?.kind !== 'sessions' || !o.sessions) return { ...ctx, sessionChanges };
  const sessions = withoutExited(o.sessions);
  return { ...ctx, sessionChanges, overlay: { ...o, sessions, index: Math.min(o.index, Math.max(0, sessions.length - 1)) } };
}

/** What a feed message changes. */
export function applyMessage(ctx: DashboardContext, m: ServerMessage): DashboardContext {
  switch (m.type) {
    case 'snapshot': {
      const instances: Record<string, FeedInstance> = {};
      for (const i of m.instances) instances[instanceKey(i)] = i;
      const devices: Record<string, FeedUsageTotals> = {};
      for (const [id, t] of Object.entries(m.usage.today.devices)) devices[id] = t;
      return {
        ...ctx,
        connection: { status: 'live' },
        server: { version: m.server.version, started_at: m.server.started_at },
        seq: m.seq,
        instances,
        mode: m.mode,
        gate: m.gate,
        events: m.events.slice(0, MAX_EVENTS),
        notifications: {},
        usage: { instances: { ...m.usage.instances }, day: m.usage.today.day, devices },
        // Changes may have been missed: the list is read again (src/tui/dashboard.ts).
        sessionChanges: {},
      };
    }
    case 'resumed':
      return { ...ctx, connection: { status: 'live' } };
    case 'instance':
      return { ...ctx, seq: m.seq, instances: trimStopped({ ...ctx.instances, [instanceKey(m.instance)]: m.instance }) };
    case 'mode':
      return { ...ctx, seq: m.seq, mode: m.mode };
    case 'gate':
      return { ...ctx, seq: m.seq, gate: m.gate };
    case 'event': {
      const events = pushEvent(ctx.events, m.event);
      const next = { ...ctx, seq: m.seq, events, notifications: events.length === MAX_EVENTS ? keepListed(events, ctx.notifications) : ctx.notifications };
      return m.event.type === SESSIONS_CLEANED_UP ? forgetExitedSessions(next) : next;
    }
    case 'notification': {
      const n = m.notification;
      if (m.change === 'created') {
        const e: FeedEvent = { type: 'notification', instance_id: n.instance, device_id: n.device, details: { id: n.id, title: n.title, message: n.message, urgency: n.urgency }, created_at: n.created_at };
        const deliveries = (n.deliveries ?? []).map((d) => ({ channel: d.channel, status: d.status, attempts: d.attempts, error: d.last_error }));
        const events = pushEvent(ctx.events, e);
        return { ...ctx, seq: m.seq, events, notifications: keepListed(events, { ...ctx.notifications, [n.id]: { reason: n.reason ?? null, deliveries } }) };
      }
      const known = ctx.notifications[n.id];
      if (!known || !m.delivery) return { ...ctx, seq: m.seq };
      const d = m.delivery;
      const deliveries = [...known.deliveries.filter((x) => x.channel !== d.channel), { channel: d.channel, status: d.status, attempts: d.attempts, error: d.error }];
      return { ...ctx, seq: m.seq, notifications: { ...ctx.notifications, [n.id]: { ...known, deliveries } } };
    }
    case 'session_changed': {
      const { id, name, repo, agent, kind, state, updated_at } = m.session;
      const item = { id, name, repo, agent, kind, state, updated_at };
      const next = { ...ctx, seq: m.seq, sessionChanges: { ...ctx.sessionChanges, [id]: item } };
      // The sessions overlay's list, when it is open, follows the sessions as they change.
      const o = ctx.overlay;
      return o?.kind === 'sessions' && o.sessions ? { ...next, overlay: { ...o, sessions: withSessionChanges(o.sessions, [item]) } } : next;
    }
    case 'session_output': {
      // The output being shown grows as the session prints (partial messages, seq null, make no line).
      const o = ctx.overlay;
      if (o?.kind !== 'sessions' || o.following?.id !== m.session_id || m.output.seq === null || m.output.seq <= o.following.after) return ctx;
      const output = [...(o.output ?? []), ...outputLines([m.output])].slice(-MAX_OUTPUT_LINES);
      return { ...ctx, overlay: { ...o, output, following: { ...o.following, after: m.output.seq } } };
    }
    case 'session_exited': {
      // Said once: following an exited session again (after a reconnection) says it again.
      const o = ctx.overlay;
      if (o?.kind !== 'sessions' || o.following?.id !== m.session_id || o.following.exited) return ctx;
      const reason = (m.exit as { reason?: unknown } | null)?.reason;
      const output = [...(o.output ?? []), `— the session exited${typeof reason === 'string' ? ` (${reason})` : ''}`];
      return { ...ctx, overlay: { ...o, output, following: { ...o.following, exited: true } } };
    }
    case 'token_usage_update': {
      const instances = m.instance_id && m.instance ? { ...ctx.usage.instances, [m.instance_id]: m.instance } : ctx.usage.instances;
      const day = m.device_today.day;
      let devices = ctx.usage.devices;
      if (ctx.usage.day === null || day > ctx.usage.day) devices = { [m.device_id]: m.device_today };
      else if (day === ctx.usage.day) devices = { ...devices, [m.device_id]: m.device_today };
      return { ...ctx, seq: m.seq, usage: { instances, day: ctx.usage.day !== null && day < ctx.usage.day ? ctx.usage.day : day, devices } };
    }
    default:
      return ctx;
  }
}

/** Moves the selection by `by` lines (clamped), scrolling the list to keep it in view. */
function moveSelection(ctx: DashboardContext, target: (current: number, count: number, rows: number) => number): DashboardContext {
  const ordered = orderedInstances(ctx);
  if (ordered.length === 0) return ctx;
  const rows = layoutFor(ctx.width, ctx.height, ordered.length).listRows;
  const current = selectedIndex(ctx, ordered);
  const next = Math.max(0, Math.min(ordered.length - 1, target(current, ordered.length, rows)));
  const top = visibleTop(visibleTop(ctx.scrollTop, current, ordered.length, rows), next, ordered.length, rows);
  return { ...ctx, selectedId: ordered[next]!.id, scrollTop: top };
}

export function initialContext(target: string, width = 80, height = 24, relay: RelayRoute | null = null): DashboardContext {
  return {
    target,
    relay,
    connection: { status: 'connecting', attempt: 1 },
    server: null,
    seq: null,
    instances: {},
    mode: null,
    gate: null,
    events: [],
    notifications: {},
    outputs: null,
    usage: { instances: {}, day: null, devices: {} },
    selectedId: null,
    scrollTop: 0,
    overlay: null,
    sessionChanges: {},
    showAllEvents: false,
    notice: null,
    width,
    height,
  };
}

export function createDashboardStore(initial: DashboardContext) {
  return createStore({
    context: initial,
    on: {
      connecting: (ctx, e: { attempt: number }) => ({ ...ctx, connection: { status: 'connecting' as const, attempt: e.attempt } }),
      disconnected: (ctx, e: { reason: string; retryAt: number; attempt: number }) => ({
        ...ctx,
        connection: { status: 'disconnected' as const, reason: e.reason, retryAt: e.retryAt, attempt: e.attempt },
      }),
      refused: (ctx, e: { reason: string }) => ({ ...ctx, connection: { status: 'refused' as const, reason: e.reason } }),
      feed: (ctx, e: { message: ServerMessage }) => applyMessage(ctx, e.message),
      resize: (ctx, e: { width: number; height: number }) => ({ ...ctx, width: e.width, height: e.height }),
      move: (ctx, e: { by: number }) => (ctx.overlay?.kind === 'mode' ? ctx : moveSelection(ctx, (i) => i + e.by)),
      page: (ctx, e: { direction: 1 | -1 }) => moveSelection(ctx, (i, _n, rows) => i + e.direction * Math.max(1, rows - 1)),
      moveTo: (ctx, e: { to: 'first' | 'last' }) => moveSelection(ctx, (_i, n) => (e.to === 'first' ? 0 : n - 1)),
      openHelp: (ctx) => ({ ...ctx, overlay: { kind: 'help' as const } }),
      closeOverlay: (ctx) => ({ ...ctx, overlay: null }),
      openDetails: (ctx) => {
        const ordered = orderedInstances(ctx);
        const sel = ordered[selectedIndex(ctx, ordered)];
        return sel ? { ...ctx, selectedId: sel.id, overlay: { kind: 'details' as const, id: sel.id, events: null, error: null } } : ctx;
      },
      detailsLoaded: (ctx, e: { id: string; events: FeedEvent[] | null; error: string | null }) =>
        ctx.overlay?.kind === 'details' && ctx.overlay.id === e.id ? { ...ctx, overlay: { ...ctx.overlay, events: e.events, error: e.error } } : ctx,
      openModePicker: (ctx) => {
        if (!ctx.mode) return ctx;
        const index = Math.max(0, ctx.mode.modes.indexOf(ctx.mode.mode));
        return { ...ctx, overlay: { kind: 'mode' as const, index } };
      },
      pickerMove: (ctx, e: { by: number }) => {
        const o = ctx.overlay;
        const n = o?.kind === 'mode' ? (ctx.mode?.modes.length ?? 0) : o?.kind === 'duration' && o.typed === null ? DURATIONS.length : 0;
        if (n === 0 || (o?.kind !== 'mode' && o?.kind !== 'duration')) return ctx;
        return { ...ctx, overlay: { ...o, index: (((o.index + e.by) % n) + n) % n } };
      },
      askDuration: (ctx, e: { mode: string }) => ({ ...ctx, overlay: { kind: 'duration' as const, mode: e.mode, index: 0, typed: null } }),
      typeMinutes: (ctx, e: { text: string }) => (ctx.overlay?.kind === 'duration' ? { ...ctx, overlay: { ...ctx.overlay, typed: e.text.slice(0, 5) } } : ctx),
      outputs: (ctx, e: { outputs: LocalOutputs }) => ({ ...ctx, outputs: e.outputs }),
      askStop: (ctx) => {
        const ordered = orderedInstances(ctx);
        const sel = ordered[selectedIndex(ctx, ordered)];
        if (!sel || sel.status === 'stopped') return ctx;
        return { ...ctx, selectedId: sel.id, overlay: { kind: 'confirm_stop' as const, id: sel.id, name: sel.display_name } };
      },
      /** The sessions list read again (after a reconnection): into the open overlay, if it still is. */
      sessionsRead: (ctx, e: { sessions: SessionItem[] }) => {
        const o = ctx.overlay;
        if (o?.kind !== 'sessions' || !o.sessions) return ctx;
        const sessions = withSessionChanges(e.sessions, Object.values(ctx.sessionChanges));
        return { ...ctx, overlay: { ...o, sessions, index: Math.min(o.index, Math.max(0, sessions.length - 1)) } };
      },
      setSessionsOverlay: (ctx, e: { overlay: SessionsOverlay | null }) => {
        const o = e.overlay;
        // A list read over HTTP may be older than what the feed has said since.
        return { ...ctx, overlay: o?.sessions ? { ...o, sessions: withSessionChanges(o.sessions, Object.values(ctx.sessionChanges)) } : o };
      },
      toggleAllEvents: (ctx) => ({ ...ctx, showAllEvents: !ctx.showAllEvents }),
      notice: (ctx, e: { text: string; kind: 'info' | 'error'; until: number }) => ({ ...ctx, notice: { text: e.text, kind: e.kind, until: e.until } }),
    },
  });
}

export type DashboardStore = ReturnType<typeof createDashboardStore>;
