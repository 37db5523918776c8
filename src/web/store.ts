// The page's picture of token-api, as signals: what the feed said (a snapshot, then changes),
// the state of the link, and the permission requests waiting for a decision. Messages
// are applied in one batch per animation frame (a timer stands in for hidden tabs, where
// frames do not run), so a burst of 200 events a second costs one render a frame. The last
// picture is kept in localStorage and shown, marked stale, when the page starts offline.
import { batch, computed, signal } from '@preact/signals';
import type { FeedApproval, FeedEvent, FeedGate, FeedInstance, FeedMode, FeedSession, FeedUsageTotals, ServerMessage } from './shared.js';
import { SESSIONS_CLEANED_UP } from './shared.js';

export type Link = 'connecting' | 'live' | 'reconnecting';
export const link = signal<Link>('connecting');
/** True while what is shown may be out of date (restored at start, or the feed is down). */
export const stale = signal(true);
/** When the last message arrived (ms); 0: never. */
export const receivedAt = signal(0);
export const serverVersion = signal<string | null>(null);

/** Instances by `instanceKey`: on a hub another machine's may share an id with one of its own. */
export const instances = signal<ReadonlyMap<string, FeedInstance>>(new Map());
export const instanceKey = (i: FeedInstance): string => (i.machine ? `${i.machine.id}/${i.id}` : i.id);
export const mode = signal<FeedMode | null>(null);
export const gate = signal<FeedGate | null>(null);
/** Events newest first; `key` is the seq of the message that carried it. */
export type KeyedEvent = FeedEvent & { key: number };
export const events = signal<readonly KeyedEvent[]>([]);
export const usageByInstance = signal<Readonly<Record<string, FeedUsageTotals>>>({});
export type DayTotals = FeedUsageTotals & { day: string };
export const usageToday = signal<{ day: string; timezone: string; devices: Readonly<Record<string, DayTotals>> } | null>(null);

/** A notification as the feed announces it, with its deliveries as they change. */
export interface LiveNotification {
  id: string;
  created_at: string;
  device: string | null;
  instance: string | null;
  event: string;
  title: string;
  message: string;
  status: string | null;
  deliveries: { channel: string; status: string; attempts: number; last_error: string | null }[];
}
export const liveNotifications = signal<ReadonlyMap<string, LiveNotification>>(new Map());

/** Permission requests: the pending ones (the snapshot's, then each permission_prompt) and
 * those resolved during this visit (permission_resolved), by id. */
export const approvals = signal<ReadonlyMap<string, FeedApproval>>(new Map());
export const pendingApprovals = computed(() =>
  [...approvals.value.values()].filter((a) => a.state === 'pending').sort((a, b) => a.created_at.localeCompare(b.created_at)),
);

/** Managed sessions as the feed showed them changing since the last snapshot (`session_changed`), by id: the Sessions tab lays them over its list. */
export const sessionChanges = signal<ReadonlyMap<string, FeedSession>>(new Map());
/** Counts the snapshots and cleanups: after either the sessions list is read again (changes may have been missed; exited sessions were forgotten). */
export const sessionsRead = signal(0);

/** The time the page shows (time in state, countdowns), moved once a second. */
export const now = signal(Date.now());

const STATE_ORDER: Record<string, number> = { awaiting: 0, working: 1, idle: 2, stopped: 3 };
/** Awaiting first, then working, idle, stopped; the most recently active first within each. */
export const sortedInstances = computed(() =>
  [...instances.value.values()].sort((a, b) => (STATE_ORDER[a.state] ?? 9) - (STATE_ORDER[b.state] ?? 9) || b.last_activity.localeCompare(a.last_activity)),
);
export const awaitingCount = computed(() => {
  let n = 0;
  for (const i of instances.value.values()) if (i.state === 'awaiting') n += 1;
  return n;
});
export const nameOf = (id: string): string | null => instances.peek().get(id)?.display_name ?? null;

const EVENTS_KEPT = 300;
const NOTIFICATIONS_KEPT = 100;
const RESOLVED_APPROVALS_KEPT = 30;
let pending: ServerMessage[] = [];
let scheduled = false;

/** Queues a message; everything queued is applied together on the next frame. */
export function enqueue(m: ServerMessage): void {
  pending.push(m);
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(flush);
  setTimeout(flush, 250);
}

function applyNotification(map: Map<string, LiveNotification>, m: Extract<ServerMessage, { type: 'notification' }>): void {
  const n = m.notification;
  const known = map.get(n.id);
  const base: LiveNotification = known ?? {
    id: n.id,
    created_at: n.created_at,
    device: n.device,
    instance: n.instance,
    event: n.event,
    title: n.title,
    message: n.message,
    status: n.status ?? null,
    deliveries: (n.deliveries ?? []).map((d) => ({ channel: d.channel, status: d.status, attempts: d.attempts, last_error: d.last_error })),
  };
  if (m.change === 'delivery' && m.delivery) {
    const d = m.delivery;
    const others = base.deliveries.filter((x) => x.channel !== d.channel);
    map.set(n.id, { ...base, deliveries: [...others, { channel: d.channel, status: d.status, attempts: d.attempts, last_error: d.error }] });
  } else {
    map.set(n.id, base);
  }
}

