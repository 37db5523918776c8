// Instances: finds the actor a hook event belongs to (by session id, and for resumed,
// cleared or compacted sessions by transcript or pid), registers instances that are not
// known yet, and routes events to them through the hub. Every answer resolves after commit.
import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database } from '../../db/database.js';
import type { EventDraft } from '../../db/queries/events.js';
import { allInstanceIds, allSessionLinks, getInstance, linkSessionOp, sessionOf, stoppedSince } from '../../db/queries/instances.js';
import { snapshotOf } from '../../db/queries/snapshots.js';
import type { WriteOp } from '../../db/writer.js';
import { displayName, instanceContextSchema, type InstanceContext, type InstanceEvent, type InstanceInput, type InstanceStateValue, type ManagedLink, type Origin } from '../../machines/instance-context.js';
import type { Clock } from '../../lib/clock.js';
import { DomainError } from '../../lib/domain-error.js';
import type { DeviceDirectory } from './devices.js';
import { createHookEventIds, type HookEventIds } from './hook-event-ids.js';
import { CONTINUING_SOURCES, hookEventType, toInstanceEvent, type HookInput } from './hook-events.js';
import type { Committed, Hub } from '../runtime/root-machines.js';
import type { InstanceActors, InstanceSnapshot } from './instance-kind.js';
import { instanceView, viewOfContext, type InstanceView } from './instance-view.js';
import { createInstanceIndex } from './instance-index.js';
import { assignProfile, poolSize, type ProfilePoolConfig } from './profile-pool.js';
import { createProjectResolver, type ProjectOf } from '../../lib/project-name.js';
import { lastContext } from '../runtime/snapshots.js';

export const INSTANCE_MACHINE_ID = 'instance';

export interface InstancesDeps {
  /** Largest event details kept, in bytes (bigger payloads are cut down). */
  eventDetailsMaxBytes: number;
  db: Database;
  hub: Pick<Hub, 'record'>;
  /** The live instance actors (the hub's handle of their kind). */
  actors: InstanceActors;
  devices: DeviceDirectory;
  clock: Clock;
  logger: Logger;
  localDevice: string;
  profiles: ProfilePoolConfig;
  instanceExpiryMs: number;
  /** How long after an instance stopped its display number is not given to another (default an hour). */
  nameReuseMs?: number;
  /** The project of a working directory (default: its repository's or directory's name, looked up on this machine). */
  projectOf?: ProjectOf;
  /** The managed session (src/sessions) of a TOKEN_API_SESSION a hook forwarded, with its kind; null: none such. */
  managedOf?: (sessionId: string) => ManagedLink | null;
  /** Event ids of hook calls (spool replay); one is made from `db` when not given. */
  eventIds?: HookEventIds;
}

/** How a caller other than the live hook route qualifies an event (spool replay, the Codex watcher). */
export interface HookOptions {
  /** When it happened (a spooled event, a rollout line); default: now. */
  at?: number;
  /** The hook script's id for the event: an id seen before is answered as a duplicate and changes nothing. */
  eventId?: string;
  /** The machine event, instead of the one derived from a Claude Code payload (null: record only). */
  event?: InstanceEvent | null;
  /** The event row's type, instead of `hook.<name>`. */
  eventType?: string;
  /** More rows for the same transaction (a watcher's read offset). */
  ops?: WriteOp[];
}

export interface HookOutcome {
  /** applied: the instance's actor took the event; recorded: only logged (stopped instance, unknown hook); duplicate: seen before, nothing done. */
  outcome: 'applied' | 'recorded' | 'duplicate';
  registered: boolean;
  instance: InstanceView | null;
  event_type: string;
  from: string | null;
  to: string | null;
}

export interface RegisterInput {
  instanceId?: string;
  sessionId?: string;
  agentType?: 'claude' | 'codex';
  tabName?: string;
  originType?: 'local' | 'ssh';
  sourceIp?: string;
  deviceId?: string;
  sshClient?: string;
  pid?: number;
  tty?: string;
  workingDir?: string;
  transcriptPath?: string;
}

/** Why a stopped instance comes back: the stop it came back from, and the event that brought it. */
export interface Revival {
  from: string | null;
  stoppedAt: string | null;
  by: string;
}

