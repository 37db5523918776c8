// How the hub builds the productivity gate actor and which event rows its changes produce:
// the machine with its real grace timer provided, no projection rows (the snapshot row is the
// record), and a `gate.changed` event when it opens, enters its grace period or closes.
import { gateMachine } from '../../machines/gate.js';
import type { Clock } from '../../lib/clock.js';
import { createDeadlineTimer } from './deadline-timer.js';
import type { ActorKind } from '../runtime/kinds.js';
import type { RootMachines } from '../runtime/root-machines.js';

export type GateKind = ActorKind<RootMachines, 'gate'>;

/** Outside the alphabet of instance ids (src/protocol/api.ts idSchema), so no instance can take it. */
export const GATE_ACTOR_ID = '#gate';

export function createGateKind(clock: Clock): GateKind {
  return {
    name: 'gate',
    machine: gateMachine.provide({ actors: { graceTimer: createDeadlineTimer(clock, 'gate.grace_ended') } }),
    project: () => [],
    transitions(_id, snapshot, prev) {
      if (!prev || prev.value === snapshot.value) return [];
      const ctx = snapshot.context;
      return [
        {
          type: 'gate.changed',
          at: ctx.stateSince,
          details: {
            from: prev.value,
            to: snapshot.value,
            working: ctx.working,
            grace_until: ctx.graceUntil === null ? null : new Date(ctx.graceUntil).toISOString(),
          },
        },
      ];
    },
  };
}
