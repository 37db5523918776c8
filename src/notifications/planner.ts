// The notification planner: turns an emitted `notify` intent into rows for the transaction
// of the transition that emitted it. It reads the instance (from the emitting actor's
// snapshot), its origin device and the mode, routes, words the intent, and builds
// notifications with one delivery row per channel.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { NotificationsConfig } from '../config/config.js';
import type { Database } from '../db/database.js';
import { getInstance } from '../db/queries/instances.js';
import { displayName, INSTANCE_INTENTS, instanceContextSchema } from '../machines/instance-context.js';
import type { Device } from '../actors/instances/devices.js';
import { lastPart } from '../lib/project-name.js';
import type { EventDraft } from '../db/queries/events.js';
import type { InstanceActors } from '../actors/instances/instance-kind.js';
import type { ModeSource } from '../actors/mode-gate/mode-source.js';
import { route, URGENT_INTENTS, type Channel, type RoutingPolicy, type Urgency } from './routing.js';
import { compose, sentenceOf } from './text.js';
import type { DeliveryRecord, IntentRecord, NotificationRecord } from './outbox.js';
import type { SoundChannel } from './channels/sound.js';
import type { SpeechChannel } from './channels/speech.js';

export const INTENT_NAMES = [...INSTANCE_INTENTS, 'mode_timer_ended'] as const;

/** What an actor may emit to ask for a notification. Intents of no instance (the mode's) go to the local device. */
export const notifyIntentSchema = z.object({
  type: z.literal('notify'),
  intent: z.enum(INTENT_NAMES),
  instanceId: z.string().min(1).nullable().optional(),
  at: z.number().finite(),
  tool: z.string().nullable().optional(),
  input: z.string().nullable().optional(),
  message: z.string().nullable().optional(),
  /** mode_timer_ended: the mode now, and the one whose timer ended. */
  mode: z.string().nullable().optional(),
  previous: z.string().nullable().optional(),
});
export type NotifyIntentEvent = z.infer<typeof notifyIntentSchema>;

/**
 * What a machine reporting to a hub adds to its `notification.routed` event (`details.forward`)
 * so that the hub routes the intent's webhooks once for every machine (hub.notifications).
 * The intent's id is kept: an intent the hub already holds is never routed twice.
 */
