// Delivery of committed notifications: speech and sound through the one audio queue, webhooks
// with exponential backoff timers on the injected clock. Every outcome is committed through
// the hub (a 2xx marks a webhook delivered once) and then told to listeners; pending webhooks
// found at start are handed back in to be scheduled again.
import type { Logger } from 'pino';
import type { NotificationsConfig } from '../config/config.js';
import { createAudioQueue } from './channels/audio-queue.js';
import { iso, type Clock, type TimerHandle } from '../lib/clock.js';
import type { EventDraft } from '../db/queries/events.js';
import type { Hub } from '../actors/runtime/root-machines.js';
import type { Channel, Urgency } from './routing.js';
import type { DeliveryStatus } from '../protocol/notifications.js';
import { notificationRows, notificationView, updateDelivery, type DeliveryPatch, type DeliveryRecord, type NotificationRecord, type NotificationView } from './outbox.js';
import type { SoundChannel } from './channels/sound.js';
import type { SpeechChannel } from './channels/speech.js';
import { backoffMs, postWebhook, type WebhookPayload } from './channels/webhook.js';

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

export interface PendingWebhook {
  id: string;
  url: string;
  payload: WebhookPayload;
  summary: NotificationSummary;
  attempts: number;
  nextAttemptAt: number;
  expiresAt: number;
}

export function summaryOf(n: NotificationRecord): NotificationSummary {
  return { id: n.id, created_at: iso(n.createdAt), device: n.deviceId, instance: n.instanceId, event: n.event, title: n.title, message: n.message, urgency: n.urgency };
}

export function payloadOf(n: NotificationSummary, count: number): WebhookPayload {
  return { id: n.id, title: n.title, message: n.message, urgency: n.urgency, instance: n.instance, device: n.device, event: n.event, at: n.created_at, count };
}

/** A record as the history API shows it. */
export function recordView(n: NotificationRecord): NotificationView {
  const rows = notificationRows(n);
  return notificationView(rows.notification, rows.deliveries);
}

export interface DeliveryDeps {
  config: NotificationsConfig;
  hub: Pick<Hub, 'record'>;
  clock: Clock;
  logger: Logger;
  speech: SpeechChannel;
  sound: SoundChannel;
  defaultSound: string | null;
  /** Webhook attempts running at once. */
  maxConcurrentWebhooks?: number;
  /** True when what a notification announces is over (the instance no longer waits): its channels drop it. */
  superseded?: (n: NotificationSummary) => boolean;
  /** One-time approve/deny links for a notification of a permission request token-api holds (the webhook carries them). */
  actionsFor?: (n: NotificationSummary) => WebhookPayload['actions'] | null;
}

const SUPERSEDED = 'the instance no longer waits for the person: the request was answered before this channel delivered';

export function createDelivery(deps: DeliveryDeps) {
  const { config, hub, clock, logger } = deps;
  const audio = createAudioQueue(clock);
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

  /** Runs the pending deliveries of a committed notification (`announce`: tell listeners it is new). */
  function started(n: NotificationRecord, announce = true): void {
    if (closed) return;
    if (announce) publish({ kind: 'created', at: clock.now(), notification: recordView(n) });
    const summary = summaryOf(n);
    for (const d of n.deliveries) {
      if (d.status !== 'pending') continue;
      if (d.channel === 'webhook') {
        if (!d.target) continue;
        const actions = deps.actionsFor?.(summary) ?? null;
        const payload = actions ? { ...payloadOf(summary, n.intentCount), actions } : payloadOf(summary, n.intentCount);
        const w: PendingWebhook = { id: n.id, url: d.target, payload, summary, attempts: d.attempts, nextAttemptAt: d.nextAttemptAt ?? clock.now(), expiresAt: d.expiresAt };
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
    const outcome = await audio.enqueue(d.expiresAt, play, () => deps.superseded?.(summary) ?? false);
    // Stopped midway (the server is stopping): left pending, so the next start expires it.
    if (closed) return;
    const at = clock.now();
    if (outcome.kind === 'played') {
      await mark(summary, d.channel, { status: 'delivered', attempts: 1, lastAttemptAt: at, deliveredAt: at }, 'notification.delivered');
    } else if (outcome.kind === 'failed') {
      await mark(summary, d.channel, { status: 'failed', attempts: 1, lastAttemptAt: at, lastError: outcome.error }, 'notification.failed');
    } else if (outcome.kind === 'expired') {
      await mark(summary, d.channel, { status: 'expired', lastError: 'waited past its deadline; a stale notification is not played' }, 'notification.expired');
    } else if (outcome.kind === 'skipped') {
      await mark(summary, d.channel, { status: 'superseded', lastError: SUPERSEDED }, 'notification.superseded');
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
      if (deps.superseded?.(w.summary)) {
        webhooks.delete(w.id);
        await mark(w.summary, 'webhook', { status: 'superseded', nextAttemptAt: null, lastError: SUPERSEDED }, 'notification.superseded');
        return;
      }
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

  return {
    /** Keeps a promise in the set settled() waits for. */
    track,
    /** Runs the pending deliveries of a committed notification. */
    started,
    /** A webhook left pending by the previous run, to be scheduled again. */
    restoreWebhook(w: PendingWebhook): void {
      webhooks.set(w.id, w);
    },
    scheduleWebhooks,
    onUpdate(listener: NotificationListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    status: () => ({ audio_queue: audio.size(), webhooks: { pending: webhooks.size, in_flight: inFlight.size } }),
    /** Resolves when nothing tracked is running. */
    async idle(): Promise<void> {
      while (work.size > 0) await Promise.allSettled([...work]);
    },
    busy: () => work.size > 0,
    close(): void {
      closed = true;
      clock.clearTimeout(webhookTimer);
      audio.close();
    },
  };
}

export type Delivery = ReturnType<typeof createDelivery>;
