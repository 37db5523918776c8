// How the hub builds the work mode actor and which event rows its changes produce: the
// machine with its real deadline timer provided, no projection rows (the snapshot row is the
// record), and `mode.changed`, `focus.changed` and `state.changed` events.
import type { ModeContext } from '../../machines/mode-context.js';
import { modeMachine } from '../../machines/mode.js';
import { isoOrNull, type Clock } from '../../lib/clock.js';
import { createDeadlineTimer } from './deadline-timer.js';
import type { EventDraft } from '../../db/queries/events.js';
import type { ActorKind } from '../runtime/kinds.js';
import type { RootMachines } from '../runtime/root-machines.js';

export type ModeKind = ActorKind<RootMachines, 'mode'>;

/** Outside the alphabet of instance ids (src/protocol/api.ts idSchema), so no instance can take it. */
export const MODE_ACTOR_ID = '#mode';

export function modeTransitions(ctx: ModeContext, prev: ModeContext | null, at: number): EventDraft[] {
  if (!prev) return [];
  const out: EventDraft[] = [];
  if (ctx.mode !== prev.mode || ctx.deadline !== prev.deadline) {
    out.push({
      type: 'mode.changed',
      at,
      details: { from: prev.mode, to: ctx.mode, by: ctx.setBy, deadline: isoOrNull(ctx.deadline), return_to: ctx.returnTo },
    });
  }
  if (ctx.focus !== prev.focus) out.push({ type: 'focus.changed', at, details: { focus: ctx.focus, mode: ctx.mode } });
  const changed: Record<string, { from: unknown; to: unknown }> = {};
  for (const [k, v] of Object.entries(ctx.vars)) if (prev.vars[k] !== v) changed[k] = { from: prev.vars[k] ?? null, to: v };
  if (Object.keys(changed).length > 0) out.push({ type: 'state.changed', at, details: changed });
  return out;
}

export function createModeKind(clock: Clock): ModeKind {
  return {
    name: 'mode',
    machine: modeMachine.provide({ actors: { modeTimer: createDeadlineTimer(clock, 'mode.timer_ended') } }),
    project: () => [],
    transitions(_id, snapshot, prev) {
      return modeTransitions(snapshot.context, prev?.context ?? null, clock.now());
    },
  };
}
