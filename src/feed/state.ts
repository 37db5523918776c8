// The live feed's picture of the system, built only from what is committed: each commit notice
// (actor changes and event rows), notification update and usage update both changes this
// picture and becomes stream messages. Snapshots are made from this picture, never from actors
// that may be ahead of the database, so a snapshot and the messages after it tell one story.
import type { EventDraft } from '../db/queries/events.js';
import type { Committed, RootChange } from '../actors/runtime/root-machines.js';
import { instanceView, viewOfContext } from '../actors/instances/instance-view.js';
import type { InstanceRow } from '../db/queries/instances.js';
import { boundedJson } from '../lib/bounded-json.js';
import type { NotificationUpdate } from '../notifications/service.js';
import type { ProductivityView } from '../actors/mode-gate/productivity-gate.js';
import type { ModeView } from '../actors/mode-gate/work-mode.js';
import type { EventRecordRow } from '../db/queries/events.js';
import type { GateContext, GateStateValue } from '../machines/gate-context.js';
import type { ModeContext } from '../machines/mode-context.js';
import type { MetricChange, MetricView } from '../metrics/store.js';
import type { UsageRow, UsageTotals } from '../usage/report.js';
import type { TokenUsageUpdate } from '../usage/service.js';
import type { StreamType } from '../protocol/feed.js';
import type { ApprovalContext, ApprovalStateValue } from '../machines/approval-context.js';
import type { SessionContext } from '../machines/session-context.js';

/** A stream message before the feed numbers it: its type and the JSON of its other fields. */
export interface Outgoing {
  type: StreamType;
  /** `"field":value,...` without braces, appended after type, seq and at; built when first needed. */
  fields: () => string;
}

/** A value computed once, when first asked for. */
export function once<T>(f: () => T): () => T {
  let done = false;
  let v: T;
  return () => {
    if (!done) {
      v = f();
      done = true;
    }
    return v;
  };
}

const fixed = (text: string) => () => text;

export interface FeedStateDeps {
  modeView(ctx: ModeContext): ModeView;
  gateView(ctx: GateContext, state: GateStateValue): ProductivityView;
  /** Events kept for snapshots (the last 50). */
  recentEvents: number;
  /** Stopped instances kept for snapshots, most recent first. */
  recentStopped: number;
  /** Event details in the feed are cut down to this many bytes. */
  detailsMaxBytes: number;
  /** Today in the usage time zone, as YYYY-MM-DD. */
  today(): string;
  timezone: string;
  /** An approval as the API shows it (absent: approvals are not in the feed). */
  approvalView?(ctx: ApprovalContext, state: ApprovalStateValue): unknown;
  /** A managed session as the API shows it (absent: session changes are shown by their event rows only). */
  sessionView?(ctx: SessionContext, state: string): unknown;
}

/** An instance another machine reported to this hub, as it reported it, with its machine. */
export type RemoteInstanceView = Record<string, unknown> & { id: string; status: string; machine: { id: string } };

export interface InitialPicture {
  /** The live actors, as changes from nothing (`prev` null). */
  actors: RootChange[];
  /** On a hub: the instances other machines reported. */
  remote?: RemoteInstanceView[];
  stopped: InstanceRow[];
  /** Newest first. */
  events: EventRecordRow[];
  usage: { instances: Map<string, UsageTotals>; today: { day: string; devices: UsageRow[] } };
  /** The metrics store's values. */
  metrics: MetricView[];
}

type Totals = Pick<UsageTotals, 'input_tokens' | 'output_tokens' | 'cache_creation_tokens' | 'cache_read_tokens' | 'total_tokens' | 'cost_usd' | 'records'>;

/** Only the counts: the feed does not repeat model lists and first/last times. */
function totalsOf(t: Totals): Totals {
  return {
    input_tokens: t.input_tokens,
    output_tokens: t.output_tokens,
    cache_creation_tokens: t.cache_creation_tokens,
    cache_read_tokens: t.cache_read_tokens,
    total_tokens: t.total_tokens,
    cost_usd: t.cost_usd,
    records: t.records,
  };
}

const json = (v: unknown) => JSON.stringify(v);

/** Text read back from the event table as JSON: as it is when it parses, else as a string. */
function validJson(text: string): string {
  try {
    JSON.parse(text);
    return text;
  } catch {
    return JSON.stringify(text);
  }
}

