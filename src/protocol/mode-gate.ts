// zod schemas for the work mode and gate endpoints. Mode names and state variables come from
// the configuration, so the body schemas are built from it once, when the routes are made.
import { z } from 'zod';
import type { StateVariableSpec } from '../config/mode-gate.js';
import { WHOLE } from '../lib/validation-words.js';

/** An app name (youtube, Steam.exe) or an Android package name (com.google.android.youtube). */
export const appSchema = z
  .string()
  .trim()
  .min(1, 'an app name or Android package name, such as youtube')
  .max(200, 'at most 200 characters')
  .regex(/^[\p{L}\p{N} ._+&'-]+$/u, 'an app name or Android package name (letters, digits, space and . _ + & \' -)')
  .describe('an app name or Android package name, such as youtube');

export const checkQuerySchema = z.strictObject({ app: appSchema });
export const rootQuerySchema = z.strictObject({ app: appSchema.optional() });

const WEEK_MINUTES = 7 * 24 * 60;
export const minutesSchema = z
  .number({ error: `a number of minutes, more than 0 and at most ${WEEK_MINUTES}` })
  .positive(`a number of minutes, more than 0 and at most ${WEEK_MINUTES}`)
  .max(WEEK_MINUTES, `a number of minutes, more than 0 and at most ${WEEK_MINUTES}`);

function modeEnum(modes: readonly string[]) {
  return z.enum(modes as [string, ...string[]], { error: `one of ${modes.join(', ')}` });
}

export function modeBodySchema(modes: readonly string[]) {
  return z.strictObject({ mode: modeEnum(modes), minutes: minutesSchema.nullable().optional() });
}

export function variableSchema(spec: StateVariableSpec): z.ZodType<boolean | number | string> {
  if (spec.type === 'boolean') return z.boolean({ error: 'true or false' });
  if (spec.type === 'number') {
    let n = z.number({ error: 'a number' });
    if (spec.min !== undefined) n = n.min(spec.min, `at least ${spec.min}`);
    if (spec.max !== undefined) n = n.max(spec.max, `at most ${spec.max}`);
    return n;
  }
  return spec.values ? z.enum(spec.values as [string, ...string[]], { error: `one of ${spec.values.join(', ')}` }) : z.string({ error: 'a string' }).max(200);
}

/** POST /api/state: mode (with minutes), focus and every configured state variable, all optional. */
export function stateBodySchema(modes: readonly string[], variables: Record<string, StateVariableSpec>) {
  const vars: Record<string, z.ZodOptional<z.ZodType<boolean | number | string>>> = {};
  for (const [name, spec] of Object.entries(variables)) vars[name] = variableSchema(spec).optional();
  const names = ['mode', 'minutes', 'focus', ...Object.keys(variables)];
  const known = new Set(names);
  return z
    .looseObject({ mode: modeEnum(modes).optional(), minutes: minutesSchema.nullable().optional(), focus: z.boolean({ error: 'true or false' }).optional(), ...vars })
    .superRefine((b, ctx) => {
      // A name the configuration does not declare is the one mistake here worth a hint.
      for (const name of Object.keys(b)) {
        if (known.has(name)) continue;
        const declared = Object.keys(variables);
        ctx.addIssue({
          code: 'custom',
          path: [name],
          params: WHOLE,
          message: `is not a state variable: declare it under state_variables in the config file first (docs/configuration.md)${declared.length > 0 ? `; declared: ${declared.join(', ')}` : '; none is declared'}`,
        });
      }
      if (b.minutes !== undefined && b.minutes !== null && b.mode === undefined) ctx.addIssue({ code: 'custom', path: ['minutes'], params: WHOLE, message: 'is given without a mode; name the mode the timer is for' });
      if (Object.keys(b).length === 0) ctx.addIssue({ code: 'custom', path: [], params: WHOLE, message: `has nothing to update; name at least one of ${names.join(', ')}` });
    });
}
