// Start-up: every instance that was not stopped comes back from its snapshot, with its
// profile, counts and expiry timer. A snapshot that fails its checks does not stop the
// server: the instance is rebuilt from its projection row when that row is usable, and
// otherwise retired (marked stopped); the log and the event table say which and why.
import type { Logger } from 'pino';
import type { Database } from '../../db/database.js';
import { instanceContextSchema, type InstanceContext } from '../../machines/instance-context.js';
import type { EventDraft } from '../../db/queries/events.js';
import { activeWithSnapshots, retireInstanceOp, type InstanceRow } from '../../db/queries/instances.js';
import { retireSnapshotOp } from '../../db/queries/snapshots.js';
import type { Hub } from '../runtime/root-machines.js';
import type { InstanceActors } from './instance-kind.js';
import { INSTANCE_MACHINE_ID } from './instances.js';
import type { ProfilePoolConfig } from './profile-pool.js';
import { assignProfile } from './profile-pool.js';
import { checkSnapshot } from '../runtime/snapshots.js';

export interface RestoreReport {
  restored: number;
  rebuilt: number;
  retired: number;
  migrated: number;
  ms: number;
}

const LIVE_STATES = new Set(['idle', 'working', 'awaiting']);

/** The persisted form xstate writes for an instance actor, rebuilt from a projection row. */
function persistedFromRow(row: InstanceRow, expiresAfterMs: number, profiles: ProfilePoolConfig, number: number): { value: string; snapshot: object } | null {
  if (!LIVE_STATES.has(row.state)) return null;
  const ms = (iso: string | null) => (iso ? Date.parse(iso) : null);
  const registeredAt = ms(row.registered_at);
  const lastActivityAt = ms(row.last_activity);
  if (registeredAt === null || Number.isNaN(registeredAt) || lastActivityAt === null || Number.isNaN(lastActivityAt)) return null;
  const fallback = assignProfile(profiles, []);
  const context: InstanceContext = {
    instanceId: row.id,
    agentType: row.agent_type === 'codex' ? 'codex' : 'claude',
    sessionId: row.session_id,
    transcriptPath: row.transcript_path,
    tabName: row.tab_name,
    number,
    origin: { type: row.origin_type === 'ssh' ? 'ssh' : 'local', sourceIp: row.source_ip, deviceId: row.device_id },
    profile: {
      slot: Math.max(0, Number(/^profile_(\d+)$/.exec(row.profile_name ?? '')?.[1] ?? 1) - 1),
      name: row.profile_name ?? fallback.name,
      voice: row.tts_voice ?? fallback.voice,
      sound: row.notification_sound ?? fallback.sound,
      color: row.color ?? fallback.color,
    },
    pid: row.pid,
    pidLocal: false,
    tty: null,
    workingDir: row.working_dir,
    project: row.project ?? null,
    managed: row.managed_session && (row.managed_kind === 'headless' || row.managed_kind === 'terminal') ? { session: row.managed_session, kind: row.managed_kind } : null,
    registeredAt,
    lastActivityAt,
    stateSince: ms(row.state_since) ?? lastActivityAt,
    stoppedAt: null,
    stopReason: null,
    currentTool: row.current_tool,
    currentToolSince: null,
    toolCount: row.tool_count,
    subagentCount: 0,
    subagents: [],
    stopPending: false,
    agentName: row.agent_name ?? null,
    awaiting: row.state === 'awaiting' ? { kind: 'permission', tool: row.current_tool, message: null, agentId: null } : null,
    expiresAfterMs,
  };
  if (!instanceContextSchema.safeParse(context).success) return null;
  return {
    value: row.state,
    snapshot: {
      status: 'active',
      value: row.state,
      historyValue: {},
      context,
      children: {
        expiry: { snapshot: { status: 'active', input: { deadline: lastActivityAt + expiresAfterMs } }, src: 'expiryTimer', syncSnapshot: false },
      },
    },
  };
}

export async function restoreInstances(deps: {
  db: Database;
  hub: Pick<Hub, 'record'>;
  /** The instance actors the snapshots are restored into. */
  actors: InstanceActors;
  logger: Logger;
  now: () => number;
  instanceExpiryMs: number;
  profiles: ProfilePoolConfig;
}): Promise<RestoreReport> {
  const started = performance.now();
  const rows = await activeWithSnapshots(deps.db, INSTANCE_MACHINE_ID);
  const report: RestoreReport = { restored: 0, rebuilt: 0, retired: 0, migrated: 0, ms: 0 };
  const repairs: Promise<unknown>[] = [];
  const usedNumbers = new Set<number>();

  const failed: { row: (typeof rows)[number]; reason: string }[] = [];
  for (const row of rows) {
    const id = row.actor_id;
    const check = checkSnapshot(deps.actors.kind.machine, instanceContextSchema, row.snapshot, row.machine_version);
    if (!check.ok) {
      failed.push({ row, reason: check.reason });
      continue;
    }
    try {
      deps.actors.restore(id, check.snapshot, row.snapshot);
    } catch (err) {
      failed.push({ row, reason: `actor failed to start: ${(err as Error).message}` });
      continue;
    }
    usedNumbers.add(check.snapshot.context.number);
    report.restored += 1;
    if (check.migratedFrom !== null) {
      report.migrated += 1;
      deps.logger.info({ instance: id, from: check.migratedFrom }, 'instance snapshot migrated');
      repairs.push(deps.actors.send(id, { type: 'instance.heartbeat', at: deps.now() }));
    }
  }

  // Second pass, so that rebuilt instances take display numbers no restored one holds.
  for (const { row, reason } of failed) {
    const id = row.actor_id;
    const projection = row.row;
    let number = projection?.name_number && !usedNumbers.has(projection.name_number) ? projection.name_number : 1;
    while (usedNumbers.has(number)) number += 1;
    const rebuilt = projection ? persistedFromRow(projection, deps.instanceExpiryMs, deps.profiles, number) : null;
    if (rebuilt) {
      try {
        deps.actors.restore(id, rebuilt.snapshot, JSON.stringify(rebuilt.snapshot));
        usedNumbers.add(number);
        report.rebuilt += 1;
        deps.logger.warn({ instance: id, reason }, 'instance snapshot invalid; rebuilt from its projection row');
        repairs.push(
          deps.actors.send(id, { type: 'instance.heartbeat', at: deps.now() }, {
            events: [{ type: 'instance.rebuilt', at: deps.now(), instanceId: id, deviceId: projection?.device_id ?? null, details: { reason } }],
          }),
        );
        continue;
      } catch (err) {
        deps.logger.error({ instance: id, err }, 'rebuilt instance failed to start');
      }
    }
    report.retired += 1;
    deps.logger.error({ instance: id, reason }, 'instance snapshot invalid and no usable projection row; instance retired (stopped)');
    const at = new Date(deps.now()).toISOString();
    const ops = [retireSnapshotOp(id, at), retireInstanceOp(id, at, 'snapshot_invalid')];
    const events: EventDraft[] = [
      { type: 'instance.retired', at: deps.now(), instanceId: id, deviceId: projection?.device_id ?? null, details: { reason } },
      { type: 'instance.stopped', at: deps.now(), instanceId: id, deviceId: projection?.device_id ?? null, details: { reason: 'snapshot_invalid' } },
    ];
    repairs.push(deps.hub.record({ ops, events }));
  }
  await Promise.all(repairs);
  report.ms = Math.round(performance.now() - started);
  return report;
}