export function createFeedState(deps: FeedStateDeps) {
  // Instance views are serialised when first needed (a client, a snapshot), not on the
  // commit path: with nobody connected a change costs next to nothing.
  /** Live instances by id, as the JSON of their view. */
  const live = new Map<string, () => string>();
  /** Recently stopped instances, most recent first: [id, view JSON]. */
  let stopped: [string, () => string][] = [];
  /** The mode's context as last committed: its view is made when a snapshot is (remaining_s moves). */
  let modeCtx: ModeContext | null = null;
  let gate: string | null = null;
  /** Newest last; each serialised when first needed, like the instance views. */
  const events: (() => string)[] = [];
  const usageInstances = new Map<string, Totals>();
  /** Pending approvals by id, as the JSON of their view, oldest first. */
  const approvals = new Map<string, string>();
  let usageDay = deps.today();
  let usageDevices = new Map<string, Totals & { day: string }>();
  /** Metric values by key, as last committed. */
  const metrics = new Map<string, MetricView>();

  /** Details already serialised (an event row's), cut down to the feed's limit. */
  function cutJson(text: string): string {
    if (Buffer.byteLength(text) <= deps.detailsMaxBytes) return text;
    try {
      return boundedJson(JSON.parse(text), deps.detailsMaxBytes);
    } catch {
      return boundedJson(text, deps.detailsMaxBytes);
    }
  }

  function detailsJson(e: EventDraft): string {
    if (e.detailsJson !== undefined) return cutJson(e.detailsJson);
    return e.details === undefined ? 'null' : boundedJson(e.details, deps.detailsMaxBytes);
  }

  function eventJson(type: string, instanceId: string | null, deviceId: string | null, details: string, createdAt: string): string {
    return `{"type":${json(type)},"instance_id":${json(instanceId)},"device_id":${json(deviceId)},"details":${details},"created_at":${json(createdAt)}}`;
  }

  function keepEvent(j: () => string): void {
    events.push(j);
    if (events.length > deps.recentEvents) events.splice(0, events.length - deps.recentEvents);
  }

  function setInstance(id: string, view: () => string, isStopped: boolean): void {
    stopped = stopped.filter(([s]) => s !== id);
    if (isStopped) {
      live.delete(id);
      stopped.unshift([id, view]);
      if (stopped.length > deps.recentStopped) stopped.length = deps.recentStopped;
    } else {
      live.set(id, view);
    }
  }

  /** A change as a feed message; null for changes the feed does not show (a request still pending; a kind with no view). */
  function applyChange(c: RootChange): Outgoing | null {
    switch (c.kind) {
      case 'instance': {
        const state = c.snapshot.value;
        const ctx = c.snapshot.context;
        const view = once(() => json(viewOfContext(ctx, state)));
        setInstance(c.id, view, state === 'stopped');
        return { type: 'instance', fields: () => `"instance":${view()}` };
      }
      case 'mode': {
        modeCtx = c.snapshot.context;
        const m = json(deps.modeView(modeCtx));
        return { type: 'mode', fields: fixed(`"mode":${m}`) };
      }
      case 'gate': {
        const g = json(deps.gateView(c.snapshot.context, c.snapshot.value));
        gate = g;
        return { type: 'gate', fields: fixed(`"gate":${g}`) };
      }
      case 'session': {
        const view = deps.sessionView;
        if (!view) return null;
        const { context, value } = c.snapshot;
        return { type: 'session_changed', fields: once(() => `"session":${json(view(context, String(value)))}`) };
      }
      case 'approval': {
        if (!deps.approvalView) return null;
        const pending = c.snapshot.value === 'pending';
        if (pending && c.prev !== null) return null;
        const a = json(deps.approvalView(c.snapshot.context, c.snapshot.value));
        if (pending) approvals.set(c.id, a);
        else approvals.delete(c.id);
        return { type: pending ? 'permission_prompt' : 'permission_resolved', fields: fixed(`"approval":${a}`) };
      }
    }
  }

  function rollDay(): void {
    const day = deps.today();
    if (day !== usageDay) {
      usageDay = day;
      usageDevices = new Map();
    }
  }

  return {
    /** The picture when the feed starts: live actors from memory, the rest from the database. */
    init(p: InitialPicture): void {
      for (const a of p.actors) applyChange(a);
      for (const r of p.remote ?? []) setInstance(`${r.machine.id}/${r.id}`, fixed(json(r)), r.status === 'stopped');
      for (const row of [...p.stopped].reverse()) if (!live.has(row.id)) setInstance(row.id, fixed(json(instanceView(row))), true);
      for (const row of [...p.events].reverse()) {
        keepEvent(fixed(eventJson(row.event_type, row.instance_id, row.device_id, row.details === null ? 'null' : cutJson(validJson(row.details)), row.created_at)));
      }
      for (const [id, t] of p.usage.instances) usageInstances.set(id, totalsOf(t));
      usageDay = p.usage.today.day;
      for (const r of p.usage.today.devices) {
        if (typeof r.device_id === 'string') usageDevices.set(r.device_id, { ...totalsOf(r), day: usageDay });
      }
      for (const m of p.metrics) metrics.set(m.key, m);
    },

    /** What a commit changed, as stream messages: actor changes first, then its event rows. */
    applyCommit(notice: Committed): Outgoing[] {
      const out: Outgoing[] = [];
      for (const c of notice.changes) {
        const m = applyChange(c);
        if (m) out.push(m);
      }
      for (const e of notice.events) {
        const j = once(() => eventJson(e.type, e.instanceId ?? null, e.deviceId ?? null, detailsJson(e), new Date(e.at).toISOString()));
        keepEvent(j);
        out.push({ type: 'event', fields: () => `"event":${j()}` });
      }
      return out;
    },

    /** Instances other machines reported (keyed by machine and id: two machines may use one id). */
    applyRemote(items: readonly RemoteInstanceView[]): Outgoing[] {
      return items.map((r) => {
        const view = fixed(json(r));
        setInstance(`${r.machine.id}/${r.id}`, view, r.status === 'stopped');
        return { type: 'instance', fields: () => `"instance":${view()}` };
      });
    },

    applyNotification(u: NotificationUpdate): Outgoing {
      if (u.kind === 'created') return { type: 'notification', fields: fixed(`"change":"created","notification":${json(u.notification)},"delivery":null`) };
      const delivery = { channel: u.channel, status: u.status, attempts: u.attempts, error: u.error };
      return { type: 'notification', fields: fixed(`"change":"delivery","notification":${json(u.notification)},"delivery":${json(delivery)}`) };
    },

    applyUsage(u: TokenUsageUpdate): Outgoing {
      if (u.instance_id && u.instance) usageInstances.set(u.instance_id, totalsOf(u.instance));
      rollDay();
      if (u.device_today.day === usageDay) usageDevices.set(u.device_id, { ...totalsOf(u.device_today), day: u.device_today.day });
      const { type: _type, at: _at, ...rest } = u;
      const fields = json(rest);
      return { type: 'token_usage_update', fields: fixed(fields.slice(1, -1)) };
    },

    applyMetric(c: MetricChange): Outgoing {
      if (c.metric) metrics.set(c.key, c.metric);
      else metrics.delete(c.key);
      return { type: 'metric', fields: fixed(json(c).slice(1, -1)) };
    },

    /** A message of a subsystem that keeps no picture here (a job's run, a usage sync): its fields as given. */
    passOn(type: Extract<StreamType, 'cron_job_executed' | 'sync_status'>, payload: Record<string, unknown>): Outgoing {
      return { type, fields: fixed(json(payload).slice(1, -1)) };
    },

    /** The fields of a snapshot message (everything but type, seq and at). */
    snapshotFields(server: { service: string; version: string; started_at: string }): string {
      rollDay();
      const instances = [...live.values(), ...stopped.map(([, v]) => v)].map((v) => v()).join(',');
      const usedInstances = [...usageInstances].filter(([id]) => live.has(id) || stopped.some(([s]) => s === id));
      const usage = {
        instances: Object.fromEntries(usedInstances),
        today: { day: usageDay, timezone: deps.timezone, devices: Object.fromEntries(usageDevices) },
      };
      const mode = modeCtx ? json(deps.modeView(modeCtx)) : 'null';
      return `"server":${json(server)},"instances":[${instances}],"mode":${mode},"gate":${gate ?? 'null'},"events":[${events.map((e) => e()).reverse().join(',')}],"usage":${json(usage)},"metrics":${json(Object.fromEntries(metrics))},"approvals":[${[...approvals.values()].join(',')}]`;
    },

    /** Forgets usage totals of instances that are neither live nor recently stopped (bounded memory). */
    prune(): void {
      for (const id of usageInstances.keys()) if (!live.has(id) && !stopped.some(([s]) => s === id)) usageInstances.delete(id);
    },

    counts: () => ({ live: live.size, stopped: stopped.length, events: events.length }),
  };
}

export type FeedState = ReturnType<typeof createFeedState>;
