// How the hub builds instance actors and mirrors them into rows: the machine with its real
// expiry timer provided, the `claude_instances` projection row, and the lifecycle event a
// transition produces (stopped).
import { upsertInstanceOp, type InstanceRow } from '../../db/queries/instances.js';
import { instanceMachine } from '../../machines/instance.js';
import { displayName, type InstanceContext, type InstanceStateValue, type Subagent } from '../../machines/instance-context.js';
import { iso, isoOrNull, type Clock } from '../../lib/clock.js';
import { createExpiryTimer } from './expiry-timer.js';
import { lastPart } from '../../lib/project-name.js';
import type { SnapshotFrom } from 'xstate';
import type { KindHandle } from '../runtime/hub.js';
import type { ActorKind } from '../runtime/kinds.js';
import type { RootMachines } from '../runtime/root-machines.js';

export type InstanceKind = ActorKind<RootMachines, 'instance'>;
/** The live instance actors (the hub's handle of their kind). */
export type InstanceActors = KindHandle<RootMachines, 'instance'>;
export type InstanceSnapshot = SnapshotFrom<RootMachines['instance']>;

/** A running subagent as the API shows it. */
export function subagentView(s: Subagent): SubagentView {
  return { agent_id: s.id, agent_type: s.type, started_at: iso(s.startedAt), current_tool: s.currentTool, tool_count: s.toolCount };
}

export interface SubagentView {
  agent_id: string | null;
  agent_type: string | null;
  started_at: string;
  current_tool: string | null;
  tool_count: number;
}

/** The instance's projection row (claude_instances), written with each of its snapshots. */
export function instanceRow(ctx: InstanceContext, state: InstanceStateValue): InstanceRow {
  return {
    id: ctx.instanceId,
    session_id: ctx.sessionId,
    agent_type: ctx.agentType,
    tab_name: ctx.tabName,
    display_name: displayName(ctx),
    origin_type: ctx.origin.type,
    source_ip: ctx.origin.sourceIp,
    device_id: ctx.origin.deviceId,
    profile_name: ctx.profile.name,
    tts_voice: ctx.profile.voice,
    notification_sound: ctx.profile.sound,
    color: ctx.profile.color,
    pid: ctx.pid,
    working_dir: ctx.workingDir,
    project: ctx.project ?? lastPart(ctx.workingDir),
    name_number: ctx.number,
    managed_session: ctx.managed?.session ?? null,
    managed_kind: ctx.managed?.kind ?? null,
    transcript_path: ctx.transcriptPath,
    status: state === 'stopped' ? 'stopped' : 'active',
    state,
    current_tool: ctx.currentTool,
    tool_count: ctx.toolCount,
    subagent_count: ctx.subagentCount,
    agent_name: ctx.agentName,
    subagents: JSON.stringify(ctx.subagents.map(subagentView)),
    registered_at: iso(ctx.registeredAt),
    last_activity: iso(ctx.lastActivityAt),
    state_since: iso(ctx.stateSince),
    stopped_at: isoOrNull(ctx.stoppedAt),
    stop_reason: ctx.stopReason,
  };
}

/** `exists`: whether a local pid runs (the expiry timer asks it; tests replace it). */
export function createInstanceKind(clock: Clock, exists?: (pid: number) => boolean): InstanceKind {
  return {
    name: 'instance',
    machine: instanceMachine.provide({ actors: { expiryTimer: createExpiryTimer(clock, exists) } }),
    project(_id, snapshot) {
      return [upsertInstanceOp(instanceRow(snapshot.context, snapshot.value))];
    },
    transitions(_id, snapshot, prev) {
      if (snapshot.value !== 'stopped' || prev?.value === 'stopped') return [];
      const ctx = snapshot.context;
      return [
        {
          type: 'instance.stopped',
          at: ctx.stoppedAt ?? ctx.lastActivityAt,
          instanceId: ctx.instanceId,
          deviceId: ctx.origin.deviceId,
          details: { name: displayName(ctx), reason: ctx.stopReason, from: prev?.value ?? null },
        },
      ];
    },
  };
}
