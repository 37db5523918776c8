// The notification outbox as SQLite holds it: intents (notification_intents), notifications and
// their per-channel deliveries. Writes are writer ops, so they join the transaction that caused
// them; reads serve start-up recovery and the history API. Records and views are the
// notifications' own (src/notifications/outbox.ts); this file speaks rows.
import type { Database, SqlValue } from '../database.js';
import type { WriteOp } from '../writer.js';

export type IntentRow = {
  id: string;
  at: string;
  intent: string;
  instance_id: string | null;
  device_id: string | null;
  group_key: string;
  /** JSON: the channels routing chose. */
  channels: string;
  urgency: string;
  name: string | null;
  project: string | null;
  sentence: string;
  detail: string | null;
  voice: string | null;
  sound: string | null;
  notification_id: string | null;
  created_at: string;
};

export type NotificationRow = {
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
};

export type DeliveryRow = {
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
};

export interface PendingDelivery {
  notification: NotificationRow;
  delivery: DeliveryRow;
}

export function intentInsertOp(row: IntentRow): WriteOp {
  return { kind: 'insert', table: 'notification_intents', row };
}

export function notificationInsertOps(notification: NotificationRow, deliveries: readonly DeliveryRow[]): WriteOp[] {
  return [
    { kind: 'insert', table: 'notifications', row: { ...notification } },
    ...deliveries.map((row): WriteOp => ({ kind: 'insert', table: 'notification_deliveries', row: { ...row } })),
  ];
}

/** Ties intents that waited in the coalescing window to the notification made of them. */
export function assignIntentsOp(ids: readonly string[], notificationId: string): WriteOp {
  return { kind: 'sql', sql: `UPDATE notification_intents SET notification_id = ? WHERE id IN (${ids.map(() => '?').join(', ')})`, params: [notificationId, ...ids] };
}

/** Sets `columns` of one delivery, only while its status is one of `from` (so an outcome is recorded once). */
export function updateDeliveryOp(notificationId: string, channel: string, columns: readonly (readonly [string, SqlValue])[], from: readonly string[]): WriteOp {
  return {
    kind: 'sql',
    sql: `UPDATE notification_deliveries SET ${columns.map(([c]) => `${c} = ?`).join(', ')} WHERE notification_id = ? AND channel = ? AND status IN (${from.map(() => '?').join(', ')})`,
    params: [...columns.map(([, v]) => v), notificationId, channel, ...from],
  };
}

/** Intents still waiting in a coalescing window, oldest first. */
export function openIntents(db: Database): Promise<IntentRow[]> {
  return db.all<IntentRow>('SELECT * FROM notification_intents WHERE notification_id IS NULL ORDER BY at, id');
}

/** Which of these intent ids are already held (at most a frame's worth: 200). */
export async function heldIntentIds(db: Database, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.all<{ id: string }>(`SELECT id FROM notification_intents WHERE id IN (${ids.map(() => '?').join(', ')})`, ids);
  return new Set(rows.map((r) => r.id));
}

/** Deliveries still pending, with their notifications, oldest first. */
export async function pendingDeliveries(db: Database): Promise<PendingDelivery[]> {
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

export interface NotificationPage {
  limit: number;
  before?: string;
  device?: string;
  /** Notifications of this instance or made of one of its intents. */
  instance?: string;
  /** Notifications with a delivery on this channel. */
  channel?: string;
}

/** Notifications newest first. */
export function notificationsPage(db: Database, f: NotificationPage): Promise<NotificationRow[]> {
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
  params.push(f.limit);
  return db.all<NotificationRow>(`SELECT n.* FROM notifications n ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY n.created_at DESC, n.rowid DESC LIMIT ?`, params);
}

/** The deliveries of some notifications (at most a few hundred), by channel. */
export function deliveriesOf(db: Database, ids: readonly string[]): Promise<DeliveryRow[]> {
  return db.all<DeliveryRow>(`SELECT * FROM notification_deliveries WHERE notification_id IN (${ids.map(() => '?').join(', ')}) ORDER BY channel`, ids);
}

/** One notification with its deliveries and intents, or null. */
export async function notificationById(db: Database, id: string): Promise<{ notification: NotificationRow; deliveries: DeliveryRow[]; intents: IntentRow[] } | null> {
  const notification = await db.get<NotificationRow>('SELECT * FROM notifications WHERE id = ?', [id]);
  if (!notification) return null;
  const deliveries = await db.all<DeliveryRow>('SELECT * FROM notification_deliveries WHERE notification_id = ? ORDER BY channel', [id]);
  const intents = await db.all<IntentRow>('SELECT * FROM notification_intents WHERE notification_id = ? ORDER BY at, id', [id]);
  return { notification, deliveries, intents };
}
