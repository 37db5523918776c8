// The WebSocket hub behind `ws://HOST:PORT/ws`: hears every commit (hub.onCommit), notification
// update and usage update, turns each into numbered stream messages (seq, at) kept in a ring,
// and fans them out to the connected clients. Messages are numbered and the picture updated
// synchronously, in commit order; the fan-out waits for setImmediate, so an HTTP answer never
// waits for WebSocket writes. Upgrades go through the same access policy as HTTP. Pings,
// dead-client removal and slow-client drops run on the injected clock.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { Clock, TimerHandle } from '../actors/clock.js';
import { GATE_ACTOR_ID } from '../actors/gate-kind.js';
import type { Hub, AnySnapshot } from '../actors/hub.js';
import type { InstanceRow } from '../actors/instance-view.js';
import { INSTANCE_MACHINE_ID } from '../actors/instances.js';
import { MODE_ACTOR_ID } from '../actors/mode-kind.js';
import type { Notifications } from '../actors/notifications.js';
import { productivityView } from '../actors/productivity-gate.js';
import type { WorkMode } from '../actors/work-mode.js';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import { listEvents } from '../db/queries.js';
import { gateMachine } from '../machines/gate.js';
import { modeMachine } from '../machines/mode.js';
import { dayRange } from '../usage/timezone.js';
import type { UsageService } from '../usage/service.js';
import type { MetricChange, MetricsStore } from '../metrics/store.js';
import { authorize, requestFacts, type AuthPolicy } from './auth.js';
import { createConnection, messageData, type FeedConnection } from './feed-connection.js';
import { feedQuerySchema, type StreamType } from './feed-messages.js';
import { createFeedRing, type HeldMessage } from './feed-ring.js';
import { createFeedState, once, type Outgoing } from './feed-state.js';
import { handshakeProblem, queryObject, refuseUpgrade, serveWithoutUpgrade, wantsWebSocket } from './feed-upgrade.js';
import { fieldsOf } from './errors.js';
import { parseInWords, sentenceOfFields } from '../validation-words.js';

export const FEED_PATH = '/ws';

export type FeedSettings = Config['websocket'];

