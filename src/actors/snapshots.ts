// Checking a persisted snapshot before an actor is started from it. createActor() does not
// throw on a bad snapshot (the actor errors later, asynchronously), so everything is checked
// here first: JSON, machine version (migrating older ones where a migration exists), the
// state value, and the context against the machine's zod schema.
import type { AnyStateMachine } from 'xstate';
import { z } from 'zod';
import { fieldsInWords, parseInWords, sentenceOfFields } from '../validation-words.js';

/** Upgrades a persisted snapshot written by an older version of a machine. */
export type SnapshotMigration = (snapshot: Record<string, unknown>) => Record<string, unknown>;

/** Per machine id: from-version -> migration to the next version (the machine's current one, in the end). */
export const snapshotMigrations: Record<string, Record<string, { to: string; migrate: SnapshotMigration }>> = {
  // instance: { '1': { to: '2', migrate: (s) => ({ ...s, context: { ...s.context, newField: 0 } }) } },
};

export type SnapshotCheck = { ok: true; snapshot: Record<string, unknown>; migratedFrom: string | null } | { ok: false; reason: string };

const persistedShape = z.looseObject({
  status: z.literal('active'),
  value: z.unknown(),
  context: z.unknown(),
  children: z.record(z.string(), z.unknown()).optional(),
});

export function checkSnapshot(machine: AnyStateMachine, contextSchema: z.ZodType, json: string, version: string): SnapshotCheck {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    return { ok: false, reason: `snapshot is not valid JSON (${(err as Error).message})` };
  }
  if (parsed === null || typeof parsed !== 'object') return { ok: false, reason: 'snapshot is not an object' };
  let snapshot = parsed as Record<string, unknown>;
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
  const shape = parseInWords(persistedShape, snapshot);
  if (!shape.success) return { ok: false, reason: `snapshot shape: ${sentenceOfFields(fieldsInWords(shape.error), 'field')}` };
  const ctx = parseInWords(contextSchema, shape.data.context);
  if (!ctx.success) return { ok: false, reason: `context: ${sentenceOfFields(fieldsInWords(ctx.error), 'field')}` };
  try {
    const state = machine.resolveState({ value: shape.data.value as never, context: ctx.data as never });
    if (state.status !== 'active') return { ok: false, reason: `state ${JSON.stringify(shape.data.value)} is final` };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  return { ok: true, snapshot: { ...snapshot, context: ctx.data }, migratedFrom };
}
