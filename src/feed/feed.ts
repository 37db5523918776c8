// The WebSocket hub behind `ws://HOST:PORT/ws`: hears every commit, notification update, usage
// update, metric change, job run and usage sync (src/system/wiring.ts subscribes its handlers),
// turns each into numbered stream messages (seq, at) kept in a ring, and fans them out to the
// connected clients. Messages are numbered and the picture updated synchronously, in commit
// order; the fan-out waits for setImmediate, so an HTTP answer never waits for WebSocket writes.
// The handshake (path, access policy, query) is HTTP's (src/http/feed-upgrade.ts), which hands
// the feed each accepted socket. Pings, dead-client removal and slow-client drops run on the
// injected clock.
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Committed, Hub } from '../actors/runtime/root-machines.js';
import { listStopped } from '../db/queries/instances.js';
import type { NotificationUpdate } from '../notifications/service.js';
import { productivityView } from '../actors/mode-gate/productivity-gate.js';
import type { WorkMode } from '../actors/mode-gate/work-mode.js';
import type { Config } from '../config/config.js';
import type { Database } from '../db/database.js';
import { listEvents } from '../db/queries/events.js';
import { dayRange } from '../lib/timezone.js';
import type { TokenUsageUpdate, UsageService } from '../usage/service.js';
import type { MetricChange, MetricsStore } from '../metrics/store.js';
import { createConnection, messageData, type FeedConnection } from './connection.js';
import type { StreamType } from '../protocol/feed.js';
import type { ApprovalContext, ApprovalStateValue } from '../machines/approval-context.js';
import type { SessionContext } from '../machines/session-context.js';
import { createFeedRing, type HeldMessage } from './ring.js';
import type { FollowFn } from './session-follows.js';
import { createFeedState, once, type Outgoing, type RemoteInstanceView } from './state.js';

export const FEED_PATH = '/ws';

export type FeedSettings = Config['websocket'];

/** What the feed hears; `attach` subscribes them (src/system/wiring.ts) once the start picture is taken. */
export interface FeedHandlers {
  afterCommit(notice: Committed): void;
  notification(update: NotificationUpdate): void;
  usage(update: TokenUsageUpdate): void;
  /** On a hub: instances other machines reported, or whose machine went on- or offline. */
  remoteInstances(items: readonly RemoteInstanceView[]): void;
  /** A metric's committed change: the picture's metrics, and a `metric` message. */
  metric(change: MetricChange): void;
  /** A committed job run (`cron_job_executed`) or a usage sync's outcome (`sync_status`), as a message. */
  passOn(message: { type: 'cron_job_executed' | 'sync_status'; payload: Record<string, unknown> }): void;
}

export interface FeedDeps {
  hub: Pick<Hub, 'live'>;
  db: Database;
  workMode: Pick<WorkMode, 'view'>;
  usage: Pick<UsageService, 'totalsOfInstances' | 'devicesToday'>;
  /** On a hub: the instances other machines reported, for the start picture. */
  remoteInstances?: () => Promise<RemoteInstanceView[]>;
  /** The metrics store's values at start (later changes come through the `metric` handler). */
  metrics: Pick<MetricsStore, 'list'>;
  /** Subscribes the handlers; returns what unsubscribes them. Called in the turn the picture is taken. */
  attach(handlers: FeedHandlers): () => void;
  clock: Clock;
  logger: Logger;
  settings: FeedSettings;
  timezone: string;
  version: string;
  /** Approvals in the feed: their view, and decisions sent as `permission_response` (by: how the client was let in). */
  approvals?: {
    view(ctx: ApprovalContext, state: ApprovalStateValue): unknown;
    decide(approvalId: string, behavior: 'allow' | 'deny', message: string | undefined, by: 'loopback' | 'token'): Promise<unknown>;
  };
  /** A managed session as the API shows it, for `session_changed` (absent: not in the feed). */
  sessionView?(ctx: SessionContext, state: string): unknown;
  /** Managed sessions' output for clients that send `subscribe_session` (src/sessions/follow.ts). */
  followSession?: FollowFn;
}

