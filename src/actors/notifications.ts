// The notification service. A planner on the hub turns each `notify` intent an actor emits
// into rows of the transaction that emitted it: the routing decision (an event with its
// reason) and the intent, plus, with no coalescing window, the notification and its
// deliveries. Only after commit do channels run: the audio queue for speech and sound, the
// webhook sender with retries. Intents for one device within the window are folded into one
// notification when it closes; until then they wait in SQLite, so a crash loses nothing.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { NotificationsConfig } from '../config.js';
import type { Database } from '../db/database.js';
import { getInstance } from '../db/queries.js';
import type { WriteOp } from '../db/writer.js';
import { displayName, instanceContextSchema } from '../machines/instance-context.js';
import { createAudioQueue } from './audio-queue.js';
import type { Clock, TimerHandle } from './clock.js';
import type { Device } from './devices.js';
import type { AnySnapshot, EmittedIntent, EventDraft, Hub } from './hub.js';
import type { ModeSource } from './mode-source.js';
import { route, URGENT_INTENTS, type Channel, type RoutingPolicy, type Urgency } from './notification-routing.js';
import { compose, plainText, sentenceOf } from './notification-text.js';
import {
  assignIntents,
  getNotification,
  intentInsert,
  listNotifications,
  loadOpenIntents,
  loadPendingDeliveries,
  notificationInserts,
  notificationView,
  updateDelivery,
  type DeliveryPatch,
  type DeliveryRecord,
  type DeliveryStatus,
  type IntentRecord,
  type NotificationFilter,
  type NotificationRecord,
  type NotificationView,
} from './outbox.js';
import type { SoundChannel } from './sound.js';
import type { SpeechChannel } from './speech.js';
import type { VoicePool } from './voice-pool.js';
import { backoffMs, postWebhook, type WebhookPayload } from './webhook.js';

export const INTENT_NAMES = ['finished', 'failed', 'needs_permission', 'needs_input', 'expired', 'mode_timer_ended'] as const;

/** What an actor may emit to ask for a notification. Intents of no instance (the mode's) go to the local device. */
export const notifyIntentSchema = z.object({
  type: z.literal('notify'),
  intent: z.enum(INTENT_NAMES),
  instanceId: z.string().min(1).nullable().optional(),
  at: z.number().finite(),
  tool: z.string().nullable().optional(),
  message: z.string().nullable().optional(),
  /** mode_timer_ended: the mode now, and the one whose timer ended. */
  mode: z.string().nullable().optional(),
  previous: z.string().nullable().optional(),
});
export type NotifyIntentEvent = z.infer<typeof notifyIntentSchema>;

const instanceFactsSchema = instanceContextSchema.pick({
  instanceId: true,
  agentType: true,
  number: true,
  tabName: true,
  origin: true,
  profile: true,
  workingDir: true,
});

interface InstanceFacts {
  name: string;
  deviceId: string;
  voice: string | null;
  sound: string | null;
  workingDir: string | null;
}

/** Summary of a notification carried with every update to listeners. */
export interface NotificationSummary {
  id: string;
  created_at: string;
  device: string | null;
  instance: string | null;
  event: string;
  title: string;
  message: string;
  urgency: Urgency;
}

export type NotificationUpdate =
  | { kind: 'created'; at: number; notification: NotificationView }
  | { kind: 'delivery'; at: number; notification: NotificationSummary; channel: Channel; status: DeliveryStatus; attempts: number; error: string | null };

export type NotificationListener = (update: NotificationUpdate) => void;

export class NotifyRequestError extends Error {
  constructor(
    readonly kind: 'invalid' | 'not_found' | 'unavailable' | 'conflict',
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'NotifyRequestError';
  }
}

export interface NotificationsDeps {
  config: NotificationsConfig;
  localDevice: string;
  hub: Hub;
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
  /** Webhook attempts running at once. */
  maxConcurrentWebhooks?: number;
}

interface Group {
  key: string;
  deviceId: string | null;
  channels: Channel[];
  members: IntentRecord[];
  timer: TimerHandle | undefined;
}

interface PendingWebhook {
  id: string;
  url: string;
  payload: WebhookPayload;
  summary: NotificationSummary;
  attempts: number;
  nextAttemptAt: number;
  expiresAt: number;
}

type Planned = { kind: 'now'; notification: NotificationRecord } | { kind: 'window'; intent: IntentRecord };

