// How the hub builds a managed session's actor and the rows that mirror it: one
// managed_sessions row per snapshot, and session.started / session.turn_finished /
// session.exited events from its transitions (actions carry who asked, added by the service).
import type { EventDraft } from '../db/queries/events.js';
import { upsertManagedSessionOp } from '../db/queries/sessions.js';
import { sessionMachine } from '../machines/session.js';
import type { SessionContext } from '../machines/session-context.js';
import type { ActorKind } from '../actors/runtime/kinds.js';
import type { RootMachines } from '../actors/runtime/root-machines.js';
import type { SnapshotFrom } from 'xstate';

export type SessionKind = ActorKind<RootMachines, 'session'>;
export type SessionSnapshot = SnapshotFrom<typeof sessionMachine>;
export type SessionState = SessionSnapshot['value'];

const iso = (ms: number) => new Date(ms).toISOString();

export function sessionRow(ctx: SessionContext, state: string) {
  return {
    id: ctx.id,
    name: ctx.name,
    kind: ctx.kind,
    agent: ctx.agent,
    repo: ctx.repo,
    cwd: ctx.cwd,
    state,
    claude_session_id: ctx.claudeSessionId,
    account: ctx.account,
    pid: ctx.pid,
    exit_code: ctx.exit?.code ?? null,
    exit_signal: ctx.exit?.signal ?? null,
    exit_reason: ctx.exit?.reason ?? null,
    exit_lines: ctx.exit ? JSON.stringify(ctx.exit.lastLines) : null,
    created_at: iso(ctx.createdAt),
    updated_at: iso(ctx.updatedAt),
  };
}

export function sessionTransitions(snapshot: SessionSnapshot, prev: SessionSnapshot | null): EventDraft[] {
  const ctx = snapshot.context;
  const at = ctx.updatedAt;
  const base = { session: ctx.id, repo: ctx.repo, kind: ctx.kind, agent: ctx.agent };
  if (!prev) return [{ type: 'session.created', at, details: { ...base, name: ctx.name, claude_session_id: ctx.claudeSessionId } }];
  const out: EventDraft[] = [];
  if (ctx.turns > prev.context.turns) out.push({ type: 'session.turn_finished', at, details: { ...base, turns: ctx.turns } });
  if (snapshot.value === 'exited' && prev.value !== 'exited' && ctx.exit) {
    out.push({ type: 'session.exited', at, details: { ...base, code: ctx.exit.code, signal: ctx.exit.signal, reason: ctx.exit.reason, last_lines: ctx.exit.lastLines.slice(-10) } });
  }
  return out;
}

export function createSessionKind(): SessionKind {
  return {
    name: 'session',
    machine: sessionMachine,
    project: (_id, snapshot) => [upsertManagedSessionOp(sessionRow(snapshot.context, String(snapshot.value)))],
    transitions: (_id, snapshot, prev) => sessionTransitions(snapshot, prev),
  };
}
