// zod schemas for the notification routes: bodies of POST /api/notify, /api/notify/tts and
// /api/notify/sound, the history query and the notification id. Strict: unknown fields are
// a 400 that names them.
import { z } from 'zod';
import { basename } from 'node:path';
import { deviceIdSchema } from '../config/config.js';
import { WHOLE } from '../lib/validation-words.js';
import { idSchema, limitSchema, timestampSchema } from './api.js';

/** A sound name is a plain file name in the sounds directory: no separators, no "..". */
export function isSoundName(name: string): boolean {
  return name.length > 0 && name.length <= 200 && basename(name) === name && !name.includes('\\') && name !== '.' && name !== '..' && !name.startsWith('.');
}

/** superseded: dropped before it went out, because what it announced was over (a permission request answered). */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'expired' | 'unavailable' | 'superseded';
/** A notification's status as a whole, derived from its deliveries (suppressed: it had none). */
export const NOTIFICATION_STATUSES = ['pending', 'delivered', 'partial', 'failed', 'expired', 'suppressed', 'superseded'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

const channelSchema = z.enum(['speech', 'sound', 'webhook']);
const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'text that is not empty')
    .max(max, `at most ${max} characters`);

export const notifyBodySchema = z.strictObject({
  message: text(2000),
  title: text(200).optional(),
  device: deviceIdSchema.optional(),
  instance: idSchema.optional(),
  urgency: z.enum(['normal', 'urgent']).optional(),
  channels: z
    .array(channelSchema)
    .min(1, 'at least one of speech, sound, webhook')
    .max(3)
    .refine((list) => new Set(list).size === list.length, { message: 'names a channel twice; name each at most once', params: WHOLE })
    .optional(),
});

export const ttsBodySchema = z.strictObject({
  message: text(2000),
  voice: text(200).optional(),
});

export const soundBodySchema = z.strictObject({
  sound: z.string().refine(isSoundName, 'a file name in the sounds directory, such as chimes.wav').optional(),
});

export const notificationsQuerySchema = z.strictObject({
  limit: limitSchema(50, 500),
  before: timestampSchema.optional(),
  device: deviceIdSchema.optional(),
  instance: idSchema.optional(),
  status: z.enum(NOTIFICATION_STATUSES).optional(),
  channel: channelSchema.optional(),
});

export const notificationParamsSchema = z.strictObject({ id: idSchema });
