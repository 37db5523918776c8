// The notification outbox in SQLite: the rows written for intents, notifications and their
// per-channel deliveries (as writer ops, so they join the transaction that caused them), the
// updates delivery outcomes make, and the reads behind start-up recovery and the history API.
import type { Database, SqlValue } from '../db/database.js';
import type { WriteOp } from '../db/writer.js';
import type { Channel, Urgency } from './routing.js';
import { iso, isoOrNull } from '../lib/clock.js';

/** superseded: dropped before it went out, because what it announced was over (a permission request answered). */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'expired' | 'unavailable' | 'superseded';
export type NotificationStatus = 'pending' | 'delivered' | 'partial' | 'failed' | 'expired' | 'suppressed' | 'superseded';

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
  return {
    kind: 'insert',
    table: 'notification_intents',
    row: {
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
    },
  };
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
  return [
    { kind: 'insert', table: 'notifications', row: { ...rows.notification } },
    ...rows.deliveries.map((row): WriteOp => ({ kind: 'insert', table: 'notification_deliveries', row: { ...row } })),
  ];
}

/** Ties intents that waited in the coalescing window to the notification made of them. */
export function assignIntents(ids: readonly string[], notificationId: string): WriteOp {
  return { kind: 'sql', sql: `UPDATE notification_intents SET notification_id = ? WHERE id IN (${ids.map(() => '?').join(', ')})`, params: [notificationId, ...ids] };
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
  const sets: string[] = [];
  const params: SqlValue[] = [];
  for (const [k, v] of Object.entries(patch) as [keyof DeliveryPatch, DeliveryPatch[keyof DeliveryPatch]][]) {
    if (v === undefined) continue;
    sets.push(`${PATCH_COLUMNS[k]} = ?`);
    params.push(TIME_FIELDS.has(k) ? isoOrNull(v as number | null) : (v as SqlValue));
  }
  return {
    kind: 'sql',
    sql: `UPDATE notification_deliveries SET ${sets.join(', ')} WHERE notification_id = ? AND channel = ? AND status IN (${from.map(() => '?').join(', ')})`,
    params: [...params, notificationId, channel, ...from],
  };
}

// ---- reads ----

interface IntentRow {
  id: string;
  at: string;
  intent: string;
  instance_id: string | null;
  device_id: string | null;
  group_key: string;
  channels: string;
  urgency: string;
  name: string | null;
  project: string | null;
  sentence: string;
  detail: string | null;
  voice: string | null;
  sound: string | null;
  notification_id: string | null;
}

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
  const rows = await db.all<IntentRow>('SELECT * FROM notification_intents WHERE notification_id IS NULL ORDER BY at, id');
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

export interface NotificationRow {
  id: string;
  created_at: string;
  source: string;
  event: string;
  device_id: string | null;
  instance_id: string | null;
  title: string;
  message: string;
  urgency: string;
  voice: string | null;
  sound: string | null;
  intent_count: number;
  reason: string | null;
}

export interface DeliveryRow {
  notification_id: string;
  channel: string;
  target: string | null;
  status: string;
  attempts: number;
  next_attempt_at: string | null;
  expires_at: string;
  last_attempt_at: string | null;
  delivered_at: string | null;
  last_error: string | null;
  response_status: number | null;
  response_body: string | null;
}

export interface PendingDelivery {
  notification: NotificationRow;
  delivery: DeliveryRow;
}

export async function loadPendingDeliveries(db: Database): Promise<PendingDelivery[]> {
  const rows = await db.all<NotificationRow & { d_channel: string; d_target: string | null; d_status: string; d_attempts: number; d_next: string | null; d_expires: string; d_last_error: string | null }>(
    `SELECT n.*, d.channel AS d_channel, d.target AS d_target, d.status AS d_status, d.attempts AS d_attempts,
            d.next_attempt_at AS d_next, d.expires_at AS d_expires, d.last_error AS d_last_error
       FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id
      WHERE d.status = 'pending' ORDER BY n.created_at, n.id`,
  );
  return rows.map((r) => {
    const { d_channel, d_target, d_status, d_attempts, d_next, d_expires, d_last_error, ...notification } = r;
    return {
      notification,
      delivery: {
        notification_id: notification.id,
        channel: d_channel,
        target: d_target,
        status: d_status,
        attempts: d_attempts,
        next_attempt_at: d_next,
        expires_at: d_expires,
        last_attempt_at: null,
        delivered_at: null,
        last_error: d_last_error,
        response_status: null,
        response_body: null,
      },
    };
  });
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
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (f.before) {
    where.push('n.created_at < ?');
    params.push(f.before);
  }
  if (f.device) {
    where.push('n.device_id = ?');
    params.push(f.device);
  }
  if (f.instance) {
    where.push('(n.instance_id = ? OR n.id IN (SELECT notification_id FROM notification_intents WHERE instance_id = ?))');
    params.push(f.instance, f.instance);
  }
  if (f.channel) {
    where.push('n.id IN (SELECT notification_id FROM notification_deliveries WHERE channel = ?)');
    params.push(f.channel);
  }
  const status = f.status;
  // Status is derived from the deliveries, so filter after reading (bounded by a larger window).
  params.push(status ? Math.min(f.limit * 20, 20_000) : f.limit);
  const rows = await db.all<NotificationRow>(`SELECT n.* FROM notifications n ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY n.created_at DESC, n.rowid DESC LIMIT ?`, params);
  if (rows.length === 0) return [];
  const deliveries = await db.all<DeliveryRow>(
    `SELECT * FROM notification_deliveries WHERE notification_id IN (${rows.map(() => '?').join(', ')}) ORDER BY channel`,
    rows.map((r) => r.id),
  );
  const byId = new Map<string, DeliveryRow[]>();
  for (const d of deliveries) byId.set(d.notification_id, [...(byId.get(d.notification_id) ?? []), d]);
  const views = rows.map((r) => notificationView(r, byId.get(r.id) ?? []));
  return (status ? views.filter((v) => v.status === status) : views).slice(0, f.limit);
}

export async function getNotification(db: Database, id: string): Promise<NotificationView | null> {
  const n = await db.get<NotificationRow>('SELECT * FROM notifications WHERE id = ?', [id]);
  if (!n) return null;
  const deliveries = await db.all<DeliveryRow>('SELECT * FROM notification_deliveries WHERE notification_id = ? ORDER BY channel', [id]);
  const intents = await db.all<IntentRow>('SELECT * FROM notification_intents WHERE notification_id = ? ORDER BY at, id', [id]);
  return notificationView(n, deliveries, intents);
}
