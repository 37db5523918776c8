// The approvals service: a PermissionRequest hook becomes an approval actor (or is answered at
// once by a policy), the hook's call is held until the approval leaves `pending`, and a
// decision may come from anywhere (the API, a signed link, the dashboard, the feed). The hook
// is answered in the same turn as the decision's commit is acknowledged. An approval whose
// session went on without it (answered in the terminal, the turn moved on) is closed as
// answered elsewhere; one whose hook stopped waiting, as withdrawn.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { HookInput } from '../actors/instances/hook-events.js';
import type { HookOutcome } from '../actors/instances/instances.js';
import { toolInputSummary } from '../actors/instances/tool-input.js';
import type { InstanceSnapshot } from '../actors/instances/instance-kind.js';
import type { Committed, Hub } from '../actors/runtime/root-machines.js';
import { checkSnapshot } from '../actors/runtime/snapshots.js';
import type { ApprovalsConfig } from '../config/approvals.js';
import type { Database } from '../db/database.js';
import { activeApprovalSnapshots, getApproval, listApprovals, type ApprovalRow } from '../db/queries/approvals.js';
import { retireSnapshotOp } from '../db/queries/snapshots.js';
import { boundedJson } from '../lib/bounded-json.js';
import type { Clock } from '../lib/clock.js';
import { DomainError } from '../lib/domain-error.js';
import { approvalContextSchema, type ApprovalContext, type ApprovalStateValue, type Behavior, type Decider } from '../machines/approval-context.js';
import { approvalRow, createApprovalKind } from './approval-kind.js';
import type { LinkSigner } from './links.js';
import { matchPolicy } from './policies.js';

/** The tool input kept with an approval (the whole of it is in the hook's event row). */
const TOOL_INPUT_MAX_BYTES = 8 * 1024;

/** What the hook is answered: a decision, nothing (Claude Code asks as usual), or "ask me again" (the server is stopping). */
export type HookAnswer = { behavior: Behavior; message: string | null } | null | 'stopping';

export interface HookWait {
  input: HookInput;
  /** The caller is on this machine. */
  local: boolean;
  /** The hook script's event id: it names the approval, so a hook that reconnects finds it again. */
  eventId?: string;
}

export interface ApprovalView {
  id: string;
  state: ApprovalStateValue;
  instance_id: string | null;
  session_id: string;
  tool_name: string;
  tool_input: unknown;
  summary: string;
  cwd: string | null;
  project: string | null;
  created_at: string;
  expires_at: string;
  decision: { behavior: Behavior; message: string | null; by: Decider; rule_id: string | null; at: string } | null;
  resolution: { how: string; at: string } | null;
  /** One-time links (paths on this server) while it waits: opening one decides. */
  links: { approve: string; deny: string } | null;
}

