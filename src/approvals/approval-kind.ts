// How the hub builds approval actors and what their changes write: the machine with its real
// expiry timer, the `approvals` row that mirrors each one, and an event for each step
// (approval.requested, approval.decided with who decided, approval.expired,
// approval.answered_elsewhere, approval.withdrawn).
import type { SnapshotFrom } from 'xstate';
import { approvalMachine } from '../machines/approval.js';
import type { ApprovalContext, ApprovalStateValue } from '../machines/approval-context.js';
import { createDeadlineTimer } from '../actors/mode-gate/deadline-timer.js';
import type { ActorKind } from '../actors/runtime/kinds.js';
import type { RootMachines } from '../actors/runtime/root-machines.js';
import type { EventDraft } from '../db/queries/events.js';
import { upsertApprovalOp, type ApprovalRow } from '../db/queries/approvals.js';
import type { Clock } from '../lib/clock.js';

export type ApprovalKind = ActorKind<RootMachines, 'approval'>;
export type ApprovalSnapshot = SnapshotFrom<typeof approvalMachine>;

const iso = (ms: number) => new Date(ms).toISOString();

export function approvalRow(ctx: ApprovalContext, state: ApprovalStateValue): ApprovalRow {
  return {
    id: ctx.id,
    instance_id: ctx.instanceId,
    session_id: ctx.sessionId,
    tool_name: ctx.toolName,
    tool_input: ctx.toolInput,
    summary: ctx.summary,
    cwd: ctx.cwd,
    project: ctx.project,
    state,
    behavior: ctx.decision?.behavior ?? null,
    message: ctx.decision?.message ?? null,
    decided_by: ctx.decision?.by ?? null,
    rule_id: ctx.decision?.ruleId ?? null,
    resolution: ctx.resolution?.how ?? null,
    created_at: iso(ctx.createdAt),
    expires_at: iso(ctx.expiresAt),
    resolved_at: ctx.decision ? iso(ctx.decision.at) : ctx.resolution ? iso(ctx.resolution.at) : null,
  };
}

export function approvalTransitions(ctx: ApprovalContext, state: ApprovalStateValue, prevState: ApprovalStateValue | null): EventDraft[] {
  const out: EventDraft[] = [];
  const base = { approval_id: ctx.id, tool: ctx.toolName, summary: ctx.summary };
  if (prevState === null) out.push({ type: 'approval.requested', at: ctx.createdAt, instanceId: ctx.instanceId, details: { ...base, expires_at: iso(ctx.expiresAt) } });
  if (state === prevState || state === 'pending') return out;
  if (state === 'decided' && ctx.decision) {
    const d = ctx.decision;
    out.push({ type: 'approval.decided', at: d.at, instanceId: ctx.instanceId, details: { ...base, behavior: d.behavior, by: d.by, rule_id: d.ruleId, message: d.message } });
  } else if (ctx.resolution) {
    out.push({ type: `approval.${state}`, at: ctx.resolution.at, instanceId: ctx.instanceId, details: { ...base, how: ctx.resolution.how } });
  }
  return out;
}

export function createApprovalKind(clock: Clock): ApprovalKind {
  return {
    name: 'approval',
    machine: approvalMachine.provide({ actors: { approvalTimer: createDeadlineTimer(clock, 'approval.expiry_due') } }),
    project: (_id, snapshot) => [upsertApprovalOp(approvalRow(snapshot.context, snapshot.value))],
    transitions: (_id, snapshot, prev) => approvalTransitions(snapshot.context, snapshot.value, prev?.value ?? null),
  };
}
