// Configuration of the work mode, the productivity gate and who may ask it without a token:
// the zod schemas of their config file keys, their defaults, and the resolved, typed form.
// config.ts adds these keys to the file schema and spreads `resolveModeGateConfig` into Config.
import { z } from 'zod';
import { parseNetwork } from '../lib/net.js';
import type { DistractingApp } from '../machines/gate-decision.js';
import type { ModePolicy } from '../machines/mode-context.js';

export const modeNameSchema = z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'a mode name of lowercase letters, digits and _ (such as work_music)');

/** State variable names: like mode names, and not one of the names the state answer uses itself. */
export const RESERVED_STATE_NAMES = new Set(['mode', 'minutes', 'focus', 'policy', 'since', 'set_by', 'deadline', 'remaining_s', 'return_to', 'gate', 'instances', 'modes']);
const variableNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,31}$/, 'a name of lowercase letters, digits and _')
  .refine((n) => !RESERVED_STATE_NAMES.has(n), 'a reserved name (mode, focus, minutes, ...)');

export const stateVariableSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('boolean'), default: z.boolean() }),
  z.strictObject({ type: z.literal('number'), default: z.number(), min: z.number().optional(), max: z.number().optional() }),
  z.strictObject({ type: z.literal('string'), default: z.string().max(200), values: z.array(z.string().min(1).max(200)).min(1).optional() }),
]);
export type StateVariableSpec = z.infer<typeof stateVariableSchema>;

const appNameSchema = z.string().trim().min(1).max(200);
export const distractingAppSchema = z.union([
  appNameSchema,
  z.strictObject({ name: appNameSchema, packages: z.array(appNameSchema).optional() }),
]);

/** An IPv4 or IPv6 network in CIDR notation, or a single address. */
export const networkSchema = z.string().refine((s) => parseNetwork(s) !== null, 'a network such as 100.64.0.0/10 or an address such as 192.168.1.20');

export const modeGateFileKeys = {
  modes: z
    .record(modeNameSchema, z.enum(['work', 'open']))
    .refine((m) => Object.keys(m).length > 0, 'at least one mode')
    .optional(),
  default_mode: modeNameSchema.optional(),
  state_variables: z.record(variableNameSchema, stateVariableSchema).optional(),
  gate_grace_minutes: z.number().min(0).max(24 * 60).optional(),
  distracting_apps: z.array(distractingAppSchema).optional(),
  gate_check_networks: z.array(networkSchema).optional(),
};

export interface ModeGateConfig {
  modes: Record<string, ModePolicy>;
  defaultMode: string;
  stateVariables: Record<string, StateVariableSpec>;
  gateGraceMs: number;
  distractingApps: DistractingApp[];
  /** Networks whose callers may ask the gate (GET /api/check, GET /?app=) without the token. */
  gateCheckNetworks: string[];
}

export const DEFAULT_MODES: Record<string, ModePolicy> = { work_silence: 'work', work_music: 'work', break: 'open', off: 'open' };

export const DEFAULT_DISTRACTING_APPS: DistractingApp[] = [
  { name: 'youtube', packages: ['com.google.android.youtube'] },
  { name: 'reddit', packages: ['com.reddit.frontpage'] },
  { name: 'twitter', packages: ['com.twitter.android'] },
  { name: 'instagram', packages: ['com.instagram.android'] },
  { name: 'tiktok', packages: ['com.zhiliaoapp.musically'] },
  { name: 'facebook', packages: ['com.facebook.katana'] },
  { name: 'netflix', packages: ['com.netflix.mediaclient'] },
  { name: 'twitch', packages: ['tv.twitch.android.app'] },
];

/** Loopback, and Tailscale's address range (where the phone is). */
export const DEFAULT_GATE_CHECK_NETWORKS = ['127.0.0.0/8', '::1/128', '100.64.0.0/10'];

export type ModeGateFile = { [K in keyof typeof modeGateFileKeys]?: z.infer<(typeof modeGateFileKeys)[K]> };

/** Checks that hold across keys; returns problems as "key: message" lines. */
export function modeGateProblems(file: ModeGateFile): string[] {
  const problems: string[] = [];
  const modes = file.modes ?? DEFAULT_MODES;
  if (file.default_mode !== undefined && !(file.default_mode in modes)) {
    problems.push(`default_mode: "${file.default_mode}" is not one of the modes (${Object.keys(modes).join(', ')})`);
  }
  for (const [name, spec] of Object.entries(file.state_variables ?? {})) {
    if (spec.type === 'number') {
      if (spec.min !== undefined && spec.default < spec.min) problems.push(`state_variables.${name}.default: below min ${spec.min}`);
      if (spec.max !== undefined && spec.default > spec.max) problems.push(`state_variables.${name}.default: above max ${spec.max}`);
    }
    if (spec.type === 'string' && spec.values && !spec.values.includes(spec.default)) {
      problems.push(`state_variables.${name}.default: not one of its values (${spec.values.join(', ')})`);
    }
  }
  return problems;
}

export function resolveModeGateConfig(file: ModeGateFile): ModeGateConfig {
  const modes = file.modes ?? DEFAULT_MODES;
  return {
    modes,
    defaultMode: file.default_mode ?? ('work_silence' in modes ? 'work_silence' : Object.keys(modes)[0]!),
    stateVariables: file.state_variables ?? {},
    gateGraceMs: (file.gate_grace_minutes ?? 2) * 60_000,
    distractingApps: file.distracting_apps
      ? file.distracting_apps.map((a) => (typeof a === 'string' ? { name: a, packages: [] } : { name: a.name, packages: a.packages ?? [] }))
      : DEFAULT_DISTRACTING_APPS,
    gateCheckNetworks: file.gate_check_networks ?? DEFAULT_GATE_CHECK_NETWORKS,
  };
}