export interface ApprovalsDeps {
  db: Database;
  hub: Hub;
  clock: Clock;
  logger: Logger;
  config: ApprovalsConfig;
  signer: LinkSigner;
  /** The instances' hook handling: the request is the instance's event too (awaiting, notified). */
  handleHook(input: HookInput, local: boolean, opts?: { eventId: string }): Promise<HookOutcome>;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const isoOf = (ms: number) => new Date(ms).toISOString();

export function createApprovals(deps: ApprovalsDeps) {
  const { hub, clock, config, logger } = deps;
  const actors = hub.kind(createApprovalKind(clock));
  /** Held hook calls by approval id. */
  const waiters = new Map<string, Set<(a: HookAnswer) => void>>();
  /** Pending approvals by instance id, to close them when the session goes on. */
  const byInstance = new Map<string, Set<string>>();
  /** Requests about to become approvals, by session id: their notification (planned first) carries their links. */
  const expecting = new Map<string, { id: string; expiresAt: number }>();
  /** Where links point (approvals.link_base_url, else the address token-api listens on once known). */
  let baseUrl = config.linkBaseUrl;

  function track(ctx: ApprovalContext): void {
    if (ctx.instanceId === null) return;
    let set = byInstance.get(ctx.instanceId);
    if (!set) byInstance.set(ctx.instanceId, (set = new Set()));
    set.add(ctx.id);
  }

  function untrack(ctx: ApprovalContext): void {
    const set = ctx.instanceId === null ? undefined : byInstance.get(ctx.instanceId);
    set?.delete(ctx.id);
    if (set?.size === 0) byInstance.delete(ctx.instanceId!);
  }

  /** One-time links (paths of this API) for the permission request a session waits on, or null. */
  function linkPathsForSession(sessionId: string | undefined): { approve: string; deny: string } | null {
    if (sessionId === undefined) return null;
    let found = expecting.get(sessionId) ?? null;
    let newest = -Infinity;
    if (!found) {
      for (const [id, s] of actors.all()) {
        if (s.value !== 'pending' || s.context.sessionId !== sessionId || s.context.createdAt < newest) continue;
        newest = s.context.createdAt;
        found = { id, expiresAt: s.context.expiresAt };
      }
    }
    return found ? links(found.id, found.expiresAt)! : null;
  }

  function links(id: string, expiresAt: number): ApprovalView['links'] {
    const base = `/api/approvals/${encodeURIComponent(id)}`;
    return {
      approve: `${base}/approve?t=${deps.signer.sign({ approvalId: id, behavior: 'allow', expiresAt })}`,
      deny: `${base}/deny?t=${deps.signer.sign({ approvalId: id, behavior: 'deny', expiresAt })}`,
    };
  }

  function viewOfContext(ctx: ApprovalContext, state: ApprovalStateValue): ApprovalView {
    return viewOfRow(approvalRow(ctx, state));
  }

  function viewOfRow(r: ApprovalRow): ApprovalView {
    const state = r.state as ApprovalStateValue;
    return {
      id: r.id,
      state,
      instance_id: r.instance_id,
      session_id: r.session_id,
      tool_name: r.tool_name,
      tool_input: parseJson(r.tool_input),
      summary: r.summary,
      cwd: r.cwd,
      project: r.project,
      created_at: r.created_at,
      expires_at: r.expires_at,
      decision: r.behavior && r.decided_by ? { behavior: r.behavior as Behavior, message: r.message, by: r.decided_by as Decider, rule_id: r.rule_id, at: r.resolved_at ?? r.created_at } : null,
      resolution: r.resolution ? { how: r.resolution, at: r.resolved_at ?? r.created_at } : null,
      links: state === 'pending' ? links(r.id, Date.parse(r.expires_at)) : null,
    };
  }

  function answerOf(ctx: ApprovalContext, state: ApprovalStateValue): HookAnswer {
    return state === 'decided' && ctx.decision ? { behavior: ctx.decision.behavior, message: ctx.decision.message } : null;
  }

  /** The answer of an approval that is over: from the live actor, or (retired once it ended) its row. */
  async function answerOfEnded(id: string): Promise<HookAnswer> {
    const snap = actors.snapshot(id);
    if (snap) return answerOf(snap.context, snap.value);
    const row = await getApproval(deps.db, id);
    return row?.state === 'decided' && row.behavior ? { behavior: row.behavior as Behavior, message: row.message } : null;
  }

  /** Holds the hook until the approval leaves pending (or the hook goes away: withdrawn). */
  function hold(id: string, signal: AbortSignal): Promise<HookAnswer> {
    // Decided (even before this call got here: a decision may come while the approval's first commit is in flight).
    if (actors.snapshot(id)?.value !== 'pending') return answerOfEnded(id);
    return new Promise<HookAnswer>((resolve) => {
      let set = waiters.get(id);
      if (!set) waiters.set(id, (set = new Set()));
      const done = (a: HookAnswer) => {
        signal.removeEventListener('abort', onAbort);
        resolve(a);
      };
      const onAbort = () => {
        set!.delete(done);
        if (set!.size === 0) waiters.delete(id);
        resolve(null);
        // Nobody else waits for it: the hook went away before a decision.
        if (!waiters.has(id) && actors.snapshot(id)?.value === 'pending') {
          actors.send(id, { type: 'approval.withdrawn', reason: 'hook_gone', at: clock.now() }).catch((err) => logger.error({ err, approval: id }, 'could not record a withdrawn approval'));
        }
      };
      set.add(done);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** An approval of an earlier call of the same hook (it reconnected after a restart): its answer; undefined when there is none. */
  async function again(id: string, signal: AbortSignal): Promise<HookAnswer | undefined> {
    if (actors.has(id)) return hold(id, signal);
    return (await getApproval(deps.db, id)) ? answerOfEnded(id) : undefined;
  }

  function notPending(id: string, row: ApprovalRow | undefined): never {
    if (!row) throw new DomainError('not_found', `no approval ${id}; GET /api/approvals lists them`);
    if (row.state === 'decided') throw new DomainError('conflict', `approval ${id} was already decided (${row.behavior} by ${row.decided_by})`);
    throw new DomainError('gone', `approval ${id} is over (${row.state.replace('_', ' ')}); nothing waits for a decision any more`);
  }

  async function decide(id: string, d: { behavior: Behavior; message?: string | null }, by: Decider): Promise<ApprovalView> {
    const snap = actors.snapshot(id);
    if (!snap || snap.value !== 'pending') notPending(id, snap ? approvalRow(snap.context, snap.value) : await getApproval(deps.db, id));
    // Checked and sent in one turn: a second decision finds it decided.
    const message = d.message ?? (d.behavior === 'deny' ? `Denied through token-api (${by})` : null);
    await actors.send(id, { type: 'approval.decide', behavior: d.behavior, message, by, ruleId: null, at: clock.now() });
    const after = actors.snapshot(id);
    if (after) return viewOfContext(after.context, after.value);
    const row = await getApproval(deps.db, id);
    return viewOfRow(row!);
  }

  return {
    actors,
    /** An approval as the API shows it (the feed's messages too). */
    view: viewOfContext,

    /** Restores the approvals that were waiting; their hooks may reconnect, and their deadlines still hold. */
    async restore(): Promise<{ restored: number; retired: number }> {
      const report = { restored: 0, retired: 0 };
      for (const row of await activeApprovalSnapshots(deps.db)) {
        const check = checkSnapshot(actors.kind.machine, approvalContextSchema, row.snapshot, row.machine_version);
        let reason = check.ok ? null : check.reason;
        if (check.ok) {
          try {
            const actor = actors.restore(row.actor_id, check.snapshot, row.snapshot);
            track(actor.getSnapshot().context);
            report.restored += 1;
            continue;
          } catch (err) {
            reason = `actor failed to start: ${(err as Error).message}`;
          }
        }
        logger.error({ approval: row.actor_id, reason }, 'approval snapshot invalid; retired');
        report.retired += 1;
        await hub.record({ ops: [retireSnapshotOp(row.actor_id, isoOf(clock.now()))], events: [{ type: 'actor.retired', at: clock.now(), details: { actor: row.actor_id, reason } }] });
      }
      return report;
    },

    /**
     * A PermissionRequest hook: answered by a policy at once, or made an approval (the instance
     * awaits, the person is told) and held until a decision, the deadline, or the session
     * going on without it. `signal` aborts when the hook's connection closes.
     */
    async requestFromHook(req: HookWait, signal: AbortSignal): Promise<HookAnswer> {
      if (!config.enabled) {
        await deps.handleHook(req.input, req.local, req.eventId ? { eventId: req.eventId } : undefined);
        return null;
      }
      const id = req.eventId ?? randomUUID();
      if (req.eventId) {
        const earlier = await again(id, signal);
        if (earlier !== undefined) return earlier;
      }
      const raw = req.input.raw;
      const toolName = req.input.toolName ?? (typeof raw.tool_name === 'string' ? raw.tool_name : 'unknown');
      const toolInput = raw.tool_input ?? null;
      const now = clock.now();
      const base = {
        id,
        sessionId: req.input.sessionId,
        toolName,
        toolInput: boundedJson(toolInput, TOOL_INPUT_MAX_BYTES),
        summary: toolInputSummary(toolName, toolInput) ?? toolName,
        cwd: req.input.cwd ?? null,
        createdAt: now,
        expiresAt: now + config.timeoutMs,
      };
      const rule = matchPolicy(config.policies, { toolName, toolInput, cwd: base.cwd });
      if (rule) {
        await actors.spawn(id, { ...base, instanceId: null, project: null, decision: { behavior: rule.behavior, message: rule.message, by: 'policy', ruleId: rule.id, at: now } });
        return { behavior: rule.behavior, message: rule.message };
      }
      expecting.set(base.sessionId, { id, expiresAt: base.expiresAt });
      let outcome: HookOutcome;
      try {
        outcome = await deps.handleHook(req.input, req.local, req.eventId ? { eventId: req.eventId } : undefined);
      } finally {
        if (expecting.get(base.sessionId)?.id === id) expecting.delete(base.sessionId);
      }
      const instance = outcome.instance;
      await actors.spawn(id, { ...base, instanceId: outcome.outcome !== 'recorded' && instance ? instance.id : null, project: instance?.project ?? null });
      const snap = actors.snapshot(id);
      if (snap) track(snap.context);
      return hold(id, signal);
    },

    decide,

    /** A signed one-time link: the behaviour it names, for the approval it names. */
    async decideByLink(id: string, behavior: Behavior, token: string): Promise<ApprovalView> {
      const check = deps.signer.verify(token, clock.now());
      if (!check.ok) throw new DomainError('invalid', check.reason, 't');
      if (check.claim.approvalId !== id || check.claim.behavior !== behavior) throw new DomainError('invalid', 'the link is for another approval or answer', 't');
      return decide(id, { behavior }, 'link');
    },

    async get(id: string): Promise<ApprovalView | null> {
      const snap = actors.snapshot(id);
      if (snap) return viewOfContext(snap.context, snap.value);
      const row = await getApproval(deps.db, id);
      return row ? viewOfRow(row) : null;
    },

    async list(q: { state?: ApprovalStateValue; instance?: string; limit: number }): Promise<ApprovalView[]> {
      return (await listApprovals(deps.db, { state: q.state, instanceId: q.instance, limit: q.limit })).map((r) => {
        const snap = actors.snapshot(r.id);
        return snap ? viewOfContext(snap.context, snap.value) : viewOfRow(r);
      });
    },

    /** The address links point at when approvals.link_base_url is not set (the server's, once it listens). */
    setBaseUrl(url: string): void {
      baseUrl = config.linkBaseUrl ?? url.replace(/\/+$/, '');
    },

    linkPathsForSession,

    /** The address links are given at (approvals.link_base_url, else this server's), or null before it listens. */
    linkBase(): string | null {
      return baseUrl;
    },

    /** Absolute one-time links for the permission request a session waits on (for the phone's webhook), or null. */
    linksForSession(sessionId: string | undefined): { approve: string; deny: string } | null {
      const l = baseUrl === null ? null : linkPathsForSession(sessionId);
      return l ? { approve: baseUrl + l.approve, deny: baseUrl + l.deny } : null;
    },

    /** Pending approvals, from memory (the dashboard, the feed's snapshot). */
    pending(): ApprovalView[] {
      return [...actors.all()].filter(([, s]) => s.value === 'pending').map(([, s]) => viewOfContext(s.context, s.value));
    },

    /** Within an instance's transition: a session that no longer awaits went on without its pending approvals. */
    observeInstance(instanceId: string, snapshot: InstanceSnapshot): void {
      if (snapshot.value === 'awaiting') return;
      const ids = byInstance.get(instanceId);
      if (!ids) return;
      for (const id of ids) actors.forward(id, { type: 'approval.answered_elsewhere', how: `session_${snapshot.value}`, at: clock.now() });
    },

    /** After COMMIT: an approval that left pending answers its held hooks. */
    afterCommit(notice: Committed): void {
      for (const c of notice.changes) {
        if (c.kind !== 'approval' || c.snapshot.value === 'pending') continue;
        untrack(c.snapshot.context);
        const set = waiters.get(c.id);
        if (!set) continue;
        waiters.delete(c.id);
        const answer = answerOf(c.snapshot.context, c.snapshot.value);
        for (const w of set) w(answer);
      }
    },

    /** Stopping: held hooks are told to ask again (they reconnect to the next start). */
    stop(): void {
      for (const set of waiters.values()) for (const w of set) w('stopping');
      waiters.clear();
    },

    waiting: () => waiters.size,
  };
}

export type Approvals = ReturnType<typeof createApprovals>;
