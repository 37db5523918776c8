// The notification service. Its planner (`plan`, subscribed by src/system/wiring.ts) turns
// each `notify` intent an actor emits into rows of the transaction that emitted it: the routing
// decision (an event with its reason) and the intent, plus, with no coalescing window, the
// notification and its deliveries. Only after commit (`afterCommit`) do channels run (delivery.ts). Intents for one
// device within the window are folded into one notification when it closes; until then they
// wait in SQLite, so a crash loses nothing. Also the API behind the HTTP routes.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { NotificationsConfig } from '../config/config.js';
import type { Database } from '../db/database.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { DomainError } from '../lib/domain-error.js';
import type { Device } from '../actors/instances/devices.js';
import type { WriteOp } from '../db/writer.js';
import type { EventDraft } from '../db/queries/events.js';
import type { InstanceActors } from '../actors/instances/instance-kind.js';
import type { Committed, Hub, RootIntent, RootSnapshot } from '../actors/runtime/root-machines.js';
import type { ModeSource } from '../actors/mode-gate/mode-source.js';
import { createDelivery, payloadOf, recordView, type NotificationListener, type NotificationSummary } from './delivery.js';
import { createPlanner, forwardedIntentSchema, notifyIntentSchema, type ForwardedIntent, type RoutedIntent } from './planner.js';
import { route, URGENT_INTENTS, type Channel, type Urgency } from './routing.js';
import { plainText } from './text.js';
import { assignIntentsOp, heldIntentIds, pendingDeliveries } from '../db/queries/notifications.js';
import {
  getNotification,
  intentInsert,
  listNotifications,
  loadOpenIntents,
  notificationInserts,
  updateDelivery,
  type DeliveryRecord,
  type IntentRecord,
  type NotificationFilter,
  type NotificationRecord,
  type NotificationView,
} from './outbox.js';
import type { SoundChannel } from './channels/sound.js';
import type { SpeechChannel } from './channels/speech.js';
import type { VoicePool } from './voice-pool.js';

export { INTENT_NAMES, notifyIntentSchema, type NotifyIntentEvent } from './planner.js';
export { recordView, type NotificationListener, type NotificationSummary, type NotificationUpdate } from './delivery.js';

/** not_installed: this machine lacks the speech engine or sound player. */
export class NotifyRequestError extends DomainError {
  constructor(kind: 'invalid' | 'not_found' | 'not_installed' | 'conflict', message: string, field?: string) {
    super(kind, message, field);
    this.name = 'NotifyRequestError';
  }
}

export interface NotificationsDeps {
  config: NotificationsConfig;
  localDevice: string;
  hub: Pick<Hub, 'record' | 'flush'>;
  /** The live instances: an intent's facts, whether a wait is over. */
  instances: Pick<InstanceActors, 'snapshot'>;
  db: Database;
  devices: { get(id: string): Device | undefined };
  clock: Clock;
  logger: Logger;
  mode: ModeSource;
  speech: SpeechChannel;
  sound: SoundChannel;
  voicePool?: VoicePool;
  /** The sound played when none is named (the profile pool's first). */
  defaultSound: string | null;
  /** Devices the person used lately: intents of no instance go there too. */
  recentDevices?: () => readonly string[];
  /** Webhook attempts running at once. */
  maxConcurrentWebhooks?: number;
  /** One-time approve/deny links for a permission request's notification (src/system/system.ts joins the approvals). */
  actionsFor?: (n: NotificationSummary) => { approve: string; deny: string } | null;
  /** On a machine reporting to a hub: true while the hub routes this machine's webhooks (hub.notifications). */
  webhooksToHub?: () => boolean;
  /** On a hub: a machine's intent older than this when it arrives is recorded, not sent (hub.notify_max_age_seconds). */
  forwardedMaxAgeMs?: number;
  /**
   * On a hub: whether an instance of another machine waits, as it last reported: since when
   * (its clock), null when it does not wait, undefined when no machine reported it.
   */
  remoteWait?: (instanceId: string) => number | null | undefined;
  /** On a machine: a waiting instance's approval links (paths), forwarded to the hub. */
  approvalLinks?: (instanceId: string) => { approve: string; deny: string } | null;
  /** On a hub: the address this server's links are given at (approvals), to relay a machine's links; null: none. */
  linkBase?: () => string | null;
}

