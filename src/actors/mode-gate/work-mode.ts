// The work mode service: starts (or restores) the mode actor, brings it in line with the
// configuration (modes, default, state variables), changes it through the hub (answers after
// commit) and reads it from memory. `current()` is what notifications consult.
import type { Logger } from 'pino';
import type { Database } from '../../db/database.js';
import type { StateVariableSpec } from '../../config/mode-gate.js';
import type { ModePolicy } from '../../machines/mode-context.js';
import { modeContextSchema, type ModeContext, type StateValue } from '../../machines/mode-context.js';
import type { Clock } from '../../lib/clock.js';
import { DomainError } from '../../lib/domain-error.js';
import type { Hub } from '../runtime/root-machines.js';
import { createModeKind, MODE_ACTOR_ID } from './mode-kind.js';
import { startRootActor, type RootStart } from '../runtime/root-actor.js';

export interface WorkModeConfig {
  modes: Record<string, ModePolicy>;
  defaultMode: string;
  stateVariables: Record<string, StateVariableSpec>;
}

export interface ModeUpdate {
  mode?: string;
  /** Minutes the mode lasts before returning; absent or null: until changed. */
  minutes?: number | null;
  focus?: boolean;
  vars?: Record<string, StateValue>;
}

export interface ModeView {
  mode: string;
  policy: ModePolicy;
  focus: boolean;
  since: string;
  set_by: ModeContext['setBy'];
  /** When a timed mode ends (ISO 8601), or null. */
  deadline: string | null;
  remaining_s: number | null;
  return_to: string | null;
  modes: string[];
}

export class ModeUnavailableError extends DomainError {
  constructor() {
    super('not_running', 'the work mode is not running; see the server log');
    this.name = 'ModeUnavailableError';
  }
}

/** Whether a value fits a variable's declaration. */
export function fitsVariable(spec: StateVariableSpec, v: unknown): v is StateValue {
  if (spec.type === 'boolean') return typeof v === 'boolean';
  if (spec.type === 'number') return typeof v === 'number' && Number.isFinite(v) && (spec.min === undefined || v >= spec.min) && (spec.max === undefined || v <= spec.max);
  return typeof v === 'string' && v.length <= 200 && (!spec.values || spec.values.includes(v));
}

/** The configured variables: values kept where they still fit, defaults elsewhere, unknown ones dropped. */
export function reconcileVars(current: Record<string, StateValue>, specs: Record<string, StateVariableSpec>): Record<string, StateValue> {
  const out: Record<string, StateValue> = {};
  for (const [name, spec] of Object.entries(specs)) out[name] = fitsVariable(spec, current[name]) ? current[name]! : spec.default;
  return out;
}

function sameVars(a: Record<string, StateValue>, b: Record<string, StateValue>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

export async function createWorkMode(deps: { db: Database; hub: Hub; clock: Clock; logger: Logger; config: WorkModeConfig }) {
  const { hub, clock, config } = deps;
  const actors = hub.kind(createModeKind(clock));
  const modeNames = Object.keys(config.modes);
  const start: RootStart = await startRootActor({
    db: deps.db,
    actors,
    logger: deps.logger,
    id: MODE_ACTOR_ID,
    contextSchema: modeContextSchema,
    now: () => clock.now(),
    fresh: () => ({ mode: config.defaultMode, defaultMode: config.defaultMode, vars: reconcileVars({}, config.stateVariables), at: clock.now() }),
  });

  // The last context read. Should the actor fail (the hub retires it), reads answer this last
  // known state, so the gate, notification routing and the views keep working; changes
  // answer ModeUnavailableError until the next start.
  let lastKnown: ModeContext | null = null;

  function context(): ModeContext {
    const snapshot = actors.snapshot(MODE_ACTOR_ID);
    if (snapshot) lastKnown = snapshot.context;
    if (!lastKnown) throw new ModeUnavailableError();
    return lastKnown;
  }

  // The configuration may have changed since the snapshot was written.
  const restored = context();
  const vars = reconcileVars(restored.vars, config.stateVariables);
  if (
    !modeNames.includes(restored.mode) ||
    (restored.returnTo !== null && !modeNames.includes(restored.returnTo)) ||
    restored.defaultMode !== config.defaultMode ||
    !sameVars(vars, restored.vars)
  ) {
    if (!modeNames.includes(restored.mode)) deps.logger.warn({ mode: restored.mode, now: config.defaultMode }, 'the saved mode is no longer configured; back to the default mode');
    await actors.send(MODE_ACTOR_ID, { type: 'mode.configure', modes: modeNames, defaultMode: config.defaultMode, vars, at: clock.now() });
  }

  function view(ctx: ModeContext = context()): ModeView {
    return {
      mode: ctx.mode,
      policy: config.modes[ctx.mode] ?? 'work',
      focus: ctx.focus,
      since: new Date(ctx.since).toISOString(),
      set_by: ctx.setBy,
      deadline: ctx.deadline === null ? null : new Date(ctx.deadline).toISOString(),
      remaining_s: ctx.deadline === null ? null : Math.max(0, Math.round((ctx.deadline - clock.now()) / 1000)),
      return_to: ctx.returnTo,
      modes: modeNames,
    };
  }

  return {
    start,
    context,
    view,
    /** What the gate and notifications need to know: the mode and the focus flag. Never throws. */
    current(): { mode: string; focus: boolean; policy: ModePolicy } {
      const ctx = context();
      return { mode: ctx.mode, focus: ctx.focus, policy: config.modes[ctx.mode] ?? 'work' };
    },
    policyOf: (mode: string): ModePolicy => config.modes[mode] ?? 'work',
    /** Applies a validated update in one transition; resolves after commit. */
    async update(u: ModeUpdate): Promise<ModeView> {
      if (!actors.has(MODE_ACTOR_ID)) throw new ModeUnavailableError();
      if (u.mode !== undefined && !modeNames.includes(u.mode)) throw new RangeError(`unknown mode ${u.mode}`);
      await actors.send(MODE_ACTOR_ID, {
        type: 'mode.update',
        at: clock.now(),
        ...(u.mode !== undefined ? { mode: u.mode, durationMs: typeof u.minutes === 'number' ? Math.round(u.minutes * 60_000) : null } : {}),
        ...(u.focus !== undefined ? { focus: u.focus } : {}),
        ...(u.vars !== undefined ? { vars: u.vars } : {}),
      });
      return view();
    },
  };
}

export type WorkMode = Awaited<ReturnType<typeof createWorkMode>>;