/** Events that are the session's activity: they revive its stopped instance. A SessionEnd does not. */
function revives(event: InstanceEvent | null): boolean {
  return event !== null && event.type !== 'hook.session_end' && event.type.startsWith('hook.');
}

/** The snapshot a commit wrote for an instance (one that stopped is no longer live). */
function instanceIn(notice: Committed, id: string): InstanceSnapshot | undefined {
  for (const c of notice.changes) if (c.kind === 'instance' && c.id === id) return c.snapshot;
  return undefined;
}

export class ConflictError extends DomainError {
  constructor(message: string, field?: string) {
    super('conflict', message, field);
    this.name = 'ConflictError';
  }
}

const SAFE_ID = /^[A-Za-z0-9._:-]{1,100}$/;

const hashOf = (sessionId: string) => createHash('sha256').update(sessionId).digest('hex').slice(0, 24);

/** A stable, URL-safe instance id for a session first seen through a hook. */
function instanceIdFor(agentType: string, sessionId: string): string {
  return `${agentType}-${SAFE_ID.test(sessionId) ? sessionId : hashOf(sessionId)}`;
}

/**
 * A session id as it is stored and compared: a lone UTF-16 surrogate (which SQLite would store
 * as U+FFFD, so that it no longer matched after a restart) is U+FFFD from the start.
 */
export function normalSessionId(sessionId: string): string {
  return LONE_SURROGATE.test(sessionId) ? sessionId.replace(LONE_SURROGATE_ALL, '\ufffd') : sessionId;
}
// In unicode mode a surrogate range matches only surrogates that are not part of a pair.
const LONE_SURROGATE = /[\ud800-\udfff]/u;
const LONE_SURROGATE_ALL = /[\ud800-\udfff]/gu;

/** First field of SSH_CLIENT / SSH_CONNECTION ("ip port port"). */
export function sshSourceIp(sshClient: string | undefined): string | null {
  const ip = sshClient?.trim().split(/\s+/)[0];
  return ip ? ip : null;
}

