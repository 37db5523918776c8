// The notification outbox: intents, notifications and their per-channel deliveries as records,
// mapped to the rows src/db/queries/notifications.ts writes (as writer ops, so they join the
// transaction that caused them) and reads (start-up recovery, the history API and its views).
import type { Database, SqlValue } from '../db/database.js';
import {
  deliveriesOf,
  intentInsertOp,
  notificationById,
  notificationInsertOps,
  notificationsPage,
  openIntents,
  updateDeliveryOp,
  type DeliveryRow,
  type IntentRow,
  type NotificationRow,
} from '../db/queries/notifications.js';
import type { WriteOp } from '../db/writer.js';
import type { DeliveryStatus, NotificationStatus } from '../protocol/notifications.js';
import type { Channel, Urgency } from './routing.js';
import { iso, isoOrNull } from '../lib/clock.js';

/** A notify intent as recorded: routed, worded, waiting for (or part of) a notification. */
export interface IntentRecord {
  id: string;
  at: number;
  intent: string;
  instanceId: string | null;
  deviceId: string | null;
  groupKey: string;
  channels: Channel[];
  urgency: Urgency;
  name: string | null;
  project: string | null;
  sentence: string;
  detail: string | null;
  voice: string | null;
  sound: string | null;
  notificationId: string | null;
}

export interface DeliveryRecord {
  channel: Channel;
  target: string | null;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number | null;
  expiresAt: number;
  lastError: string | null;
}

export interface NotificationRecord {
  id: string;
  createdAt: number;
  source: 'intent' | 'api';
  event: string;
  deviceId: string | null;
  instanceId: string | null;
  title: string;
  message: string;
  urgency: Urgency;
  voice: string | null;
  sound: string | null;
  intentCount: number;
  reason: string | null;
  deliveries: DeliveryRecord[];
}

export function intentInsert(i: IntentRecord, createdAt: number): WriteOp {
  return intentInsertOp({
    id: i.id,
    at: iso(i.at),
    intent: i.intent,
    instance_id: i.instanceId,
    device_id: i.deviceId,
    group_key: i.groupKey,
    channels: JSON.stringify(i.channels),
    urgency: i.urgency,
    name: i.name,
    project: i.project,
    sentence: i.sentence,
    detail: i.detail,
    voice: i.voice,
    sound: i.sound,
    notification_id: i.notificationId,
    created_at: iso(createdAt),
  });
}

/** A notification as its rows: what is inserted, and what the history API shows before any outcome. */
export function notificationRows(n: NotificationRecord): { notification: NotificationRow; deliveries: DeliveryRow[] } {
  return {
    notification: {
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
    deliveries: n.deliveries.map((d) => ({
      notification_id: n.id,
      channel: d.channel,
      target: d.target,
      status: d.status,
      attempts: d.attempts,
      next_attempt_at: isoOrNull(d.nextAttemptAt),
      expires_at: iso(d.expiresAt),
      last_attempt_at: null,
      delivered_at: null,
      last_error: d.lastError,
      response_status: null,
      response_body: null,
    })),
  };
}

export function notificationInserts(n: NotificationRecord): WriteOp[] {
  const rows = notificationRows(n);
  return notificationInsertOps(rows.notification, rows.deliveries);
}

export interface DeliveryPatch {
  status?: DeliveryStatus;
  attempts?: number;
  nextAttemptAt?: number | null;
  expiresAt?: number;
  lastAttemptAt?: number;
  deliveredAt?: number;
  lastError?: string | null;
  responseStatus?: number | null;
  responseBody?: string | null;
  target?: string | null;
}

const PATCH_COLUMNS: Record<keyof DeliveryPatch, string> = {
  status: 'status',
  attempts: 'attempts',
  nextAttemptAt: 'next_attempt_at',
  expiresAt: 'expires_at',
  lastAttemptAt: 'last_attempt_at',
  deliveredAt: 'delivered_at',
  lastError: 'last_error',
  responseStatus: 'response_status',
  responseBody: 'response_body',
  target: 'target',
};

const TIME_FIELDS = new Set<keyof DeliveryPatch>(['nextAttemptAt', 'expiresAt', 'lastAttemptAt', 'deliveredAt']);

/** Updates one delivery, only while it is in one of `from` (so an outcome is recorded once). */
export function updateDelivery(notificationId: string, channel: Channel, patch: DeliveryPatch, from: readonly DeliveryStatus[] = ['pending']): WriteOp {
  const columns: [string, SqlValue][] = [];
  for (const [k, v] of Object.entries(patch) as [keyof DeliveryPatch, DeliveryPatch[keyof DeliveryPatch]][]) {
    if (v === undefined) continue;
    columns.push([PATCH_COLUMNS[k], TIME_FIELDS.has(k) ? isoOrNull(v as number | null) : (v as SqlValue)]);
  }
  return updateDeliveryOp(notificationId, channel, columns, from);
}

// ---- reads ----

function parseChannels(json: string): Channel[] {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? v.filter((c): c is Channel => c === 'speech' || c === 'sound' || c === 'webhook') : [];
  } catch {
    return [];
  }
}