export const forwardedIntentSchema = z.object({
  intent_id: z.string().min(1).max(200),
  intent: z.enum(INSTANCE_INTENTS),
  instance: z.string().min(1).max(500),
  at: z.number().finite(),
  tool: z.string().max(1000).nullable(),
  input: z.string().max(20_000).nullable(),
  message: z.string().max(100_000).nullable(),
  name: z.string().max(500).nullable(),
  project: z.string().max(500).nullable(),
  device: z.string().max(500).nullable(),
  /** A permission request's one-time links on the machine (paths of its API), which the hub relays. */
  links: z
    .object({
      approve: z.string().regex(/^\/api\/approvals\/[A-Za-z0-9._:%-]{1,400}\/approve\?t=[^\s#&]{10,2000}$/),
      deny: z.string().regex(/^\/api\/approvals\/[A-Za-z0-9._:%-]{1,400}\/deny\?t=[^\s#&]{10,2000}$/),
    })
    .nullable()
    .optional(),
});
export type ForwardedIntent = z.infer<typeof forwardedIntentSchema>;

const instanceFactsSchema = instanceContextSchema.pick({
  instanceId: true,
  agentType: true,
  number: true,
  tabName: true,
  origin: true,
  profile: true,
  workingDir: true,
  project: true,
});

export interface InstanceFacts {
  name: string;
  deviceId: string;
  voice: string | null;
  sound: string | null;
  project: string | null;
}

export interface PlannerDeps {
  config: NotificationsConfig;
  localDevice: string;
  /** The live instances (an intent's facts come from memory when its instance is live). */
  instances: Pick<InstanceActors, 'snapshot'>;
  db: Database;
  devices: { get(id: string): Device | undefined };
  mode: ModeSource;
  speech: SpeechChannel;
  sound: SoundChannel;
  defaultSound: string | null;
  /** Devices the person used lately (device-activity.ts): where intents of no instance go too. */
  recentDevices?: () => readonly string[];
  /** On a machine reporting to a hub: true while the hub routes this machine's webhooks (hub.notifications). */
  webhooksToHub?: () => boolean;
  /** The one-time links (paths of this API) of the permission request an instance waits on, for its hub to relay. */
  approvalLinks?: (instanceId: string) => { approve: string; deny: string } | null;
  /** On a hub: a machine's intent that arrives later than this after it happened is not sent (hub.notify_max_age_seconds). */
  forwardedMaxAgeMs?: number;
}

const cut = (text: string | null | undefined, max: number): string | null => (text == null ? null : text.slice(0, max));

/** A change to the channels routing chose, with the words that say why. */
interface Narrowing {
  keep: (c: Channel) => boolean;
  note: string;
}

/** A routed intent: its row (with no channels when routing left none: suppressed) and the decision event. */
export interface RoutedIntent {
  intent: IntentRecord;
  event: EventDraft;
  reason: string;
}

export function createPlanner(deps: PlannerDeps) {
  const { config } = deps;
  const policy: RoutingPolicy = {
    localDevice: deps.localDevice,
    modeChannels: config.modeChannels,
    focusMutesSpeech: config.focusMutesSpeech,
    deviceChannels: config.devices,
  };

  function factsOfSnapshot(instanceId: string, snapshot: { context: unknown } | undefined): InstanceFacts | null {
    const parsed = instanceFactsSchema.safeParse(snapshot?.context);
    if (!parsed.success || parsed.data.instanceId !== instanceId) return null;
    const c = parsed.data;
    return { name: displayName(c), deviceId: c.origin.deviceId, voice: c.profile.voice, sound: c.profile.sound, project: c.project ?? lastPart(c.workingDir) };
  }

  async function factsOf(instanceId: string): Promise<InstanceFacts | null> {
    const live = factsOfSnapshot(instanceId, deps.instances.snapshot(instanceId));
    if (live) return live;
    const row = await getInstance(deps.db, instanceId);
    if (!row) return null;
    return { name: row.display_name, deviceId: row.device_id, voice: row.tts_voice, sound: row.notification_sound, project: row.project ?? lastPart(row.working_dir) };
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

  /** Routes and words one intent for one device; the caller decides what to write (see notifications.ts). */
  function routeFor(n: NotifyIntentEvent, facts: InstanceFacts | null, originId: string | null, narrow?: Narrowing, id: string = randomUUID()): RoutedIntent {
    const instanceId = n.instanceId ?? null;
    const { device, note } = deviceFor(originId);
    const urgency: Urgency = URGENT_INTENTS.has(n.intent) ? 'urgent' : 'normal';
    const mode = deps.mode.current();
    const r = route({ event: n.intent, urgency, device, deviceId: originId, mode }, policy);
    if (narrow) r.channels = r.channels.filter(narrow.keep);
    const reason = [note, r.reason, narrow?.note].filter(Boolean).join('; ');
    const intent: IntentRecord = {
      id,
      at: n.at,
      intent: n.intent,
      instanceId,
      deviceId: r.deviceId,
      groupKey: `${r.deviceId ?? ''}|${r.channels.join(',')}`,
      channels: r.channels,
      urgency,
      name: facts?.name ?? null,
      project: facts?.project ?? null,
      sentence: sentenceOf({ intent: n.intent, name: facts?.name ?? null, project: facts?.project ?? null, tool: n.tool ?? null, input: n.input, mode: n.mode, endedMode: n.previous }),
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
    return { intent, event, reason };
  }

  /**
   * Routes and words one intent: to its instance's origin device, or, for an intent of no
   * instance (a mode timer ending), to this machine and every device the person used lately.
   */
  function routeIntent(n: NotifyIntentEvent, source: { context: unknown } | undefined): RoutedIntent[] {
    const instanceId = n.instanceId ?? null;
    if (instanceId) {
      const facts = factsOfSnapshot(instanceId, source);
      if (!deps.webhooksToHub?.()) return [routeFor(n, facts, facts?.deviceId ?? null)];
      // The hub routes the webhooks (once, for every machine); speech and sound play here.
      const routed = routeFor(n, facts, facts?.deviceId ?? null, { keep: (c) => c !== 'webhook', note: 'webhooks go through the hub (hub.notifications)' });
      const forward: ForwardedIntent = {
        intent_id: routed.intent.id,
        intent: routed.intent.intent as ForwardedIntent['intent'],
        instance: instanceId,
        at: n.at,
        tool: n.tool ?? null,
        input: cut(n.input, 2000),
        message: cut(n.message, 4000),
        name: facts?.name ?? null,
        project: facts?.project ?? null,
        device: facts?.deviceId ?? null,
        links: n.intent === 'needs_permission' ? (deps.approvalLinks?.(instanceId) ?? null) : null,
      };
      routed.event.details = { ...(routed.event.details as object), forward };
      return [routed];
    }
    const targets = new Set([deps.localDevice, ...(deps.recentDevices?.() ?? [])]);
    return [...targets].map((id) => routeFor(n, null, id));
  }

  /**
   * On a hub: routes an intent another machine forwarded, as if its agent ran here, keeping
   * only webhooks (speech and sound played on that machine). One that arrives too late (a hub
   * away, a machine that caught up) is recorded with no channel.
   */
  function routeForwarded(f: ForwardedIntent, machine: { id: string; name: string }, now: number): RoutedIntent {
    const n: NotifyIntentEvent = { type: 'notify', intent: f.intent, instanceId: f.instance, at: f.at, tool: f.tool, input: f.input, message: f.message };
    const facts: InstanceFacts = { name: f.name ?? 'an agent', deviceId: f.device ?? '', voice: null, sound: null, project: f.project };
    const lateMs = now - f.at;
    const maxAgeMs = deps.forwardedMaxAgeMs ?? Infinity;
    const narrow: Narrowing =
      lateMs > maxAgeMs
        ? { keep: () => false, note: `from machine ${machine.name}, ${Math.round(lateMs / 1000)} s after it happened (more than hub.notify_max_age_seconds, ${Math.round(maxAgeMs / 1000)}): recorded, not sent` }
        : { keep: (c) => c === 'webhook', note: `from machine ${machine.name}: speech and sound play there` };
    const routed = routeFor(n, facts, f.device, narrow, f.intent_id);
    routed.event.details = { ...(routed.event.details as object), machine: { id: machine.id, name: machine.name } };
    return routed;
  }

  return { policy, factsOf, deviceFor, delivery, targetOf, fromIntents, routeIntent, routeForwarded };
}

export type Planner = ReturnType<typeof createPlanner>;