const LOCAL_NOT_REPLAYED = 'token-api restarted before it played; local notifications are not replayed';

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function summaryOf(n: NotificationRecord): NotificationSummary {
  return { id: n.id, created_at: iso(n.createdAt), device: n.deviceId, instance: n.instanceId, event: n.event, title: n.title, message: n.message, urgency: n.urgency };
}

function payloadOf(n: NotificationSummary, count: number): WebhookPayload {
  return { id: n.id, title: n.title, message: n.message, urgency: n.urgency, instance: n.instance, device: n.device, event: n.event, at: n.created_at, count };
}

/** A record as the history API shows it. */
export function recordView(n: NotificationRecord): NotificationView {
  return notificationView(
    {
      id: n.id,
      created_at: iso(n.createdAt),
      source: n.source,
      event: n.event,
      device_id: n.deviceId,
      instance_id: n.instanceId,
      title: n.title,
      message: n.message,
      urgency: n.urgency,
      voice: n.voice,
      sound: n.sound,
      intent_count: n.intentCount,
      reason: n.reason,
    },
    n.deliveries.map((d) => ({
      notification_id: n.id,
      channel: d.channel,
      target: d.target,
      status: d.status,
      attempts: d.attempts,
      next_attempt_at: d.nextAttemptAt === null ? null : iso(d.nextAttemptAt),
      expires_at: iso(d.expiresAt),
      last_attempt_at: null,
      delivered_at: null,
      last_error: d.lastError,
      response_status: null,
      response_body: null,
    })),
  );
}