/** An event another machine recorded, as its hub received it (src/fleet). */
export interface ForwardedEvent {
  event_type: string;
  details: string | null;
}

interface Group {
  key: string;
  deviceId: string | null;
  channels: Channel[];
  members: IntentRecord[];
  timer: TimerHandle | undefined;
  /** Failed attempts to write the coalesced notification. */
  failures: number;
}

/** The wait before writing a coalesced notification again: 1 s, doubling, at most a minute. */
export function coalesceRetryMs(failures: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, failures - 1));
}

type Planned = { kind: 'now'; notification: NotificationRecord } | { kind: 'window'; intent: IntentRecord };

/** Another machine's waits remembered for the superseded check and their links (oldest forgotten first; then only "still waits" is checked). */
const REMOTE_WAITS_KEPT = 1000;

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.set(key, value);
  if (map.size > REMOTE_WAITS_KEPT) map.delete(map.keys().next().value!);
}

const LOCAL_NOT_REPLAYED = 'token-api restarted before it played; local notifications are not replayed';

export async function createNotifications(deps: NotificationsDeps) {
  const { config, hub, clock, logger } = deps;
  const planner = createPlanner(deps);
  /** Approve/deny links of another machine's permission requests, by notification, as this hub relays them. */
  const remoteLinks = new Map<string, { approve: string; deny: string }>();
  const delivery = createDelivery({ ...deps, superseded, actionsFor: (n) => remoteLinks.get(n.id) ?? deps.actionsFor?.(n) ?? null });
  /** Webhooks delivered for a wait, by instance: told "answered" once it is over (webhook.answered_update). */
  const answerable = new Map<string, { summary: NotificationSummary; url: string }[]>();

  /** A notification of a wait (permission, question) whose instance no longer waits, or waits again for something newer. */
  function superseded(n: NotificationSummary): boolean {
    if (!n.instance || !URGENT_INTENTS.has(n.event)) return false;
    const remote = deps.remoteWait?.(n.instance);
    if (remote !== undefined) return remote === null || (remoteSince.has(n.id) && remote > remoteSince.get(n.id)!);
    const snap = deps.instances.snapshot(n.instance);
    if (!snap || snap.value !== 'awaiting') return true;
    return snap.context.stateSince > Date.parse(n.created_at);
  }
  /** Another machine's waits the hub notified of, by notification: when the wait began there (its clock). */
  const remoteSince = new Map<string, number>();
  const planned = new WeakMap<RootIntent, Planned[]>();
  const groups = new Map<string, Group>();
  /** Closed windows whose notification could not be written yet, waiting to try again. */
  const retrying = new Set<Group>();
  let closed = false;

  // ---- the planner: rows in the transaction of the transition that emitted the intent ----

  function plan(emitted: RootIntent, source: RootSnapshot | undefined): { ops?: WriteOp[]; events?: EventDraft[] } {
    if (emitted.event.type !== 'notify') return {};
    const parsed = notifyIntentSchema.safeParse(emitted.event);
    if (!parsed.success) {
      logger.warn({ actor: emitted.actorId, issues: parsed.error.issues.slice(0, 3) }, 'ignored a malformed notify intent');
      return {};
    }
    const { ops, events, plans } = rowsOf(planner.routeIntent(parsed.data, source), clock.now());
    planned.set(emitted, plans);
    return { ops, events };
  }

  /** The rows of routed intents, and what to do with each once they commit. */
  function rowsOf(routed: readonly RoutedIntent[], now: number): { ops: WriteOp[]; events: EventDraft[]; plans: Planned[] } {
    const ops: WriteOp[] = [];
    const events: EventDraft[] = [];
    const plans: Planned[] = [];
    for (const { intent, event, reason } of routed) {
      events.push(event);
      // A permission request or a question goes out at once and alone: the person is waited for.
      // Suppressed (the mode, or a device with no channel) is in the history at once, with its
      // reason and no delivery; nothing waits in a window for it.
      if (config.coalesceMs <= 0 || intent.urgency === 'urgent' || intent.channels.length === 0) {
        const notification = planner.fromIntents([intent], reason, now);
        intent.notificationId = notification.id;
        (event.details as { notification: string | null }).notification = notification.id;
        plans.push({ kind: 'now', notification });
        ops.push(intentInsert(intent, now), ...notificationInserts(notification));
      } else {
        plans.push({ kind: 'window', intent });
        ops.push(intentInsert(intent, now));
      }
    }
    return { ops, events, plans };
  }

  function started(plans: readonly Planned[]): void {
    for (const p of plans) {
      if (p.kind === 'now') delivery.started(p.notification);
      else join(p.intent);
    }
  }

  /**
   * On a hub: the rows for the intents another machine forwarded in a frame of its changes
   * (its `notification.routed` events that carry `forward`), joined to that frame's
   * transaction by src/fleet; `after` runs once it commits. An intent already held (a machine
   * sending its changes again from the start) is skipped.
   */
  async function planForwarded(machine: { id: string; name: string }, remote: readonly ForwardedEvent[]): Promise<{ ops: WriteOp[]; events: EventDraft[]; after: () => void } | null> {
    const forwards: ForwardedIntent[] = [];
    for (const e of remote) {
      if (e.event_type !== 'notification.routed' || !e.details) continue;
      let details: unknown;
      try {
        details = JSON.parse(e.details);
      } catch {
        continue;
      }
      const forward = (details as { forward?: unknown } | null)?.forward;
      if (forward === undefined) continue;
      const f = forwardedIntentSchema.safeParse(forward);
      if (f.success) forwards.push(f.data);
      else logger.warn({ machine: machine.name, issues: f.error.issues.slice(0, 3) }, 'ignored a malformed forwarded intent');
    }
    if (forwards.length === 0) return null;
    const held = await heldIntentIds(deps.db, forwards.map((f) => f.intent_id));
    const now = clock.now();
    const fresh = forwards.filter((f) => !held.has(f.intent_id));
    if (fresh.length === 0) return null;
    const routed = fresh.map((f) => planner.routeForwarded(f, machine, now));
    const { ops, events, plans } = rowsOf(routed, now);
    return {
      ops,
      events,
      after: () => {
        // A wait notified at once: superseded when that machine reports the wait over, or a newer one.
        const base = deps.linkBase?.() ?? null;
        routed.forEach(({ intent }, i) => {
          if (intent.urgency !== 'urgent' || !intent.notificationId) return;
          const f = fresh[i]!;
          remember(remoteSince, intent.notificationId, f.at);
          // The machine's links, through this hub (which the phone reaches): /v1/machines/{id}/approvals/...
          const relay = (path: string) => `${base}/v1/machines/${encodeURIComponent(machine.id)}${path.slice('/api'.length)}`;
          if (f.links && base) remember(remoteLinks, intent.notificationId, { approve: relay(f.links.approve), deny: relay(f.links.deny) });
        });
        started(plans);
      },
    };
  }

  // ---- coalescing ----

  function join(intent: IntentRecord): void {
    let group = groups.get(intent.groupKey);
    if (!group) {
      const g: Group = { key: intent.groupKey, deviceId: intent.deviceId, channels: intent.channels, members: [], timer: undefined, failures: 0 };
      g.timer = clock.setTimeout(() => void delivery.track(closeGroup(g)), config.coalesceMs);
      groups.set(g.key, g);
      group = g;
    }
    group.members.push(intent);
  }

  async function closeGroup(group: Group): Promise<void> {
    if (groups.get(group.key) === group) groups.delete(group.key);
    clock.clearTimeout(group.timer);
    if (closed || group.members.length === 0) return;
    const n = planner.fromIntents(group.members, group.members.length > 1 ? `${group.members.length} intents for ${group.deviceId} within ${config.coalesceMs} ms` : null, clock.now());
    const ids = group.members.map((m) => m.id);
    try {
      await hub.record({
        ops: [...notificationInserts(n), assignIntentsOp(ids, n.id)],
        events: [{ type: 'notification.coalesced', at: n.createdAt, instanceId: n.instanceId, deviceId: n.deviceId, details: { id: n.id, intents: ids, count: ids.length, title: n.title } }],
      });
    } catch (err) {
      // The intents are committed; only their notification is not. Try again (the database may
      // be full or locked for a while); should the server stop first, the next start does it.
      group.failures += 1;
      const wait = coalesceRetryMs(group.failures);
      logger.error({ err, intents: ids.length, failures: group.failures, retry_ms: wait }, 'could not write a coalesced notification; trying again');
      retrying.add(group);
      group.timer = clock.setTimeout(() => {
        retrying.delete(group);
        void delivery.track(closeGroup(group));
      }, wait);
      return;
    }
    delivery.started(n);
  }

  // ---- start-up recovery ----

  async function recover(): Promise<{ expiredLocal: number; webhooks: number; intents: number }> {
    const pending = await pendingDeliveries(deps.db);
    const local = pending.filter((p) => p.delivery.channel !== 'webhook');
    if (local.length > 0) {
      const at = clock.now();
      await hub.record({
        ops: local.map((p) => updateDelivery(p.notification.id, p.delivery.channel as Channel, { status: 'expired', lastError: LOCAL_NOT_REPLAYED })),
        events: [{ type: 'notification.expired', at, details: { count: local.length, reason: LOCAL_NOT_REPLAYED } }],
      });
    }
    let hooks = 0;
    for (const p of pending) {
      if (p.delivery.channel !== 'webhook' || !p.delivery.target) continue;
      const n = p.notification;
      const summary: NotificationSummary = {
        id: n.id,
        created_at: n.created_at,
        device: n.device_id,
        instance: n.instance_id,
        event: n.event,
        title: n.title,
        message: n.message,
        urgency: n.urgency === 'urgent' ? 'urgent' : 'normal',
      };
      delivery.restoreWebhook({
        id: n.id,
        url: p.delivery.target,
        payload: payloadOf(summary, n.intent_count),
        summary,
        attempts: p.delivery.attempts,
        nextAttemptAt: p.delivery.next_attempt_at ? Date.parse(p.delivery.next_attempt_at) : clock.now(),
        expiresAt: Date.parse(p.delivery.expires_at),
      });
      hooks += 1;
    }
    const open = await loadOpenIntents(deps.db);
    const byKey = new Map<string, IntentRecord[]>();
    for (const i of open) byKey.set(i.groupKey, [...(byKey.get(i.groupKey) ?? []), i]);
    for (const [key, members] of byKey) {
      const g: Group = { key, deviceId: members[0]!.deviceId, channels: members[0]!.channels, members, timer: undefined, failures: 0 };
      await closeGroup(g);
    }
    delivery.scheduleWebhooks();
    return { expiredLocal: local.length, webhooks: hooks, intents: open.length };
  }

  /** After commit: what was planned now is delivered; what waits joins its window. */
  function afterCommit(notice: Committed): void {
    if (notice.emitted.length === 0) return;
    for (const e of notice.emitted) {
      const plans = planned.get(e);
      if (!plans) continue;
      planned.delete(e);
      started(plans);
    }
  }
  if (config.webhook.answeredUpdate) {
    delivery.onUpdate((u) => {
      if (u.kind !== 'delivery' || u.channel !== 'webhook' || u.status !== 'delivered') return;
      const n = u.notification;
      if (!n.instance || !URGENT_INTENTS.has(n.event)) return;
      const url = n.device ? deps.devices.get(n.device)?.webhook_url : undefined;
      if (!url) return;
      const list = answerable.get(n.instance) ?? [];
      list.push({ summary: n, url });
      answerable.set(n.instance, list);
      // Answered while the webhook was on its way: say so at once.
      if (superseded(n)) void delivery.track(sendAnswered(n.instance));
    });
  }
  /** After commit, with webhook.answered_update: an instance that no longer waits is told "answered". */
  function afterCommitAnswered(notice: Committed): void {
    for (const c of notice.changes) if (c.kind === 'instance' && c.snapshot.value !== 'awaiting' && answerable.has(c.id)) void delivery.track(sendAnswered(c.id));
  }

  /** On a hub, with webhook.answered_update: another machine's instances that changed, as it reported them. */
  function remoteChanged(items: readonly { id: string; state: string }[]): void {
    for (const i of items) if (i.state !== 'awaiting' && answerable.has(i.id)) void delivery.track(sendAnswered(i.id));
  }

  /** A short "answered" webhook for each wait of the instance that went out by webhook and is over. */
  async function sendAnswered(instanceId: string): Promise<void> {
    const waits = (answerable.get(instanceId) ?? []).filter((w) => superseded(w.summary));
    if (waits.length === 0) return;
    answerable.set(instanceId, (answerable.get(instanceId) ?? []).filter((w) => !waits.includes(w)));
    if (answerable.get(instanceId)?.length === 0) answerable.delete(instanceId);
    for (const w of waits) {
      const now = clock.now();
      const n: NotificationRecord = {
        id: randomUUID(),
        createdAt: now,
        source: 'intent',
        event: 'answered',
        deviceId: w.summary.device,
        instanceId,
        title: w.summary.title,
        message: 'answered',
        urgency: 'normal',
        voice: null,
        sound: null,
        intentCount: 0,
        reason: `follows ${w.summary.id} (${w.summary.event}): the instance no longer waits (webhook.answered_update)`,
        deliveries: [planner.delivery('webhook', w.url, now, now)],
      };
      try {
        await sendRecord(n, { type: 'notification.answered', at: now, instanceId, deviceId: n.deviceId, details: { id: n.id, follows: w.summary.id } });
      } catch (err) {
        logger.error({ err, instance: instanceId }, 'could not write the "answered" update');
      }
    }
  }

  const recovered = await recover();
  if (recovered.expiredLocal + recovered.webhooks + recovered.intents > 0) logger.info(recovered, 'notification outbox recovered');

  // ---- the API behind the HTTP routes ----

  async function sendRecord(n: NotificationRecord, event: EventDraft): Promise<NotificationView> {
    await hub.record({ ops: notificationInserts(n), events: [event] });
    delivery.started(n);
    return recordView(n);
  }

  /** Ids whose POST /api/notifications/{id}/retry is between reading the deliveries and starting them. */
  const retriesInProgress = new Set<string>();

  async function retryOnce(id: string): Promise<NotificationView> {
    const view = await getNotification(deps.db, id);
    if (!view) throw new NotifyRequestError('not_found', `no notification ${id}`);
    const again = view.deliveries.filter((d) => d.status === 'failed' || d.status === 'expired' || d.status === 'unavailable');
    if (again.length === 0) {
      throw new NotifyRequestError('conflict', `nothing to retry: ${view.deliveries.length === 0 ? 'it had no channels' : view.deliveries.map((d) => `${d.channel} is ${d.status}`).join(', ')}`);
    }
    const now = clock.now();
    const device = view.device ? (deps.devices.get(view.device) ?? null) : null;
    const deliveries: DeliveryRecord[] = again.map((d) => {
      const channel = d.channel as Channel;
      const target = channel === 'webhook' ? (device?.webhook_url ?? d.target) : d.target;
      const fresh = planner.delivery(channel, target, now, now);
      return { ...fresh, attempts: d.attempts };
    });
    await hub.record({
      ops: deliveries.map((d) =>
        updateDelivery(id, d.channel, { status: d.status, nextAttemptAt: d.nextAttemptAt, expiresAt: d.expiresAt, target: d.target, lastError: d.lastError }, ['failed', 'expired', 'unavailable']),
      ),
      events: [{ type: 'notification.retried', at: now, instanceId: view.instance, deviceId: view.device, details: { id, channels: deliveries.map((d) => d.channel) } }],
    });
    const record: NotificationRecord = {
      id,
      createdAt: Date.parse(view.created_at),
      source: view.source === 'api' ? 'api' : 'intent',
      event: view.event,
      deviceId: view.device,
      instanceId: view.instance,
      title: view.title,
      message: view.message,
      urgency: view.urgency === 'urgent' ? 'urgent' : 'normal',
      voice: view.voice,
      sound: view.sound,
      intentCount: view.intent_count,
      reason: view.reason,
      deliveries,
    };
    delivery.started(record, false);
    return (await getNotification(deps.db, id)) ?? recordView(record);
  }

  return {
    recovered,
    /** Subscribed by src/system/wiring.ts: rows while a transaction is built, then what runs after it commits. */
    plan,
    afterCommit,
    afterCommitAnswered: config.webhook.answeredUpdate ? afterCommitAnswered : undefined,
    /** On a hub (src/fleet joins it to each frame of a machine's changes): the intents that machine forwarded. */
    planForwarded,
    remoteChanged: config.webhook.answeredUpdate ? remoteChanged : undefined,

    /** POST /api/notify: routed like an intent (mode included) unless urgent; never coalesced. */
    async send(req: { message: string; title?: string; device?: string; instance?: string; urgency?: Urgency; channels?: Channel[] }): Promise<NotificationView> {
      const facts = req.instance ? await planner.factsOf(req.instance) : null;
      if (req.instance && !facts) throw new NotifyRequestError('not_found', `no instance ${req.instance}`, 'instance');
      const deviceId = req.device ?? facts?.deviceId ?? deps.localDevice;
      const found = planner.deviceFor(deviceId);
      if (req.device && found.note) throw new NotifyRequestError('invalid', `no device ${req.device}`, 'device');
      const urgency = req.urgency ?? 'normal';
      const r = route({ event: 'notify', urgency, device: found.device, deviceId, mode: deps.mode.current(), only: req.channels }, planner.policy);
      const cannot = (req.channels ?? []).filter((c) => r.unsupported.includes(c));
      if (cannot.length > 0) throw new NotifyRequestError('invalid', `device ${r.deviceId} cannot deliver ${cannot.join(' and ')} (${r.reason})`, 'channels');
      const now = clock.now();
      const reason = [found.note, r.reason].filter(Boolean).join('; ');
      const voice = facts?.voice ?? null;
      const sound = facts?.sound ?? null;
      const message = plainText(req.message, 4000);
      const n: NotificationRecord = {
        id: randomUUID(),
        createdAt: now,
        source: 'api',
        event: 'notify',
        deviceId: r.deviceId,
        instanceId: req.instance ?? null,
        title: req.title ? plainText(req.title, 200) : 'token-api',
        message,
        urgency,
        voice,
        sound,
        intentCount: 0,
        reason,
        deliveries: r.channels.map((c) => planner.delivery(c, planner.targetOf(c, found.device, voice, sound), now, now)),
      };
      return sendRecord(n, {
        type: 'notification.requested',
        at: now,
        instanceId: n.instanceId,
        deviceId: n.deviceId,
        details: { id: n.id, channels: r.channels, urgency, reason },
      });
    },

    /** POST /api/notify/tts: speaks on this machine now, whatever the mode (it was asked for). */
    async speak(req: { message: string; voice?: string }): Promise<NotificationView> {
      const s = deps.speech.status();
      if (!s.available) throw new NotifyRequestError('not_installed', s.problem ?? 'no speech engine');
      if (req.voice && !deps.speech.hasVoice(req.voice)) {
        throw new NotifyRequestError('invalid', `unknown voice ${req.voice}; ${s.engine} has ${s.voices.slice(0, 20).join(', ') || 'no listed voices'}`, 'voice');
      }
      const now = clock.now();
      const n: NotificationRecord = {
        id: randomUUID(),
        createdAt: now,
        source: 'api',
        event: 'tts',
        deviceId: deps.localDevice,
        instanceId: null,
        title: 'token-api',
        message: plainText(req.message, 4000),
        urgency: 'normal',
        voice: req.voice ?? null,
        sound: null,
        intentCount: 0,
        reason: 'asked for speech',
        deliveries: [planner.delivery('speech', req.voice ?? null, now, now)],
      };
      return sendRecord(n, { type: 'notification.requested', at: now, deviceId: n.deviceId, details: { id: n.id, channels: ['speech'], voice: n.voice } });
    },

    /** POST /api/notify/sound: plays a sound on this machine now, whatever the mode. */
    async playSound(req: { sound?: string }): Promise<NotificationView> {
      const s = deps.sound.status();
      if (!s.available) throw new NotifyRequestError('not_installed', s.problem ?? 'no sound player');
      const name = req.sound ?? deps.defaultSound;
      if (!name) throw new NotifyRequestError('invalid', 'no sound named and no default sound configured', 'sound');
      if (!deps.sound.resolve(name)) throw new NotifyRequestError('invalid', `no sound ${name} in ${s.directory}`, 'sound');
      const now = clock.now();
      const n: NotificationRecord = {
        id: randomUUID(),
        createdAt: now,
        source: 'api',
        event: 'sound',
        deviceId: deps.localDevice,
        instanceId: null,
        title: 'token-api',
        message: `sound ${name}`,
        urgency: 'normal',
        voice: null,
        sound: name,
        intentCount: 0,
        reason: 'asked for a sound',
        deliveries: [planner.delivery('sound', name, now, now)],
      };
      return sendRecord(n, { type: 'notification.requested', at: now, deviceId: n.deviceId, details: { id: n.id, channels: ['sound'], sound: name } });
    },

    /** POST /api/notifications/{id}/retry: failed or expired deliveries go again. */
    async retry(id: string): Promise<NotificationView> {
      // Two retries at once would both read the deliveries as failed before either commits and
      // both start delivery (speech twice, a webhook's pending send replaced): one at a time.
      if (retriesInProgress.has(id)) throw new NotifyRequestError('conflict', `a retry of ${id} is already in progress`);
      retriesInProgress.add(id);
      try {
        return await retryOnce(id);
      } finally {
        retriesInProgress.delete(id);
      }
    },

    list: (f: NotificationFilter) => listNotifications(deps.db, f),
    get: (id: string) => getNotification(deps.db, id),

    /** Hears of every notification created and every delivery outcome, after commit. */
    onUpdate: (listener: NotificationListener): (() => void) => delivery.onUpdate(listener),

    /** What GET /health reports. */
    status() {
      return {
        speech: deps.speech.status(),
        sound: deps.sound.status(),
        voices: deps.voicePool?.current() ?? null,
        mode: deps.mode.current(),
        coalesce_ms: config.coalesceMs,
        waiting_intents: [...groups.values()].reduce((n, g) => n + g.members.length, 0),
        ...delivery.status(),
      };
    },

    /** Resolves when the hub has committed what timers changed and nothing is being delivered or recorded (tests). */
    async settled(): Promise<void> {
      for (;;) {
        await hub.flush();
        if (!delivery.busy()) return;
        await delivery.idle();
      }
    },

    /** Stops timers and playback; open windows and pending webhooks stay in the outbox for the next start. */
    close(): void {
      closed = true;
      for (const g of [...groups.values(), ...retrying]) clock.clearTimeout(g.timer);
      groups.clear();
      retrying.clear();
      delivery.close();
      deps.speech.close();
    },
  };
}

export type Notifications = Awaited<ReturnType<typeof createNotifications>>;