export interface FeedDeps {
  hub: Hub;
  db: Database;
  workMode: WorkMode;
  notifications: Pick<Notifications, 'onUpdate'>;
  usage: Pick<UsageService, 'onUpdate' | 'totalsOfInstances' | 'devicesToday'>;
  /** The metrics store's values at start (later changes come through applyMetric). */
  metrics: Pick<MetricsStore, 'list'>;
  auth: AuthPolicy;
  peerAddress?: (req: IncomingMessage) => string | undefined;
  clock: Clock;
  logger: Logger;
  settings: FeedSettings;
  timezone: string;
  version: string;
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
    instanceMachineId: INSTANCE_MACHINE_ID,
    modeMachineId: modeMachine.id,
    gateMachineId: gateMachine.id,
    modeView: (ctx) => deps.workMode.view(ctx),
    gateView: productivityView,
    recentEvents: 50,
    recentStopped: 20,
    detailsMaxBytes: settings.eventDetailsMaxBytes,
    today: () => dayRange(clock.now(), deps.timezone).day,
    timezone: deps.timezone,
  });

  // The picture at start: what the database holds, then (synchronously, with the listeners
  // attached in the same turn) the live actors, which were restored from committed snapshots.
  const [stoppedRows, eventRows, today] = await Promise.all([
    deps.db.all<InstanceRow>("SELECT * FROM claude_instances WHERE status = 'stopped' ORDER BY stopped_at DESC LIMIT 20"),
    listEvents(deps.db, { limit: 50 }),
    deps.usage.devicesToday(),
  ]);
  const liveIds = [...hub.actorsOf(INSTANCE_MACHINE_ID)].map(([id]) => id);
  const instanceTotals = await deps.usage.totalsOfInstances([...liveIds, ...stoppedRows.map((r) => r.id)]);
  const actors: { id: string; machineId: string; snapshot: AnySnapshot }[] = [];
  for (const id of [MODE_ACTOR_ID, GATE_ACTOR_ID]) {
    const a = hub.get(id);
    if (a) actors.push({ id, machineId: a.logic.id, snapshot: a.getSnapshot() as AnySnapshot });
  }
  for (const [id, a] of hub.actorsOf(INSTANCE_MACHINE_ID)) actors.push({ id, machineId: INSTANCE_MACHINE_ID, snapshot: a.getSnapshot() as AnySnapshot });
  state.init({ instances: actors, stopped: stoppedRows, events: eventRows, usage: { instances: instanceTotals, today: { day: today.day, devices: today.devices } }, metrics: deps.metrics.list() });

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

  const unsubscribe = [
    hub.onCommit(guarded('a commit', (notice) => publish(state.applyCommit(notice)))),
    deps.notifications.onUpdate(guarded('a notification', (u) => publish([state.applyNotification(u)]))),
    deps.usage.onUpdate(guarded('a usage update', (u) => publish([state.applyUsage(u)]))),
  ];

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

  const wss = new WebSocketServer({ noServer: true, maxPayload: settings.maxMessageBytes, clientTracking: false, perMessageDeflate: false });
  // A handshake that ws refuses after handshakeProblem let it through (an Upgrade header
  // listing more than websocket, a malformed Sec-WebSocket-Protocol) is answered in the API's
  // error shape too, rather than ws's plain-text page.
  wss.on('wsClientError', (err: Error, socket: Duplex) => {
    refuseUpgrade(socket, 400, 'bad_request', `invalid WebSocket handshake: ${err.message}`);
  });

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

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path !== FEED_PATH) {
      refuseUpgrade(socket, 404, 'not_found', `no WebSocket endpoint at ${path.slice(0, 200)}; the live feed is ${FEED_PATH}`);
      return;
    }
    const remote = deps.peerAddress ? deps.peerAddress(req) : req.socket.remoteAddress;
    const decision = authorize(deps.auth, requestFacts(req, remote));
    if (!decision.ok) {
      if (decision.status === 403) refuseUpgrade(socket, 403, 'forbidden', decision.reason);
      else refuseUpgrade(socket, 401, 'unauthorized', decision.reason, { 'WWW-Authenticate': 'Bearer realm="token-api"' });
      return;
    }
    const query = queryObject(q === -1 ? '' : url.slice(q + 1));
    const parsed = query === null ? null : parseInWords(feedQuerySchema, query);
    if (!parsed || !parsed.success) {
      const fields = parsed ? fieldsOf(parsed.error) : { '(root)': 'repeats a parameter; expected since and types, each at most once' };
      refuseUpgrade(socket, 400, 'validation_failed', sentenceOfFields(fields, 'query parameter'), {}, fields);
      return;
    }
    const problem = handshakeProblem(req);
    if (problem) {
      refuseUpgrade(socket, problem.status, problem.status === 426 ? 'upgrade_required' : 'bad_request', problem.message, problem.headers);
      return;
    }
    if (closing) {
      refuseUpgrade(socket, 503, 'unavailable', 'token-api is stopping');
      return;
    }
    if (clients.size >= settings.maxClients) {
      refuseUpgrade(socket, 503, 'unavailable', `the live feed has its maximum of ${settings.maxClients} clients`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
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
            deps.logger.warn({ remote }, 'live feed: a client stayed behind too long; disconnected');
          },
          log: (what, details) => deps.logger.info(details, `live feed: ${what}`),
        },
        { types: parsed.data.types as StreamType[] | undefined, remote },
      );
      clients.add(conn);
      conn.start(parsed.data.since);
    });
  }

  return {
    handleUpgrade,

    /** A metric's committed change: the picture's metrics, and a `metric` message. */
    applyMetric: guarded('a metric', (c: MetricChange) => publish([state.applyMetric(c)])),

    /** A committed job run (`cron_job_executed`) or a usage sync's outcome (`sync_status`), as a message. */
    passOn: guarded('a message', ({ type, payload }: { type: 'cron_job_executed' | 'sync_status'; payload: Record<string, unknown> }) => publish([state.passOn(type, payload)])),

    /** Serves the feed on an http.Server (its `upgrade` event); other upgrades stay plain HTTP requests. */
    attach(httpServer: Server): void {
      httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (wantsWebSocket(req)) handleUpgrade(req, socket, head);
        else serveWithoutUpgrade(httpServer, req, socket);
      });
    },

    /** Closes every client with a close frame saying why; resolves when they are gone. */
    close(reason = 'server stopping'): Promise<void> {
      closing ??= (async () => {
        clock.clearTimeout(tickTimer);
        for (const u of unsubscribe) u();
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
        wss.close();
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
