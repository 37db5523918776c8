// Checking a persisted snapshot before an actor is started from it. createActor() does not
// throw on a bad snapshot (the actor errors later, asynchronously), so everything is checked
// here first: JSON, machine version (migrating older ones where a migration exists), the
// state value, and the context against the machine's zod schema.
import type { AnyStateMachine, StateValue } from 'xstate';
import { z } from 'zod';
import { fieldsInWords, parseInWords, sentenceOfFields } from '../../lib/validation-words.js';

/** Upgrades a persisted snapshot written by an older version of a machine. */
export type SnapshotMigration = (snapshot: Record<string, unknown>) => Record<string, unknown>;

/** Per machine id: from-version -> migration to the next version (the machine's current one, in the end). */
export const snapshotMigrations: Record<string, Record<string, { to: string; migrate: SnapshotMigration }>> = {
  instance: {
    // Version 2 tracks subagents by agent_id, the custom agent's name, and whose a wait is.
    '1': {
      to: '2',
      migrate: (s) => {
        const ctx = (s.context ?? {}) as Record<string, unknown>;
        const count = typeof ctx.subagentCount === 'number' && ctx.subagentCount > 0 ? Math.floor(ctx.subagentCount) : 0;
        const at = typeof ctx.lastActivityAt === 'number' ? ctx.lastActivityAt : 0;
        const awaiting = ctx.awaiting && typeof ctx.awaiting === 'object' ? { ...(ctx.awaiting as object), agentId: null } : null;
        return {
          ...s,
          context: {
            ...ctx,
            subagents: Array.from({ length: count }, () => ({ id: null, type: null, startedAt: at, currentTool: null, toolCount: 0 })),
            stopPending: false,
            agentName: null,
            awaiting,
          },
        };
      },
    },
  },
};

export type SnapshotCheck<T> = { ok: true; snapshot: Record<string, unknown> & { context: T }; migratedFrom: string | null } | { ok: false; reason: string };

/** A state value: a state's name, or the states of its regions. */
const stateValueSchema: z.ZodType<StateValue> = z.lazy(() => z.union([z.string(), z.record(z.string(), stateValueSchema)]));

const persistedShape = z.looseObject({
  status: z.literal('active'),
  value: stateValueSchema,
  context: z.unknown(),
  children: z.record(z.string(), z.unknown()).optional(),
});

export function checkSnapshot<T>(machine: AnyStateMachine, contextSchema: z.ZodType<T>, json: string, version: string): SnapshotCheck<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    return { ok: false, reason: `snapshot is not valid JSON (${(err as Error).message})` };
  }
  if (parsed === null || typeof parsed !== 'object') return { ok: false, reason: 'snapshot is not an object' };
  const migrated = migrateSnapshot(machine, parsed as Record<string, unknown>, version);
  if (!migrated.ok) return migrated;
  const { snapshot, migratedFrom } = migrated;
  const shape = parseInWords(persistedShape, snapshot);
  if (!shape.success) return { ok: false, reason: `snapshot shape: ${sentenceOfFields(fieldsInWords(shape.error), 'field')}` };
  const ctx = parseInWords(contextSchema, shape.data.context);
  if (!ctx.success) return { ok: false, reason: `context: ${sentenceOfFields(fieldsInWords(ctx.error), 'field')}` };
  try {
    const state = machine.resolveState({ value: shape.data.value, context: ctx.data });
    if (state.status !== 'active') return { ok: false, reason: `state ${JSON.stringify(shape.data.value)} is final` };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  return { ok: true, snapshot: { ...snapshot, context: ctx.data }, migratedFrom };
}

/** Brings a persisted snapshot written by `version` of the machine up to its current version. */
function migrateSnapshot(
  machine: AnyStateMachine,
  parsed: Record<string, unknown>,
  version: string,
): { ok: true; snapshot: Record<string, unknown>; migratedFrom: string | null } | { ok: false; reason: string } {
  let snapshot = parsed;
  const current = machine.version ?? '0';
  let at = version;
  const migratedFrom = at === current ? null : at;
  const steps = snapshotMigrations[machine.id] ?? {};
  for (let guard = 0; at !== current; guard++) {
    const step = steps[at];
    if (!step || guard > 100) return { ok: false, reason: `machine version ${version} has no migration to version ${current}` };
    try {
      snapshot = step.migrate(snapshot);
    } catch (err) {
      return { ok: false, reason: `migration from version ${at} failed: ${(err as Error).message}` };
    }
    at = step.to;
  }
  return { ok: true, snapshot, migratedFrom };
}

/**
 * The context of an actor's last persisted snapshot, final ones included (a stopped instance
 * about to be revived), migrated and checked; null when it cannot be read.
 */
export function lastContext<T>(machine: AnyStateMachine, contextSchema: z.ZodType<T>, json: string, version: string): T | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object') return null;
  const migrated = migrateSnapshot(machine, parsed as Record<string, unknown>, version);
  if (!migrated.ok) return null;
  const ctx = contextSchema.safeParse(migrated.snapshot.context);
  return ctx.success ? ctx.data : null;
}