export interface FeedStats {
  clients: number;
  seq: number;
  held: number;
  lagging: number;
  /** Bytes waiting in the clients' socket buffers, all together. */
  buffered_bytes: number;
  dropped_slow: number;
  dropped_dead: number;
}

export async function createFeed(deps: FeedDeps) {
  const { hub, clock, settings } = deps;
  const iso = () => new Date(clock.now()).toISOString();
  const startedAt = iso();
  // A seq of an earlier run is always lower than every seq of this one (they start from the
  // start time in microseconds), so `?since=` from before a restart gets a fresh snapshot.
  const firstSeq = clock.now() * 1000 + 1;
  const ring = createFeedRing(settings.history, firstSeq);
  const state = createFeedState({
    modeView: (ctx) => deps.workMode.view(ctx),
    gateView: productivityView,
    recentEvents: 50,
    recentStopped: 20,
    detailsMaxBytes: settings.eventDetailsMaxBytes,
    today: () => dayRange(clock.now(), deps.timezone).day,
    timezone: deps.timezone,
    approvalView: deps.approvals?.view,
    sessionView: deps.sessionView,
  });

  // The picture at start: what the database holds, then (synchronously, with the listeners
  // attached in the same turn) the live actors, which were restored from committed snapshots.
  const [stoppedRows, eventRows, today, remote] = await Promise.all([
    listStopped(deps.db, 20),
    listEvents(deps.db, { limit: 50 }),
    deps.usage.devicesToday(),
    deps.remoteInstances?.() ?? [],
  ]);
  const liveIds = hub.live().flatMap((a) => (a.kind === 'instance' ? [a.id] : []));
  const instanceTotals = await deps.usage.totalsOfInstances([...liveIds, ...stoppedRows.map((r) => r.id)]);
  state.init({ actors: hub.live(), remote, stopped: stoppedRows, events: eventRows, usage: { instances: instanceTotals, today: { day: today.day, devices: today.devices } }, metrics: deps.metrics.list() });

  const clients = new Set<FeedConnection>();
  let pending: HeldMessage[] = [];
  let flushScheduled = false;
  let closing: Promise<void> | null = null;
  let droppedSlow = 0;
  let droppedDead = 0;

  function flush(): void {
    flushScheduled = false;
    const batch = pending;
    pending = [];
    for (const c of clients) for (const m of batch) c.deliver(m);
  }

  function publish(out: Outgoing[]): void {
    if (out.length === 0) return;
    const at = iso();
    for (const o of out) {
      const seq = ring.head() + 1;
      const held: HeldMessage = { seq, type: o.type, data: once(() => messageData(o.type, seq, at, o.fields())) };
      ring.push(held);
      if (clients.size > 0) pending.push(held);
    }
    if (pending.length > 0 && !flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  }

  function guarded<T>(what: string, fn: (x: T) => void): (x: T) => void {
    return (x) => {
      try {
        fn(x);
      } catch (err) {
        deps.logger.error({ err }, `live feed: could not publish ${what}`);
      }
    };
  }

  const detach = deps.attach({
    afterCommit: guarded('a commit', (notice) => publish(state.applyCommit(notice))),
    notification: guarded('a notification', (u) => publish([state.applyNotification(u)])),
    usage: guarded('a usage update', (u) => publish([state.applyUsage(u)])),
    remoteInstances: guarded('instances of other machines', (items) => publish(state.applyRemote(items))),
    metric: guarded('a metric', (c) => publish([state.applyMetric(c)])),
    passOn: guarded('a message', ({ type, payload }) => publish([state.passOn(type, payload)])),
  });

  const server = { service: 'token-api', version: deps.version, started_at: startedAt };
  // Clients connecting (or catching up) together share one snapshot while nothing changes,
  // for a second at most (times in it, such as a mode's remaining_s, move on).
  let lastSnapshot: { seq: number; at: number; data: Buffer } | null = null;
  function snapshot(): { seq: number; data: Buffer } {
    const seq = ring.head();
    const now = clock.now();
    if (!lastSnapshot || lastSnapshot.seq !== seq || now - lastSnapshot.at >= 1000) {
      lastSnapshot = { seq, at: now, data: messageData('snapshot', seq, iso(), state.snapshotFields(server)) };
    }
    return lastSnapshot;
  }

  let tickTimer: TimerHandle | undefined;
  function tick(): void {
    tickTimer = undefined;
    for (const c of clients) {
      const r = c.tick();
      if (r === 'dead') {
        droppedDead += 1;
        deps.logger.info('live feed: a client stopped answering pings; disconnected');
      }
    }
    state.prune();
    if (!closing) tickTimer = clock.setTimeout(tick, settings.pingMs);
  }
  tickTimer = clock.setTimeout(tick, settings.pingMs);

  /** Why a new client cannot join now, or null. */
  function refusal(): string | null {
    if (closing) return 'token-api is stopping';
    if (clients.size >= settings.maxClients) return `the live feed has its maximum of ${settings.maxClients} clients`;
    return null;
  }

  /** Serves a client whose upgrade src/http/feed-upgrade.ts authorised, parsed and completed. */
  function accept(ws: WebSocket, client: { since?: number; types?: StreamType[]; remote: string | undefined; via?: string }): void {
    const approvals = deps.approvals;
    const by = client.via === 'token' || client.via === 'cookie' ? ('token' as const) : ('loopback' as const);
    if (closing) {
      ws.close(1001, 'server stopping');
      return;
    }
    const conn = createConnection(
      ws,
      {
        ring,
        snapshot,
        nowIso: iso,
        clock,
        maxBufferedBytes: settings.maxBufferedBytes,
        slowClientMs: settings.slowClientMs,
        snapshotIntervalMs: settings.snapshotIntervalMs,
        onClosed: () => clients.delete(conn),
        onSlow: () => {
          droppedSlow += 1;
          deps.logger.warn({ remote: client.remote }, 'live feed: a client stayed behind too long; disconnected');
        },
        log: (what, details) => deps.logger.info(details, `live feed: ${what}`),
        decide: approvals ? (id, behavior, message) => approvals.decide(id, behavior, message, by) : undefined,
        followSession: deps.followSession,
      },
      { types: client.types, remote: client.remote },
    );
    clients.add(conn);
    conn.start(client.since);
  }

  return {
    refusal,
    accept,

    /** Closes every client with a close frame saying why; resolves when they are gone. */
    close(reason = 'server stopping'): Promise<void> {
      closing ??= (async () => {
        clock.clearTimeout(tickTimer);
        detach();
        if (pending.length > 0) flush();
        const gone = [...clients].map((c) => c.closed);
        for (const c of clients) c.close(1001, reason);
        // A peer that does not answer the close frame is dropped after a second. Real time:
        // this is a safety valve at shutdown, when nothing may be driving an injected clock.
        const hard = setTimeout(() => {
          for (const c of clients) c.terminate();
        }, 1000);
        hard.unref();
        await Promise.all(gone);
        clearTimeout(hard);
      })();
      return closing;
    },

    stats(): FeedStats {
      let lagging = 0;
      let buffered = 0;
      for (const c of clients) {
        const st = c.stats();
        if (st.lagging) lagging += 1;
        buffered += st.buffered;
      }
      return { clients: clients.size, seq: ring.head(), held: ring.size(), lagging, buffered_bytes: buffered, dropped_slow: droppedSlow, dropped_dead: droppedDead };
    },
  };
}

export type Feed = Awaited<ReturnType<typeof createFeed>>;
