// The `notifications` block of the config file: its zod schema and the typed settings it
// resolves to, with the defaults documented in docs/configuration.md. Kept apart from
// config.ts so that the notification settings read as one unit.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

const channelSchema = z.enum(['speech', 'sound', 'webhook']);
const localChannelSchema = z.enum(['speech', 'sound']);

/** The `notifications` block of the config file (see docs/configuration.md). */
export const notificationsFileSchema = z
  .object({
    coalesce_seconds: z.number().min(0).max(600).optional(),
    local_expiry_seconds: z.number().positive().max(3600).optional(),
    message_max_chars: z.number().int().min(0).max(2000).optional(),
    fallback_device: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).nullable().optional(),
    recent_device_minutes: z.number().min(0).max(24 * 60).optional(),
    mode_channels: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), z.array(localChannelSchema)).optional(),
    focus_mutes_speech: z.boolean().optional(),
    devices: z
      .record(
        z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
        z.object({ channels: z.array(channelSchema).optional(), include_message: z.boolean().optional() }).strict(),
      )
      .optional(),
    speech: z
      .object({
        engine: z.enum(['auto', 'sapi', 'say', 'espeak-ng', 'spd-say', 'none']).optional(),
        powershell: z.string().min(1).optional(),
        max_chars: z.number().int().min(20).max(5000).optional(),
      })
      .strict()
      .optional(),
    sound: z
      .object({
        player: z.enum(['auto', 'paplay', 'pw-play', 'aplay', 'afplay', 'powershell', 'none']).optional(),
        command: z.array(z.string().min(1)).min(1).optional(),
        directory: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    voices: z
      .object({
        exclude: z.array(z.string().min(1)).optional(),
        languages: z.array(z.string().min(1)).optional(),
      })
      .strict()
      .optional(),
    webhook: z
      .object({
        timeout_seconds: z.number().positive().max(300).optional(),
        retry_hours: z.number().min(0).max(24 * 30).optional(),
        backoff_initial_seconds: z.number().positive().max(3600).optional(),
        backoff_max_seconds: z.number().positive().max(24 * 3600).optional(),
        answered_update: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type NotificationChannel = z.infer<typeof channelSchema>;

export interface NotificationsConfig {
  coalesceMs: number;
  localExpiryMs: number;
  messageMaxChars: number;
  /** Where intents from an unknown origin device go (default: the local device); null drops them, with a reason. */
  fallbackDevice: string | null;
  /** Notifications of no instance (a mode timer ending) also go to devices used this recently. */
  recentDeviceMs: number;
  modeChannels: Record<string, ('speech' | 'sound')[]>;
  focusMutesSpeech: boolean;
  devices: Record<string, { channels?: NotificationChannel[]; includeMessage?: boolean }>;
  speech: { engine: 'auto' | 'sapi' | 'say' | 'espeak-ng' | 'spd-say' | 'none'; powershell: string | null; maxChars: number };
  sound: { player: 'auto' | 'paplay' | 'pw-play' | 'aplay' | 'afplay' | 'powershell' | 'none'; command: string[] | null; directory: string | null };
  /** pin: the configured profiles.voices (used as they are); otherwise detected voices in `languages`, minus `exclude`. */
  voices: { pin: string[] | null; exclude: string[]; languages: string[] };
  /** answeredUpdate: after a permission request or question went out by webhook, POST a short "answered" once the instance no longer waits. */
  webhook: { timeoutMs: number; retryMs: number; backoffInitialMs: number; backoffMaxMs: number; answeredUpdate: boolean };
}

/** `pinnedVoices`: the config file's `profiles.voices`, which, when given, wins over detected voices. */
export function notificationsConfig(n: z.infer<typeof notificationsFileSchema> | undefined, home: string, localDevice: string, pinnedVoices: string[] | undefined): NotificationsConfig {
  const devices: NotificationsConfig['devices'] = {};
  for (const [id, d] of Object.entries(n?.devices ?? {})) devices[id] = { channels: d.channels, includeMessage: d.include_message };
  return {
    coalesceMs: (n?.coalesce_seconds ?? 3) * 1000,
    localExpiryMs: (n?.local_expiry_seconds ?? 60) * 1000,
    messageMaxChars: n?.message_max_chars ?? 160,
    fallbackDevice: n?.fallback_device === undefined ? localDevice : n.fallback_device,
    recentDeviceMs: (n?.recent_device_minutes ?? 30) * 60_000,
    modeChannels: { work_music: ['speech', 'sound'], work_silence: ['sound'], break: ['speech', 'sound'], off: [], ...n?.mode_channels },
    focusMutesSpeech: n?.focus_mutes_speech ?? true,
    devices,
    speech: { engine: n?.speech?.engine ?? 'auto', powershell: n?.speech?.powershell ?? null, maxChars: n?.speech?.max_chars ?? 300 },
    sound: {
      player: n?.sound?.player ?? 'auto',
      command: n?.sound?.command ?? null,
      directory: n?.sound?.directory ? resolve(home, expandHome(n.sound.directory)) : null,
    },
    voices: { pin: pinnedVoices ?? null, exclude: n?.voices?.exclude ?? [], languages: n?.voices?.languages ?? ['en'] },
    webhook: {
      timeoutMs: (n?.webhook?.timeout_seconds ?? 10) * 1000,
      retryMs: (n?.webhook?.retry_hours ?? 6) * 3_600_000,
      backoffInitialMs: (n?.webhook?.backoff_initial_seconds ?? 2) * 1000,
      backoffMaxMs: (n?.webhook?.backoff_max_seconds ?? 600) * 1000,
      answeredUpdate: n?.webhook?.answered_update ?? false,
    },
  };
}