export async function createNotifications(deps: NotificationsDeps) {
  const { config, hub, clock, logger } = deps;
  const policy: RoutingPolicy = {
    localDevice: deps.localDevice,
    modeChannels: config.modeChannels,
    focusMutesSpeech: config.focusMutesSpeech,
    deviceChannels: config.devices,
  };
  const audio = createAudioQueue(clock);
  const planned = new WeakMap<EmittedIntent, Planned>();
  const groups = new Map<string, Group>();
  const webhooks = new Map<string, PendingWebhook>();
  const inFlight = new Set<string>();
  const listeners = new Set<NotificationListener>();
  const work = new Set<Promise<unknown>>();
  const maxWebhooks = deps.maxConcurrentWebhooks ?? 16;
  let webhookTimer: TimerHandle | undefined;
  let closed = false;

  function track<T>(p: Promise<T>): Promise<T> {
    work.add(p);
    void p.then(
      () => work.delete(p),
      () => work.delete(p),
    );
    return p;
  }

  function publish(update: NotificationUpdate): void {
    for (const l of listeners) {
      try {
        l(update);
      } catch (err) {
        logger.error({ err }, 'notification listener failed');
      }
    }
  }

  // ---- facts, routing and wording ----

  function factsOfSnapshot(instanceId: string, snapshot: AnySnapshot | undefined): InstanceFacts | null {
    const parsed = instanceFactsSchema.safeParse(snapshot?.context);
    if (!parsed.success || parsed.data.instanceId !== instanceId) return null;
    const c = parsed.data;
    return { name: displayName(c), deviceId: c.origin.deviceId, voice: c.profile.voice, sound: c.profile.sound, workingDir: c.workingDir };
  }

  async function factsOf(instanceId: string): Promise<InstanceFacts | null> {
    const live = factsOfSnapshot(instanceId, hub.get(instanceId)?.getSnapshot() as AnySnapshot | undefined);
    if (live) return live;
    const row = await getInstance(deps.db, instanceId);
    if (!row) return null;
    return { name: row.display_name, deviceId: row.device_id, voice: row.tts_voice, sound: row.notification_sound, workingDir: row.working_dir };
  }

  /** The device to deliver to: the origin, or the fallback device when the origin is unknown. */
  function deviceFor(deviceId: string | null): { device: Device | null; note: string | null } {
    const device = deviceId ? deps.devices.get(deviceId) : undefined;
    if (device) return { device, note: null };
    const fb = config.fallbackDevice ? deps.devices.get(config.fallbackDevice) : undefined;
    if (fb) return { device: fb, note: `origin device ${deviceId ?? '(none)'} is not known; sent to ${fb.id}` };
    return { device: null, note: null };
  }

  function includeDetail(deviceId: string | null, channels: readonly Channel[]): boolean {
    return (deviceId ? config.devices[deviceId]?.includeMessage : undefined) ?? !channels.includes('webhook');
  }

  function delivery(channel: Channel, target: string | null, now: number, localFrom: number): DeliveryRecord {
    if (channel === 'webhook') {
      return { channel, target, status: 'pending', attempts: 0, nextAttemptAt: now, expiresAt: now + config.webhook.retryMs, lastError: null };
    }
    const status = channel === 'speech' ? deps.speech.status() : deps.sound.status();
    return {
      channel,
      target,
      status: status.available ? 'pending' : 'unavailable',
      attempts: 0,
      nextAttemptAt: null,
      expiresAt: localFrom + config.localExpiryMs,
      lastError: status.available ? null : status.problem,
    };
  }

  function targetOf(channel: Channel, device: Device | null, voice: string | null, sound: string | null): string | null {
    return channel === 'webhook' ? (device?.webhook_url ?? null) : channel === 'speech' ? voice : (sound ?? deps.defaultSound);
  }

  /** One notification made of intents that share a device and channels. */
  function fromIntents(members: readonly IntentRecord[], reason: string | null, now: number): NotificationRecord {
    const sorted = [...members].sort((a, b) => (a.urgency === b.urgency ? a.at - b.at : a.urgency === 'urgent' ? -1 : 1));
    const lead = sorted[0]!;
    const deviceId = lead.deviceId;
    const device = deviceId ? (deps.devices.get(deviceId) ?? null) : null;
    const channels = lead.channels;
    const { title, message } = compose(sorted, { includeDetail: includeDetail(deviceId, channels), maxChars: config.messageMaxChars });
    const instances = [...new Set(members.map((m) => m.instanceId).filter((x): x is string => x !== null))];
    const intents = [...new Set(members.map((m) => m.intent))];
    const firstAt = Math.min(...members.map((m) => m.at));
    const id = randomUUID();
    return {
      id,
      createdAt: now,
      source: 'intent',
      event: intents.length === 1 ? intents[0]! : 'coalesced',
      deviceId,
      instanceId: instances.length === 1 ? instances[0]! : null,
      title,
      message,
      urgency: members.some((m) => m.urgency === 'urgent') ? 'urgent' : 'normal',
      voice: lead.voice,
      sound: lead.sound,
      intentCount: members.length,
      reason,
      deliveries: channels.map((c) => delivery(c, targetOf(c, device, lead.voice, lead.sound), now, firstAt + config.coalesceMs)),
    };
  }

  // ---- the planner: rows in the transaction of the transition that emitted the intent ----

  function plan(emitted: EmittedIntent, source: AnySnapshot | undefined): { ops?: WriteOp[]; events?: EventDraft[] } {
    if (emitted.event.type !== 'notify') return {};
    const parsed = notifyIntentSchema.safeParse(emitted.event);
    if (!parsed.success) {
      logger.warn({ actor: emitted.actorId, issues: parsed.error.issues.slice(0, 3) }, 'ignored a malformed notify intent');
      return {};
    }
    const n = parsed.data;
    const instanceId = n.instanceId ?? null;
    const facts = instanceId ? factsOfSnapshot(instanceId, source) : null;
    const originId = instanceId ? (facts?.deviceId ?? null) : deps.localDevice;
    const { device, note } = deviceFor(originId);
    const urgency: Urgency = URGENT_INTENTS.has(n.intent) ? 'urgent' : 'normal';
    const mode = deps.mode.current();
    const r = route({ event: n.intent, urgency, device, deviceId: originId, mode }, policy);
    const reason = [note, r.reason].filter(Boolean).join('; ');
    const now = clock.now();
    const intent: IntentRecord = {
      id: randomUUID(),
      at: n.at,
      intent: n.intent,
      instanceId,
      deviceId: r.deviceId,
      groupKey: `${r.deviceId ?? ''}|${r.channels.join(',')}`,
      channels: r.channels,
      urgency,
      name: facts?.name ?? null,
      sentence: sentenceOf({ intent: n.intent, name: facts?.name ?? null, workingDir: facts?.workingDir ?? null, tool: n.tool ?? null, mode: n.mode, endedMode: n.previous }),
      detail: n.intent === 'needs_permission' ? null : (n.message ?? null),
      voice: facts?.voice ?? null,
      sound: facts?.sound ?? null,
      notificationId: null,
    };
    const event: EventDraft = {
      type: 'notification.routed',
      at: n.at,
      instanceId,
      deviceId: r.deviceId,
      details: { intent: n.intent, urgency, mode: mode.mode, focus: mode.focus, channels: r.channels, reason, intent_id: intent.id, notification: null as string | null },
    };
    if (r.channels.length === 0) return { events: [event] };
    if (config.coalesceMs <= 0) {
      const notification = fromIntents([intent], reason, now);
      intent.notificationId = notification.id;
      (event.details as { notification: string | null }).notification = notification.id;
      planned.set(emitted, { kind: 'now', notification });
      return { ops: [intentInsert(intent, now), ...notificationInserts(notification)], events: [event] };
    }
    planned.set(emitted, { kind: 'window', intent });
    return { ops: [intentInsert(intent, now)], events: [event] };
  }

  // ---- coalescing ----

  function join(intent: IntentRecord): void {
    let group = groups.get(intent.groupKey);
    if (!group) {
      const g: Group = { key: intent.groupKey, deviceId: intent.deviceId, channels: intent.channels, members: [], timer: undefined };
      g.timer = clock.setTimeout(() => void track(closeGroup(g)), config.coalesceMs);
      groups.set(g.key, g);
      group = g;
    }
    group.members.push(intent);
  }

  async function closeGroup(group: Group): Promise<void> {
    if (groups.get(group.key) === group) groups.delete(group.key);
    clock.clearTimeout(group.timer);
    if (closed || group.members.length === 0) return;
    const n = fromIntents(group.members, group.members.length > 1 ? `${group.members.length} intents for ${group.deviceId} within ${config.coalesceMs} ms` : null, clock.now());
    const ids = group.members.map((m) => m.id);
    try {
      await hub.record({
        ops: [...notificationInserts(n), assignIntents(ids, n.id)],
        events: [{ type: 'notification.coalesced', at: n.createdAt, instanceId: n.instanceId, deviceId: n.deviceId, details: { id: n.id, intents: ids, count: ids.length, title: n.title } }],
      });
    } catch (err) {
      logger.error({ err, intents: ids.length }, 'could not write a coalesced notification; its intents stay in the outbox for the next start');
      return;
    }
    started(n);
  }

  // ---- delivery ----

  /** Runs the pending deliveries of a committed notification (`announce`: tell listeners it is new). */
  function started(n: NotificationRecord, announce = true): void {
    if (closed) return;
    if (announce) publish({ kind: 'created', at: clock.now(), notification: recordView(n) });
    const summary = summaryOf(n);
    for (const d of n.deliveries) {
      if (d.status !== 'pending') continue;
      if (d.channel === 'webhook') {
        if (!d.target) continue;
        const w: PendingWebhook = { id: n.id, url: d.target, payload: payloadOf(summary, n.intentCount), summary, attempts: d.attempts, nextAttemptAt: d.nextAttemptAt ?? clock.now(), expiresAt: d.expiresAt };
        webhooks.set(n.id, w);
        if (inFlight.size < maxWebhooks) void track(attempt(w));
        else scheduleWebhooks();
      } else {
        void track(playLocal(n, summary, d));
      }
    }
  }

  async function mark(summary: NotificationSummary, channel: Channel, patch: DeliveryPatch, eventType: string | null, from?: DeliveryStatus[]): Promise<void> {
    const events: EventDraft[] = eventType
      ? [
          {
            type: eventType,
            at: clock.now(),
            instanceId: summary.instance,
            deviceId: summary.device,
            details: { id: summary.id, channel, attempts: patch.attempts, error: patch.lastError ?? null, response_status: patch.responseStatus ?? null },
          },
        ]
      : [];
    try {
      await hub.record({ ops: [updateDelivery(summary.id, channel, patch, from)], events });
    } catch (err) {
      if (closed) logger.debug({ err, notification: summary.id, channel }, 'delivery outcome not recorded: stopping');
      else logger.error({ err, notification: summary.id, channel }, 'could not record a delivery outcome');
      return;
    }
    if (patch.status || eventType === null) {
      publish({
        kind: 'delivery',
        at: clock.now(),
        notification: summary,
        channel,
        status: patch.status ?? 'pending',
        attempts: patch.attempts ?? 0,
        error: patch.lastError ?? null,
      });
    }
  }

  async function playLocal(n: NotificationRecord, summary: NotificationSummary, d: DeliveryRecord): Promise<void> {
    const play = d.channel === 'speech' ? () => deps.speech.speak(n.message || n.title, d.target) : () => deps.sound.play(d.target ?? deps.defaultSound ?? '');
    const outcome = await audio.enqueue(d.expiresAt, play);
    // Stopped midway (the server is stopping): left pending, so the next start expires it.
    if (closed) return;
    const at = clock.now();
    if (outcome.kind === 'played') {
      await mark(summary, d.channel, { status: 'delivered', attempts: 1, lastAttemptAt: at, deliveredAt: at }, 'notification.delivered');
    } else if (outcome.kind === 'failed') {
      await mark(summary, d.channel, { status: 'failed', attempts: 1, lastAttemptAt: at, lastError: outcome.error }, 'notification.failed');
    } else if (outcome.kind === 'expired') {
      await mark(summary, d.channel, { status: 'expired', lastError: 'waited past its deadline; a stale notification is not played' }, 'notification.expired');
    }
    // cancelled: the server is stopping; the next start expires it.
  }

  function scheduleWebhooks(): void {
    clock.clearTimeout(webhookTimer);
    webhookTimer = undefined;
    if (closed) return;
    let next = Infinity;
    for (const w of webhooks.values()) if (!inFlight.has(w.id)) next = Math.min(next, w.nextAttemptAt);
    if (next === Infinity || inFlight.size >= maxWebhooks) return;
    webhookTimer = clock.setTimeout(runDueWebhooks, next - clock.now());
  }

  function runDueWebhooks(): void {
    webhookTimer = undefined;
    const now = clock.now();
    const due = [...webhooks.values()].filter((w) => !inFlight.has(w.id) && w.nextAttemptAt <= now).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt);
    for (const w of due) {
      if (inFlight.size >= maxWebhooks) break;
      void track(attempt(w));
    }
    scheduleWebhooks();
  }

  async function attempt(w: PendingWebhook): Promise<void> {
    if (inFlight.has(w.id) || closed) return;
    inFlight.add(w.id);
    try {
      const outcome = await postWebhook(w.url, w.payload, { timeoutMs: config.webhook.timeoutMs, clock });
      const at = clock.now();
      const attempts = w.attempts + 1;
      if (outcome.kind === 'delivered') {
        webhooks.delete(w.id);
        // The receiver is up: whatever else waits for it goes now rather than at its backoff.
        for (const other of webhooks.values()) if (other.url === w.url && other.nextAttemptAt > at) other.nextAttemptAt = at;
        await mark(
          w.summary,
          'webhook',
          { status: 'delivered', attempts, lastAttemptAt: at, deliveredAt: at, nextAttemptAt: null, responseStatus: outcome.status, responseBody: outcome.body, lastError: null },
          'notification.delivered',
        );
      } else if (outcome.kind === 'rejected') {
        webhooks.delete(w.id);
        await mark(
          w.summary,
          'webhook',
          { status: 'failed', attempts, lastAttemptAt: at, nextAttemptAt: null, responseStatus: outcome.status, responseBody: outcome.body, lastError: `rejected with HTTP ${outcome.status}` },
          'notification.failed',
        );
      } else {
        const next = at + backoffMs(attempts, config.webhook.backoffInitialMs, config.webhook.backoffMaxMs);
        if (next > w.expiresAt) {
          webhooks.delete(w.id);
          await mark(
            w.summary,
            'webhook',
            { status: 'failed', attempts, lastAttemptAt: at, nextAttemptAt: null, responseStatus: outcome.status, lastError: `gave up after ${attempts} attempts: ${outcome.error}` },
            'notification.failed',
          );
        } else {
          w.attempts = attempts;
          w.nextAttemptAt = next;
          await mark(w.summary, 'webhook', { attempts, lastAttemptAt: at, nextAttemptAt: next, responseStatus: outcome.status, lastError: outcome.error }, null);
        }
      }
    } finally {
      inFlight.delete(w.id);
      scheduleWebhooks();
    }
  }

  // ---- start-up recovery ----

  async function recover(): Promise<{ expiredLocal: number; webhooks: number; intents: number }> {
    const pending = await loadPendingDeliveries(deps.db);
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
      webhooks.set(n.id, {
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
      const g: Group = { key, deviceId: members[0]!.deviceId, channels: members[0]!.channels, members, timer: undefined };
      await closeGroup(g);
    }
    scheduleWebhooks();
    return { expiredLocal: local.length, webhooks: hooks, intents: open.length };
  }

  hub.addEmitPlanner(plan);
  const unsubscribe = hub.onCommit((notice) => {
    if (notice.emitted.length === 0) return;
    for (const e of notice.emitted) {
      const p = planned.get(e);
      if (!p) continue;
      planned.delete(e);
      if (p.kind === 'now') started(p.notification);
      else join(p.intent);
    }
  });
  const recovered = await recover();
  if (recovered.expiredLocal + recovered.webhooks + recovered.intents > 0) logger.info(recovered, 'notification outbox recovered');

  // ---- the API behind the HTTP routes ----

  async function sendRecord(n: NotificationRecord, event: EventDraft): Promise<NotificationView> {
    await hub.record({ ops: notificationInserts(n), events: [event] });
    started(n);
    return recordView(n);
  }

  return {
    recovered,

    /** POST /api/notify: routed like an intent (mode included) unless urgent; never coalesced. */
    async send(req: { message: string; title?: string; device?: string; instance?: string; urgency?: Urgency; channels?: Channel[] }): Promise<NotificationView> {
      const facts = req.instance ? await factsOf(req.instance) : null;
      if (req.instance && !facts) throw new NotifyRequestError('not_found', `no instance ${req.instance}`, 'instance');
      const deviceId = req.device ?? facts?.deviceId ?? deps.localDevice;
      const found = deviceFor(deviceId);
      if (req.device && found.note) throw new NotifyRequestError('invalid', `no device ${req.device}`, 'device');
      const urgency = req.urgency ?? 'normal';
      const r = route({ event: 'notify', urgency, device: found.device, deviceId, mode: deps.mode.current(), only: req.channels }, policy);
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
        deliveries: r.channels.map((c) => delivery(c, targetOf(c, found.device, voice, sound), now, now)),
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
      if (!s.available) throw new NotifyRequestError('unavailable', s.problem ?? 'no speech engine');
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
        deliveries: [delivery('speech', req.voice ?? null, now, now)],
      };
      return sendRecord(n, { type: 'notification.requested', at: now, deviceId: n.deviceId, details: { id: n.id, channels: ['speech'], voice: n.voice } });
    },

    /** POST /api/notify/sound: plays a sound on this machine now, whatever the mode. */
    async playSound(req: { sound?: string }): Promise<NotificationView> {
      const s = deps.sound.status();
      if (!s.available) throw new NotifyRequestError('unavailable', s.problem ?? 'no sound player');
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
        deliveries: [delivery('sound', name, now, now)],
      };
      return sendRecord(n, { type: 'notification.requested', at: now, deviceId: n.deviceId, details: { id: n.id, channels: ['sound'], sound: name } });
    },

    /** POST /api/notifications/{id}/retry: failed or expired deliveries go again. */
    async retry(id: string): Promise<NotificationView> {
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
        const fresh = delivery(channel, target, now, now);
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
      started(record, false);
      return (await getNotification(deps.db, id)) ?? recordView(record);
    },

    list: (f: NotificationFilter) => listNotifications(deps.db, f),
    get: (id: string) => getNotification(deps.db, id),

    /** Hears of every notification created and every delivery outcome, after commit. */
    onUpdate(listener: NotificationListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** What GET /health reports. */
    status() {
      return {
        speech: deps.speech.status(),
        sound: deps.sound.status(),
        voices: deps.voicePool?.current() ?? null,
        mode: deps.mode.current(),
        coalesce_ms: config.coalesceMs,
        waiting_intents: [...groups.values()].reduce((n, g) => n + g.members.length, 0),
        audio_queue: audio.size(),
        webhooks: { pending: webhooks.size, in_flight: inFlight.size },
      };
    },

    /** Resolves when the hub has committed what timers changed and nothing is being delivered or recorded (tests). */
    async settled(): Promise<void> {
      for (;;) {
        await hub.flush();
        if (work.size === 0) return;
        await Promise.allSettled([...work]);
      }
    },

    /** Stops timers and playback; open windows and pending webhooks stay in the outbox for the next start. */
    close(): void {
      closed = true;
      unsubscribe();
      for (const g of groups.values()) clock.clearTimeout(g.timer);
      groups.clear();
      clock.clearTimeout(webhookTimer);
      audio.close();
      deps.speech.close();
    },
  };
}

export type Notifications = Awaited<ReturnType<typeof createNotifications>>;
