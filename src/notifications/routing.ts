// Where a notification goes: the origin device's channels, shaped by the work mode. Pure: the
// caller supplies the device, the mode and the policy; the answer carries the reason, which is
// recorded as an event with every decision.
import type { NotificationChannel } from '../config/config.js';

export type Channel = NotificationChannel;
export const CHANNEL_ORDER: readonly Channel[] = ['sound', 'speech', 'webhook'];

export const URGENT_INTENTS: ReadonlySet<string> = new Set(['needs_permission', 'needs_input']);

export type Urgency = 'normal' | 'urgent';

/** What routing needs to know of a device. */
export interface RoutableDevice {
  id: string;
  type: string;
  notification_method: string | null;
  webhook_url: string | null;
}

export interface RoutingPolicy {
  /** The device this server runs on: the only one that can speak and play sounds. */
  localDevice: string;
  /** Local channels each mode lets through; a mode not listed lets everything through. */
  modeChannels: Record<string, readonly ('speech' | 'sound')[]>;
  /** With focus on, non-urgent notifications play the sound but are not spoken. */
  focusMutesSpeech: boolean;
  /** Per device: channels overriding its notification_method. */
  deviceChannels: Record<string, { channels?: readonly Channel[] }>;
}

export interface RouteRequest {
  event: string;
  urgency: Urgency;
  device: RoutableDevice | null;
  /** The id asked for (the origin device), even when no such device is known. */
  deviceId: string | null;
  mode: { mode: string; focus: boolean };
  /** Explicit channels (the HTTP API); routing still checks the device can do them. */
  only?: readonly Channel[];
}

export interface Route {
  deviceId: string | null;
  channels: Channel[];
  reason: string;
  /** Channels listed or asked for that the device cannot do (no webhook_url, not this machine). */
  unsupported: Channel[];
}

const METHOD_WORDS: Record<string, readonly Channel[]> = {
  tts_sound: ['speech', 'sound'],
  tts: ['speech'],
  speech: ['speech'],
  sound: ['sound'],
  webhook: ['webhook'],
  none: [],
};

function ordered(set: Iterable<Channel>): Channel[] {
  const s = new Set(set);
  return CHANNEL_ORDER.filter((c) => s.has(c));
}

/**
 * The channels a device lists: the config override, else its notification_method (words
 * such as `tts_sound`, `webhook`, or several joined by `,` or `+`), else by its type.
 */
export function channelsOfDevice(device: RoutableDevice, policy: RoutingPolicy): Channel[] {
  const override = policy.deviceChannels[device.id]?.channels;
  if (override) return ordered(override);
  const method = device.notification_method?.trim().toLowerCase();
  if (method) {
    const out = new Set<Channel>();
    for (const word of method.split(/[\s,+]+/)) for (const c of METHOD_WORDS[word] ?? []) out.add(c);
    return ordered(out);
  }
  if (isLocal(device, policy)) return ['sound', 'speech'];
  return device.webhook_url ? ['webhook'] : [];
}

function isLocal(device: RoutableDevice, policy: RoutingPolicy): boolean {
  return device.id === policy.localDevice || device.type === 'local';
}

function names(list: readonly string[]): string {
  return list.length === 0 ? 'nothing' : list.join(' and ');
}

export function route(req: RouteRequest, policy: RoutingPolicy): Route {
  const { device } = req;
  if (!device) {
    return { deviceId: req.deviceId, channels: [], unsupported: [], reason: `origin device ${req.deviceId ?? '(none)'} is not known; nothing to deliver to` };
  }
  const notes: string[] = [];
  let channels = channelsOfDevice(device, policy);
  notes.push(`${device.id} lists ${names(channels)}`);
  if (req.only) {
    const wanted = new Set(req.only);
    channels = channels.filter((c) => wanted.has(c));
    const extra = req.only.filter((c) => !channels.includes(c));
    // Explicit channels may go beyond the device's list, as long as the device can do them.
    for (const c of extra) channels.push(c);
    channels = ordered(channels);
    notes.push(`asked for ${names([...req.only])}`);
  }
  const cannot: Channel[] = [];
  channels = channels.filter((c) => {
    const ok = c === 'webhook' ? Boolean(device.webhook_url) : isLocal(device, policy);
    if (!ok) cannot.push(c);
    return ok;
  });
  if (cannot.includes('webhook')) notes.push(`${device.id} has no webhook_url`);
  if (cannot.some((c) => c !== 'webhook')) notes.push(`speech and sound play only on ${policy.localDevice}`);

  if (req.urgency === 'urgent') {
    notes.push(`${req.event} is urgent: delivered whatever the mode (${req.mode.mode}${req.mode.focus ? ', focus' : ''})`);
    return { deviceId: device.id, channels, unsupported: cannot, reason: notes.join('; ') };
  }
  const allowed = policy.modeChannels[req.mode.mode];
  const before = channels;
  if (allowed) {
    channels = channels.filter((c) => c === 'webhook' || allowed.includes(c));
  }
  if (req.mode.focus && policy.focusMutesSpeech) channels = channels.filter((c) => c !== 'speech');
  const dropped = before.filter((c) => !channels.includes(c));
  if (dropped.length === 0) {
    notes.push(allowed ? `mode ${req.mode.mode} keeps everything` : `mode ${req.mode.mode} has no rule: everything kept`);
  } else {
    const why = [`mode ${req.mode.mode}${allowed ? ` allows ${names([...allowed])}` : ''}`];
    if (req.mode.focus && policy.focusMutesSpeech && dropped.includes('speech')) why.push('focus mutes speech');
    notes.push(`${why.join(', ')}: ${names(dropped)} suppressed`);
  }
  return { deviceId: device.id, channels, unsupported: cannot, reason: notes.join('; ') };
}
