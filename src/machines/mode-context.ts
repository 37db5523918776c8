// The work mode machine's context, events and emitted intent, as types and zod schemas.
// The schema validates the mode snapshot read back from SQLite before the actor is restored.
import { z } from 'zod';

/** How a mode treats distracting apps: `work` lets them through only while an agent works. */
export type ModePolicy = 'work' | 'open';

const name = z.string().regex(/^[a-z][a-z0-9_]{0,31}$/);

export const stateValueSchema = z.union([z.boolean(), z.number(), z.string().max(200)]);
export type StateValue = z.infer<typeof stateValueSchema>;

export const modeContextSchema = z.object({
  mode: name,
  /** When the current mode was entered (setting the same mode again does not move it). */
  since: z.number(),
  /** What last set the mode: the initial configuration, a request, its timer, or a changed configuration. */
  setBy: z.enum(['start', 'request', 'timer', 'config']),
  /** When the mode's timer ends, or null for a mode set without a duration. */
  deadline: z.number().nullable(),
  /** The mode the timer returns to. */
  returnTo: name.nullable(),
  /** Where a timer returns when there is no other mode to return to. */
  defaultMode: name,
  focus: z.boolean(),
  focusSince: z.number(),
  /** Configured state variables (the config file's `state_variables`). */
  vars: z.record(z.string(), stateValueSchema),
});
export type ModeContext = z.infer<typeof modeContextSchema>;

export interface ModeInput {
  mode: string;
  defaultMode: string;
  vars: Record<string, StateValue>;
  at: number;
}

interface At {
  /** Epoch milliseconds; machines never read the clock. */
  at: number;
}

export type ModeEvent =
  /** Any of mode (optionally for a duration), focus and state variables, at once. */
  | ({ type: 'mode.update'; mode?: string; durationMs?: number | null; focus?: boolean; vars?: Record<string, StateValue> } & At)
  /** From the mode's timer when its deadline has come (early or stale ones are ignored). */
  | ({ type: 'mode.timer_ended' } & At)
  /** The configuration changed (on start): the modes that exist, the default, the variables' values. */
  | ({ type: 'mode.configure'; modes: string[]; defaultMode: string; vars: Record<string, StateValue> } & At);

/** Emitted when a timed mode ends by itself, for notifications. */
export interface ModeTimerEndedIntent {
  type: 'notify';
  intent: 'mode_timer_ended';
  instanceId: null;
  at: number;
  tool: null;
  message: string;
  /** The mode whose timer ended. */
  previous: string;
  /** The mode now. */
  mode: string;
}

export type ModeStateValue = 'steady' | 'timed';