/** Intents still waiting in a coalescing window (a crash or stop came before it closed). */
export async function loadOpenIntents(db: Database): Promise<IntentRecord[]> {
  const rows = await openIntents(db);
  return rows.map((r) => ({
    id: r.id,
    at: Date.parse(r.at),
    intent: r.intent,
    instanceId: r.instance_id,
    deviceId: r.device_id,
    groupKey: r.group_key,
    channels: parseChannels(r.channels),
    urgency: r.urgency === 'urgent' ? 'urgent' : 'normal',
    name: r.name,
    project: r.project,
    sentence: r.sentence,
    detail: r.detail,
    voice: r.voice,
    sound: r.sound,
    notificationId: null,
  }));
}

/** The status of a notification as a whole, from its deliveries. */
export function overallStatus(deliveries: readonly { status: string }[]): NotificationStatus {
  if (deliveries.length === 0) return 'suppressed';
  const s = deliveries.map((d) => d.status);
  if (s.includes('pending')) return 'pending';
  if (s.every((x) => x === 'delivered')) return 'delivered';
  if (s.includes('delivered')) return 'partial';
  if (s.every((x) => x === 'expired')) return 'expired';
  if (s.every((x) => x === 'superseded')) return 'superseded';
  return 'failed';
}

export function notificationView(n: NotificationRow, deliveries: readonly DeliveryRow[], intents?: readonly IntentRow[]) {
  return {
    id: n.id,
    created_at: n.created_at,
    source: n.source,
    event: n.event,
    device: n.device_id,
    instance: n.instance_id,
    title: n.title,
    message: n.message,
    urgency: n.urgency,
    voice: n.voice,
    sound: n.sound,
    intent_count: n.intent_count,
    reason: n.reason,
    status: overallStatus(deliveries),
    attempts: deliveries.reduce((sum, d) => sum + d.attempts, 0),
    deliveries: deliveries.map((d) => ({
      channel: d.channel,
      status: d.status,
      target: d.target,
      attempts: d.attempts,
      next_attempt_at: d.status === 'pending' ? d.next_attempt_at : null,
      expires_at: d.expires_at,
      last_attempt_at: d.last_attempt_at,
      delivered_at: d.delivered_at,
      last_error: d.last_error,
      response_status: d.response_status,
      response_body: d.response_body,
    })),
    ...(intents
      ? {
          intents: intents.map((i) => ({ id: i.id, at: i.at, intent: i.intent, instance: i.instance_id, name: i.name, project: i.project, sentence: i.sentence })),
        }
      : {}),
  };
}

export type NotificationView = ReturnType<typeof notificationView>;

export interface NotificationFilter {
  limit: number;
  before?: string;
  device?: string;
  instance?: string;
  status?: NotificationStatus;
  channel?: Channel;
}

export async function listNotifications(db: Database, f: NotificationFilter): Promise<NotificationView[]> {
  const status = f.status;
  // Status is derived from the deliveries, so filter after reading (bounded by a larger window).
  const rows = await notificationsPage(db, { before: f.before, device: f.device, instance: f.instance, channel: f.channel, limit: status ? Math.min(f.limit * 20, 20_000) : f.limit });
  if (rows.length === 0) return [];
  const deliveries = await deliveriesOf(db, rows.map((r) => r.id));
  const byId = new Map<string, DeliveryRow[]>();
  for (const d of deliveries) byId.set(d.notification_id, [...(byId.get(d.notification_id) ?? []), d]);
  const views = rows.map((r) => notificationView(r, byId.get(r.id) ?? []));
  return (status ? views.filter((v) => v.status === status) : views).slice(0, f.limit);
}

export async function getNotification(db: Database, id: string): Promise<NotificationView | null> {
  const found = await notificationById(db, id);
  return found ? notificationView(found.notification, found.deliveries, found.intents) : null;
}