export async function createInstances(deps: InstancesDeps) {
  const { hub, actors, clock } = deps;
  const { kind } = actors;
  const eventIds = deps.eventIds ?? createHookEventIds({ db: deps.db });
  await eventIds.load();
  /** Every session id ever linked to an instance, stopped ones included. */
  const sessions = new Map<string, string>();
  for (const r of await allSessionLinks(deps.db)) {
    sessions.set(r.session_id, r.instance_id);
  }
  const projectOf = deps.projectOf ?? createProjectResolver();
  const nameReuseMs = deps.nameReuseMs ?? 3_600_000;
  // Names, profiles, transcripts, pids and instance ids in use, kept as actors change:
  // registering costs the same with ten live instances or ten thousand.
  const index = createInstanceIndex({ actors, now: () => clock.now(), reuseAfterMs: nameReuseMs, slots: poolSize(deps.profiles) });
  const since = new Date(clock.now() - nameReuseMs).toISOString();
  for (const r of await stoppedSince(deps.db, since)) {
    // Rows from before the number was stored carry it in their name ("Claude #3").
    const number = r.name_number ?? Number(/#(\d+)$/.exec(r.display_name)?.[1] ?? NaN);
    if (Number.isInteger(number) && number > 0) index.reserveStopped(r.agent_type, number, r.id, Date.parse(r.stopped_at));
  }
  // Every instance id ever used, stopped ones included: an id derived from a session never lands on one.
  index.useIds(sessions.values());
  index.useIds(await allInstanceIds(deps.db));

  /**
   * The id of a new instance for a session no instance has had: `<agent>-<session>`, unless an
   * instance registered explicitly holds that id, in which case the session's hash names it.
   */
  function newInstanceId(agentType: string, sessionId: string): string {
    const plain = instanceIdFor(agentType, sessionId);
    if (!index.idTaken(plain)) return plain;
    const hashed = `${agentType}-${hashOf(sessionId)}`;
    for (let n = 1; ; n++) {
      const id = n === 1 ? hashed : `${hashed}-${n}`;
      if (!index.idTaken(id)) return id;
    }
  }

  function live(): { id: string; ctx: InstanceContext; state: InstanceStateValue }[] {
    const out: { id: string; ctx: InstanceContext; state: InstanceStateValue }[] = [];
    for (const [id, s] of actors.all()) out.push({ id, ctx: s.context, state: s.value });
    return out;
  }

  function contextOf(id: string): { ctx: InstanceContext; state: InstanceStateValue } | null {
    const s = actors.snapshot(id);
    return s ? { ctx: s.context, state: s.value } : null;
  }

  function linkOp(sessionId: string, instanceId: string, at: number): WriteOp {
    sessions.set(sessionId, instanceId);
    return linkSessionOp(sessionId, instanceId, new Date(at).toISOString());
  }

  function resolveOrigin(r: { sshClient?: string; sourceIp?: string; originType?: 'local' | 'ssh'; deviceId?: string }): Origin {
    const ip = sshSourceIp(r.sshClient) ?? r.sourceIp ?? null;
    const type = r.originType ?? (ip ? 'ssh' : 'local');
    if (r.deviceId && deps.devices.get(r.deviceId)) return { type, sourceIp: ip, deviceId: r.deviceId };
    if (type === 'local' && !ip) return { type, sourceIp: null, deviceId: deps.localDevice };
    const byIp = ip ? deps.devices.byIp(ip) : undefined;
    return { type, sourceIp: ip, deviceId: byIp?.id ?? (type === 'local' ? deps.localDevice : 'unknown') };
  }

  function newInput(
    id: string,
    r: RegisterInput & { sessionId: string; agentType: 'claude' | 'codex'; agentName?: string; managedSession?: string },
    pidLocal: boolean,
    at: number,
  ): InstanceInput {
    return {
      agentName: r.agentName ?? null,
      instanceId: id,
      agentType: r.agentType,
      sessionId: r.sessionId,
      transcriptPath: r.transcriptPath ?? null,
      tabName: r.tabName ?? null,
      number: index.number(r.agentType, id),
      origin: resolveOrigin(r),
      profile: assignProfile(deps.profiles, index.slotUses()),
      pid: r.pid ?? null,
      pidLocal,
      tty: r.tty ?? null,
      workingDir: r.workingDir ?? null,
      project: projectOf(r.workingDir),
      managed: managedOf(r.managedSession),
      registeredAt: at,
      expiresAfterMs: deps.instanceExpiryMs,
    };
  }

  /**
   * Starts (or restarts, for a stopped id) an instance actor; resolves after commit. A restart
   * is an `instance.revived` event saying from which stop it came back and what brought it.
   */
  function spawn(id: string, input: InstanceInput, at: number, revived: Revival | null) {
    const details = {
      name: displayName(input),
      project: input.project ?? null,
      agent_type: input.agentType,
      origin: { type: input.origin.type, source_ip: input.origin.sourceIp, device_id: input.origin.deviceId },
      profile: input.profile.name,
      session_id: input.sessionId,
      revived: revived !== null,
    };
    const events: EventDraft[] = [
      revived
        ? { type: 'instance.revived', at, instanceId: id, deviceId: input.origin.deviceId, details: { ...details, from: revived.from, stopped_at: revived.stoppedAt, by: revived.by } }
        : { type: 'instance.registered', at, instanceId: id, deviceId: input.origin.deviceId, details },
    ];
    const linked = sessions.get(input.sessionId);
    const releaseId = index.claimId(id);
    return actors.spawn(id, input, { ops: [linkOp(input.sessionId, id, at)], events }).catch((err: unknown) => {
      // Not committed: neither is the session's link, or its next event would find no instance and only be recorded.
      if (!actors.has(id) && sessions.get(input.sessionId) === id) {
        if (linked === undefined) sessions.delete(input.sessionId);
        else sessions.set(input.sessionId, linked);
      }
      if (!actors.has(id)) releaseId();
      throw err;
    });
  }

  /** The live instance a new session id continues (/clear, /compact, resume): same transcript, same local process, or same managed session. */
  function findContinued(input: HookInput, pidLocal: boolean): string | null {
    return (
      (input.transcriptPath ? index.byTranscript(input.transcriptPath) : null) ??
      (input.pid && pidLocal ? index.byLocalPid(input.pid) : null) ??
      (input.managedSession ? (live().find((l) => l.ctx.managed?.session === input.managedSession)?.id ?? null) : null)
    );
  }

  function managedOf(sessionId: string | undefined): ManagedLink | null {
    return sessionId === undefined ? null : (deps.managedOf?.(sessionId) ?? null);
  }

  function hookEventRow(type: string, input: HookInput, instanceId: string | null, deviceId: string | null, at: number, from: string | null, to: string | null): EventDraft {
    const draft: EventDraft = { type, at, instanceId, deviceId, details: { from, to, payload: input.raw } };
    // The payload arrived as JSON text: reuse it rather than serialise it again, when it fits.
    if (input.rawJson !== undefined && Buffer.byteLength(input.rawJson) + 64 <= deps.eventDetailsMaxBytes) {
      draft.detailsJson = `{"from":${JSON.stringify(from)},"to":${JSON.stringify(to)},"payload":${input.rawJson}}`;
    }
    return draft;
  }

  // Events whose commit is in flight, by event id: a replay of one waits for its outcome, so
  // that it is never acknowledged as a duplicate of an event that then fails to commit.
  const inFlight = new Map<string, Promise<HookOutcome>>();
  /** Stopped instances being revived (their last snapshot is being read), by id. */
  const reviving = new Map<string, Promise<void>>();

  function spawnRequest(input: HookInput): RegisterInput & { sessionId: string; agentType: 'claude' | 'codex'; agentName?: string; managedSession?: string } {
    return {
      ...input,
      workingDir: input.cwd,
      agentType: input.agentType,
      sessionId: input.sessionId,
      agentName: input.agentId ? undefined : input.claudeAgentType,
    };
  }

  /**
   * The input that brings a stopped instance back: what it was (name, profile, origin, counts,
   * first registration) from its last snapshot, updated by the event, with its display number
   * and profile kept where no live instance took them meanwhile.
   */
  async function revivalInput(id: string, input: HookInput, pidLocal: boolean, at: number): Promise<{ input: InstanceInput; revival: Revival }> {
    const fresh = newInput(id, spawnRequest(input), pidLocal, at);
    const row = await snapshotOf(deps.db, id);
    const last = row ? lastContext(kind.machine, instanceContextSchema, row.snapshot, row.machine_version) : null;
    const by = hookEventType(input);
    if (!last) return { input: fresh, revival: { from: null, stoppedAt: null, by } };
    return {
      input: {
        ...fresh,
        agentType: last.agentType,
        sessionId: input.sessionId,
        number: index.number(last.agentType, id, last.number),
        profile: index.slotHeld(last.profile.slot) ? fresh.profile : last.profile,
        tabName: input.tabName ?? last.tabName,
        origin: input.sshClient || input.pid ? fresh.origin : last.origin,
        pid: input.pid ?? last.pid,
        pidLocal: input.pid ? pidLocal : last.pidLocal,
        tty: input.tty ?? last.tty,
        workingDir: input.cwd ?? last.workingDir,
        project: input.cwd ? fresh.project : (last.project ?? null),
        transcriptPath: input.transcriptPath ?? last.transcriptPath,
        registeredAt: last.registeredAt,
        lastActivityAt: at,
        toolCount: last.toolCount,
        agentName: fresh.agentName ?? last.agentName,
        managed: fresh.managed ?? last.managed ?? null,
      },
      revival: { from: last.stopReason, stoppedAt: last.stoppedAt === null ? null : new Date(last.stoppedAt).toISOString(), by },
    };
  }

  async function handleHook(input: HookInput, pidLocal: boolean, opts: HookOptions = {}): Promise<HookOutcome> {
    const sessionId = normalSessionId(input.sessionId);
    if (sessionId !== input.sessionId) input = { ...input, sessionId };
    const eventId = opts.eventId;
    if (eventId === undefined) return applyHook(input, pidLocal, opts);
    const pending = inFlight.get(eventId);
    if (pending) {
      await pending.catch(() => undefined);
      return handleHook(input, pidLocal, opts);
    }
    if (eventIds.has(eventId)) {
      const id = sessions.get(input.sessionId) ?? null;
      const current = id ? contextOf(id) : null;
      const state = current?.state ?? null;
      const type = opts.eventType ?? hookEventType(input);
      return { outcome: 'duplicate', registered: false, instance: current ? viewOfContext(current.ctx, current.state) : null, event_type: type, from: state, to: state };
    }
    eventIds.claim(eventId);
    const applied = applyHook(input, pidLocal, { ...opts, ops: [...(opts.ops ?? []), eventIds.row(eventId, opts.at ?? clock.now())] });
    inFlight.set(eventId, applied);
    try {
      const outcome = await applied;
      eventIds.confirm(eventId);
      return outcome;
    } catch (err) {
      eventIds.release(eventId);
      throw err;
    } finally {
      inFlight.delete(eventId);
    }
  }

  async function applyHook(input: HookInput, pidLocal: boolean, opts: HookOptions): Promise<HookOutcome> {
    const at = opts.at ?? clock.now();
    const event = opts.event !== undefined ? opts.event : toInstanceEvent(input, at);
    if (event && 'cwd' in event && event.cwd) event.project = projectOf(event.cwd) ?? undefined;
    if (event && 'sessionId' in event && input.managedSession) event.managed = managedOf(input.managedSession) ?? undefined;
    const type = opts.eventType ?? hookEventType(input);
    const isStart = event?.type === 'hook.session_start';
    let id = sessions.get(input.sessionId) ?? null;
    const extraOps: WriteOp[] = [...(opts.ops ?? [])];
    let unlinkOnFailure: (() => void) | null = null;
    const committed = async (work: Promise<unknown>[]): Promise<void> => {
      try {
        await Promise.all(work);
      } catch (err) {
        unlinkOnFailure?.();
        throw err;
      }
    };

    if (isStart && (!id || !actors.has(id)) && CONTINUING_SOURCES.has(input.source ?? '')) {
      const continued = findContinued(input, pidLocal);
      if (continued) {
        const before = id;
        id = continued;
        extraOps.push(linkOp(input.sessionId, continued, at));
        // Not committed: neither is the link (the session stays where the database has it).
        unlinkOnFailure = () => {
          if (sessions.get(input.sessionId) !== continued) return;
          if (before === null) sessions.delete(input.sessionId);
          else sessions.set(input.sessionId, before);
        };
      }
    }

    let registered = false;
    const pending: Promise<unknown>[] = [];
    // The event's own rows (its id, a watcher's offsets) go with the event row below, not
    // with the registration or revival: whatever commits the event commits them.
    if (!id) {
      // Unknown session (hooks may start mid-session).
      id = newInstanceId(input.agentType, input.sessionId);
      pending.push(spawn(id, newInput(id, spawnRequest(input), pidLocal, at), at, null));
      registered = true;
    } else if (!actors.has(id) && revives(event)) {
      // A stopped instance whose session shows activity (or starts again) comes back.
      const waiting = reviving.get(id);
      if (waiting) {
        // Another event of it is reviving it: go after that one, in order.
        await waiting.catch(() => undefined);
        return applyHook(input, pidLocal, { ...opts, at, ops: extraOps });
      }
      const known = id;
      const revival = revivalInput(known, input, pidLocal, at);
      reviving.set(known, revival.then(() => undefined));
      let prepared: { input: InstanceInput; revival: Revival };
      try {
        prepared = await revival;
      } finally {
        reviving.delete(known);
      }
      if (actors.has(known)) return applyHook(input, pidLocal, { ...opts, at, ops: extraOps });
      pending.push(spawn(known, prepared.input, at, prepared.revival));
      registered = true;
    }

    const current = contextOf(id);
    if (!current || !event) {
      // A stopped instance's session (not starting again), or a hook type with no effect.
      const deviceId = current?.ctx.origin.deviceId ?? null;
      pending.push(hub.record({ ops: extraOps, events: [hookEventRow(type, input, id, deviceId, at, current?.state ?? null, current?.state ?? null)] }));
      await committed(pending);
      const after = contextOf(id);
      return {
        outcome: 'recorded',
        registered,
        instance: after ? viewOfContext(after.ctx, after.state) : null,
        event_type: type,
        from: current?.state ?? null,
        to: after?.state ?? null,
      };
    }

    const from = current.state;
    let after: InstanceSnapshot | null = null;
    const sent = actors.send(id, event, (snap) => {
      after = snap;
      return { ops: extraOps, events: [hookEventRow(type, input, id, snap.context.origin.deviceId, at, from, snap.value)] };
    });
    await committed([...pending, sent]);
    const snap: InstanceSnapshot = after!;
    return { outcome: 'applied', registered, instance: viewOfContext(snap.context, snap.value), event_type: type, from, to: snap.value };
  }

  /** Sends a lifecycle event to a live instance; null when it is not live. */
  async function send(id: string, event: InstanceEvent): Promise<InstanceView | null> {
    if (!actors.has(id)) return null;
    const notice = await actors.send(id, event);
    const snap = actors.snapshot(id) ?? instanceIn(notice, id);
    return snap ? viewOfContext(snap.context, snap.value) : null;
  }

  return {
    handleHook,
    eventIds,
    /** The instance index, which follows the instance actors (src/system/wiring.ts subscribes it). */
    index,

    /** The seed's explicit registration; idempotent for a live instance id. */
    async register(r: RegisterInput, pidLocal: boolean): Promise<{ created: boolean; instance: InstanceView }> {
      const at = clock.now();
      const agentType = r.agentType ?? 'claude';
      const id = r.instanceId ?? `${agentType}-${randomUUID()}`;
      const asked = r.sessionId === undefined ? undefined : normalSessionId(r.sessionId);
      // Idempotent for the same instance; an id that is another session's is not handed over.
      const liveOne = () => {
        const c = contextOf(id);
        if (!c) return null;
        if (asked !== undefined && sessions.get(asked) !== id) throw new ConflictError(`instance ${id} belongs to session ${c.ctx.sessionId}`, 'instance_id');
        return { created: false, instance: viewOfContext(c.ctx, c.state) };
      };
      const existing = liveOne();
      if (existing) return existing;
      const previous = await sessionOf(deps.db, id);
      // A stopped instance comes back for one of its own sessions, not for another's.
      if (previous && asked !== undefined && asked !== previous.session_id && sessions.get(asked) !== id) {
        throw new ConflictError(`instance ${id} belongs to session ${previous.session_id}`, 'instance_id');
      }
      const sessionId = asked ?? previous?.session_id ?? randomUUID();
      const owner = sessions.get(sessionId);
      if (owner && owner !== id) throw new ConflictError(`session ${sessionId} belongs to instance ${owner}`, 'session_id');
      // Re-check after the read: another request may have registered the id meanwhile.
      const raced = liveOne();
      if (raced) return raced;
      const input = newInput(id, { ...r, sessionId, agentType }, pidLocal, at);
      const revival: Revival | null = previous !== undefined ? { from: null, stoppedAt: null, by: 'instance.register' } : null;
      const notice = await spawn(id, input, at, revival);
      const snap = actors.snapshot(id) ?? instanceIn(notice, id);
      return { created: true, instance: viewOfContext(snap!.context, snap!.value) };
    },

    send,

    /** Stops a live instance (`instance.deregister`); the view of the instance either way, null when there is none. */
    async deregister(id: string): Promise<InstanceView | null> {
      const view = await send(id, { type: 'instance.deregister', reason: 'deregistered', at: clock.now() });
      if (view) return view;
      const row = await getInstance(deps.db, id);
      return row ? instanceView(row) : null;
    },

    /** Marks a live instance active; null when there is no such instance; a stopped one is a conflict. */
    async heartbeat(id: string): Promise<InstanceView | null> {
      const view = await send(id, { type: 'instance.heartbeat', at: clock.now() });
      if (view) return view;
      if (!(await getInstance(deps.db, id))) return null;
      throw new ConflictError(`instance ${id} is stopped; a new SessionStart or registration revives it`);
    },

    isLive: (id: string) => actors.has(id),
    live,
    view(id: string): InstanceView | null {
      const c = contextOf(id);
      return c ? viewOfContext(c.ctx, c.state) : null;
    },
    instanceOfSession: (sessionId: string) => sessions.get(normalSessionId(sessionId)) ?? null,
    /** The context of the live instance a session belongs to (any session id it has had), from memory. */
    contextOfSession(sessionId: string): InstanceContext | null {
      const id = sessions.get(normalSessionId(sessionId));
      return id ? (contextOf(id)?.ctx ?? null) : null;
    },
  };
}

export type Instances = Awaited<ReturnType<typeof createInstances>>;
