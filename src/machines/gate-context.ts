// The productivity gate machine's context and events, as types and zod schemas. The schema
// validates the gate snapshot read back from SQLite before the actor is restored.
import { z } from 'zod';

export const gateContextSchema = z.object({
  /** Ids of the instances that are `working` now, sorted. */
  working: z.array(z.string()),
  /** When `productive` (some instance working) last changed. */
  since: z.number(),
  /** When the gate entered its current state. */
  stateSince: z.number(),
  /** End of the grace period after the last working instance stopped, or null. */
  graceUntil: z.number().nullable(),
  graceMs: z.number().min(0),
});
export type GateContext = z.infer<typeof gateContextSchema>;

export interface GateInput {
  working: string[];
  graceMs: number;
  at: number;
}

interface At {
  /** Epoch milliseconds; machines never read the clock. */
  at: number;
}

export type GateEvent =
  /** The set of working instances changed (the actors layer follows instance actors through the hub). */
  | ({ type: 'instances.working'; ids: string[] } & At)
  /** From the grace timer when its deadline has come. */
  | ({ type: 'gate.grace_ended' } & At)
  /** The configured grace period (applies to the next grace period). */
  | ({ type: 'gate.configure'; graceMs: number } & At);

export type GateStateValue = 'idle' | 'productive' | 'grace';