/** All pending requests, and the last few resolved ones. */
function keepRecent(asks: Map<string, FeedApproval>): Map<string, FeedApproval> {
  const resolved = [...asks.values()].filter((a) => a.state !== 'pending');
  if (resolved.length <= RESOLVED_APPROVALS_KEPT) return asks;
  for (const a of resolved.slice(0, resolved.length - RESOLVED_APPROVALS_KEPT)) asks.delete(a.id);
  return asks;
}

export function flush(): void {
  if (!scheduled) return;
  scheduled = false;
  const messages = pending;
  pending = [];
  batch(() => {
    let inst: Map<string, FeedInstance> | null = null;
    let evs: KeyedEvent[] | null = null;
    let notes: Map<string, LiveNotification> | null = null;
    let asks: Map<string, FeedApproval> | null = null;
    let sess: Map<string, FeedSession> | null = null;
    for (const m of messages) {
      switch (m.type) {
        case 'snapshot':
          sessionsRead.value += 1;
          sess = new Map();
          inst = new Map(m.instances.map((i) => [instanceKey(i), i]));
          evs = m.events.map((e, i) => ({ ...e, key: m.seq - i }));
          mode.value = m.mode;
          gate.value = m.gate;
          usageByInstance.value = m.usage.instances;
          usageToday.value = m.usage.today;
          serverVersion.value = m.server.version;
          // The snapshot names every pending request; what was resolved in this visit stays.
          asks = new Map([...(asks ?? approvals.value)].filter(([, a]) => a.state !== 'pending'));
          for (const a of m.approvals ?? []) asks.set(a.id, a);
          break;
        case 'instance':
          inst ??= new Map(instances.value);
          inst.set(instanceKey(m.instance), m.instance);
          break;
        case 'mode':
          mode.value = m.mode;
          break;
        case 'gate':
          gate.value = m.gate;
          break;
        case 'event':
          evs ??= [...events.value];
          evs.unshift({ ...m.event, key: m.seq });
          if (m.event.type === SESSIONS_CLEANED_UP) {
            sess = new Map([...(sess ?? sessionChanges.value)].filter(([, x]) => x.state !== 'exited'));
            sessionsRead.value += 1;
          }
          break;
        case 'notification':
          notes ??= new Map(liveNotifications.value);
          applyNotification(notes, m);
          break;
        case 'permission_prompt':
        case 'permission_resolved':
          asks ??= new Map(approvals.value);
          asks.set(m.approval.id, m.approval);
          break;
        case 'session_changed':
          sess ??= new Map(sessionChanges.value);
          sess.set(m.session.id, m.session);
          break;
        case 'token_usage_update': {
          if (m.instance_id && m.instance) usageByInstance.value = { ...usageByInstance.value, [m.instance_id]: m.instance };
          const today = usageToday.value;
          const { timezone, ...device } = m.device_today;
          if (!today || today.day !== device.day) usageToday.value = { day: device.day, timezone, devices: { [m.device_id]: device } };
          else usageToday.value = { ...today, devices: { ...today.devices, [m.device_id]: device } };
          break;
        }
        default:
          break;
      }
    }
    if (inst) instances.value = inst;
    if (evs) events.value = evs.length > EVENTS_KEPT ? evs.slice(0, EVENTS_KEPT) : evs;
    if (asks) approvals.value = keepRecent(asks);
    if (sess) sessionChanges.value = sess;
    if (notes) liveNotifications.value = notes.size > NOTIFICATIONS_KEPT ? new Map([...notes].slice(-NOTIFICATIONS_KEPT)) : notes;
    receivedAt.value = Date.now();
    if (link.value === 'live') stale.value = false;
  });
  persistSoon();
}

// The last known picture, for a start without the server: written at most every 2 s.
const KEY = 'token-api:last-state';
const PERSIST_MS = 2000;
let persistTimer: ReturnType<typeof setTimeout> | null = null;

interface Kept {
  at: number;
  instances: FeedInstance[];
  mode: FeedMode | null;
  gate: FeedGate | null;
  events: KeyedEvent[];
  usage: Record<string, FeedUsageTotals>;
}

function persistSoon(): void {
  if (persistTimer) return;
  persistTimer = setTimeout(() => {
    persistTimer = null;
    const kept: Kept = { at: receivedAt.value, instances: [...instances.value.values()], mode: mode.value, gate: gate.value, events: events.value.slice(0, 50), usage: { ...usageByInstance.value } };
    try {
      localStorage.setItem(KEY, JSON.stringify(kept));
    } catch {
      // Storage full or refused (a private window): the page works without it.
    }
  }, PERSIST_MS);
}

/** Shows the picture kept by an earlier visit, marked stale, until the feed answers. */
export function restoreLastState(): void {
  let kept: Kept;
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return;
    kept = JSON.parse(raw) as Kept;
    if (!Array.isArray(kept.instances) || !Array.isArray(kept.events)) return;
  } catch {
    return; // a copy that cannot be read is ignored
  }
  batch(() => {
    instances.value = new Map(kept.instances.map((i) => [instanceKey(i), i]));
    mode.value = kept.mode;
    gate.value = kept.gate;
    events.value = kept.events;
    usageByInstance.value = kept.usage ?? {};
    receivedAt.value = kept.at;
    stale.value = true;
  });
}

export function forgetLastState(): void {
  try {
    localStorage.removeItem(KEY);
  } catch {
    // nothing kept
  }
}
