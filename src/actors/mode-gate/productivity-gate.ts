// The productivity gate service. It follows the instance actors' transitions (a `within`
// subscriber, src/system/wiring.ts; never a database poll) and forwards the set of working
// instances to the gate actor, so the gate's change commits in the same transaction as the
// instance change that caused it. `check` answers from memory, synchronously, and notes a `gate.check`
// event row with the hub without waiting for it: a check changes no state, so it is not held
// up by a commit. The rows of one event-loop turn share a transaction and are durable a few
// ms after their answers; a crash in that window can lose the record of a check, never a
// change of state.
import type { Logger } from 'pino';
import type { Database } from '../../db/database.js';
import type { DistractingApp } from '../../machines/gate-decision.js';
import type { GateContext, GateStateValue } from '../../machines/gate-context.js';
import { gateContextSchema } from '../../machines/gate-context.js';
import { appMatcher, decide, type GateRule } from '../../machines/gate-decision.js';
import { isoOrNull, type Clock } from '../../lib/clock.js';
import type { DeviceDirectory } from '../instances/devices.js';
import type { InstanceActors, InstanceSnapshot } from '../instances/instance-kind.js';
import { createGateKind, GATE_ACTOR_ID } from './gate-kind.js';
import type { Hub } from '../runtime/root-machines.js';
import { startRootActor, type RootStart } from '../runtime/root-actor.js';
import type { WorkMode } from './work-mode.js';

export interface ProductivityView {
  productive: boolean;
  working: number;
  working_instances: string[];
  state: GateStateValue;
  /** End of the grace period (ISO 8601) while it runs, else null. */
  grace_until: string | null;
  /** When the gate last changed state (idle, productive, grace). */
  since: string;
  grace_minutes: number;
}

export interface CheckAnswer {
  app: string;
  allowed: boolean;
  reason: string;
  rule: GateRule;
  mode: string;
  focus: boolean;
  productive: boolean;
  working: number;
  grace_until: string | null;
}

export interface CheckSource {
  /** Which endpoint asked: the JSON API or the legacy plain-text one. */
  via: 'api' | 'legacy';
  remoteAddress?: string;
  /** The caller is this machine. */
  local: boolean;
}

function isWorking(snapshot: InstanceSnapshot): boolean {
  return snapshot.status === 'active' && snapshot.value === 'working';
}

/** The public view of the gate's state (GET /api/productivity, the live feed). */
export function productivityView(ctx: GateContext, state: GateStateValue): ProductivityView {
  return {
    productive: ctx.working.length > 0,
    working: ctx.working.length,
    working_instances: ctx.working,
    state,
    grace_until: state === 'grace' ? isoOrNull(ctx.graceUntil) : null,
    since: new Date(ctx.stateSince).toISOString(),
    grace_minutes: ctx.graceMs / 60_000,
  };
}

export async function createProductivityGate(deps: {
  db: Database;
  hub: Pick<Hub, 'kind' | 'note'>;
  /** The live instances, read once; then their transitions through `follow`. */
  instances: Pick<InstanceActors, 'all'>;
  /** Subscribes the gate's observer to the instance actors' transitions (src/system/wiring.ts). */
  follow: (observe: (id: string, snapshot: InstanceSnapshot) => void) => void;
  clock: Clock;
  logger: Logger;
  mode: WorkMode;
  devices: DeviceDirectory;
  localDevice: string;
  config: { gateGraceMs: number; distractingApps: DistractingApp[] };
}) {
  const { hub, clock } = deps;
  const actors = hub.kind(createGateKind(clock));
  const listed = appMatcher(deps.config.distractingApps);

  // The working set, kept by observing instance transitions (O(1) per transition; the gate
  // hears only of changes to the set).
  const working = new Set<string>();
  for (const [id, snapshot] of deps.instances.all()) if (isWorking(snapshot)) working.add(id);
  const ids = () => [...working].sort();
  deps.follow((id, snapshot) => {
    const now = isWorking(snapshot);
    if (now === working.has(id)) return;
    if (now) working.add(id);
    else working.delete(id);
    // The gate may be absent for a moment (starting, or rebuilt after a failed write); it
    // is brought up to date with this set when it starts.
    actors.forward(GATE_ACTOR_ID, { type: 'instances.working', ids: ids(), at: clock.now() });
  });

  const start: RootStart = await startRootActor({
    db: deps.db,
    actors,
    logger: deps.logger,
    id: GATE_ACTOR_ID,
    contextSchema: gateContextSchema,
    now: () => clock.now(),
    fresh: () => ({ working: ids(), graceMs: deps.config.gateGraceMs, at: clock.now() }),
  });

  function snapshot(): { ctx: GateContext; state: GateStateValue } {
    const s = actors.snapshot(GATE_ACTOR_ID);
    if (!s) {
      // Not running (it failed): answer from the working set, with no grace.
      const at = clock.now();
      return { ctx: { working: ids(), since: at, stateSince: at, graceUntil: null, graceMs: deps.config.gateGraceMs }, state: working.size > 0 ? 'productive' : 'idle' };
    }
    return { ctx: s.context, state: s.value };
  }

  // Bring the restored gate in line with the configuration and with the instances as restored.
  const restored = snapshot().ctx;
  if (restored.graceMs !== deps.config.gateGraceMs) {
    await actors.send(GATE_ACTOR_ID, { type: 'gate.configure', graceMs: deps.config.gateGraceMs, at: clock.now() });
  }
  const now = ids();
  if (restored.working.length !== now.length || restored.working.some((id, i) => id !== now[i])) {
    await actors.send(GATE_ACTOR_ID, { type: 'instances.working', ids: now, at: clock.now() });
  }

  function productivity(): ProductivityView {
    const { ctx, state } = snapshot();
    return productivityView(ctx, state);
  }

  return {
    start,
    productivity,

    /** The decision for one app, from memory; its event row is written behind the answer. */
    check(app: string, source: CheckSource): CheckAnswer {
      const { ctx, state } = snapshot();
      const mode = deps.mode.current();
      const at = clock.now();
      const entry = listed(app);
      const d = decide({ app, listed: entry, mode: mode.mode, policy: mode.policy, focus: mode.focus, gate: state, working: ctx.working.length, graceUntil: ctx.graceUntil, now: at });
      const answer: CheckAnswer = {
        app,
        allowed: d.allowed,
        reason: d.reason,
        rule: d.rule,
        mode: mode.mode,
        focus: mode.focus,
        productive: ctx.working.length > 0,
        working: ctx.working.length,
        grace_until: state === 'grace' ? isoOrNull(ctx.graceUntil) : null,
      };
      const deviceId = source.local ? deps.localDevice : source.remoteAddress ? (deps.devices.byIp(source.remoteAddress)?.id ?? null) : null;
      hub.note([
        { type: 'gate.check', at, deviceId, details: { ...answer, listed: entry, via: source.via, remote_address: source.remoteAddress ?? null } },
      ]);
      return answer;
    },
  };
}

export type ProductivityGate = Awaited<ReturnType<typeof createProductivityGate>>;
