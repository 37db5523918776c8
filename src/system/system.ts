// The composition root: opens the database, builds the hub and its actors, restores what was
// live, starts every subsystem and wires them (src/system/wiring.ts), and builds the HTTP app.
// createSystem(config) is everything but the socket (src/system/server.ts listens), for tests
// that drive the app directly. If start-up fails part way, what started is stopped again.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../lib/clock.js';
import { createDeviceActivity } from '../actors/instances/device-activity.js';
import { createDeviceDirectory } from '../actors/instances/devices.js';
import { createHub } from '../actors/runtime/hub.js';
import type { RootMachines } from '../actors/runtime/root-machines.js';
import { createWiring, ORDER } from './wiring.js';
import { createHookSpool, type DrainReport } from '../actors/instances/hook-spool.js';
import { createCodex } from '../codex/codex.js';
import type { ScanReport } from '../codex/watcher.js';
import { createInstanceKind } from '../actors/instances/instance-kind.js';
import { createInstances } from '../actors/instances/instances.js';
import type { ModeSource, ModeState } from '../actors/mode-gate/mode-source.js';
import { startNotifications } from '../notifications/start.js';
import { startProcessMonitor } from '../actors/instances/process-monitor.js';
import { startRetention } from '../actors/runtime/retention.js';
import { restoreInstances, type RestoreReport } from '../actors/instances/restore-instances.js';
import { startUsageWatcher } from '../usage/watcher.js';
import { resolveUserPath, type Config } from '../config/config.js';
import { openDatabase } from '../db/database.js';
import { migrate } from '../db/migrations.js';
import { createWriter } from '../db/writer.js';
import type Koa from 'koa';
import type { Notifications } from '../notifications/service.js';
import { createApp } from '../http/app.js';
import { attachFeed } from '../http/feed-upgrade.js';
import type { Server } from 'node:http';
import type { RootStart } from '../actors/runtime/root-actor.js';
import { createRequestListener, type RequestListener } from '../http/handler.js';
import { runInProcess } from '../http/in-process.js';
import { machineUpgrade } from '../http/machine-upgrade.js';
import { startFleet, type Fleet } from '../fleet/start.js';
import { MACHINE_FRAME_MAX_BYTES, MACHINE_SOCKET_PATH } from '../protocol/fleet.js';
import { apiRouters } from '../http/routers.js';
import type { PeerAddress } from '../http/request.js';
import { createInstanceReads } from '../actors/instances/instance-reads.js';
import { createEventLog } from '../actors/runtime/event-log.js';
import { fastPaths, routeDeps } from './routes.js';
import { createViews } from './views.js';
import { closeLogger, createLogger, type StderrLog } from '../lib/logger.js';
import { VERSION } from '../lib/version.js';
import type { InspectionEvent, Observer } from 'xstate';
import { createProductivityGate } from '../actors/mode-gate/productivity-gate.js';
import { createWorkMode } from '../actors/mode-gate/work-mode.js';
import { createAuthPolicy } from '../http/auth.js';
import { createWebSessions } from '../http/web-session.js';
import { DEFAULT_WEB_ROOT } from '../http/web-static.js';
import { ensureTokenFile } from '../http/token-file.js';
import { createUsageService, usageSettings } from '../usage/service.js';
import { createFeed } from '../feed/feed.js';
import { prepareDataDir } from '../service/data-dir.js';
import { createSessions, type Sessions } from '../sessions/sessions.js';
import { createAccounts } from '../sessions/accounts.js';
import { createTerminals } from '../sessions/terminal.js';
import { createTmux } from '../sessions/tmux.js';
import { followSession } from '../sessions/follow.js';
import { viewOfSnapshot, type InstanceOfSession } from '../sessions/session-view.js';
import { createLiveConfig } from '../config/live.js';
import { createConfigEditor } from '../config/editor.js';
import { createMetricsStore } from '../metrics/store.js';
import { createCron } from '../cron/service.js';
import { backupInto } from '../cron/backup-action.js';
import { createObsidian } from '../obsidian/service.js';
import { createVault } from '../obsidian/vault.js';
import type { InstalledHooks } from '../protocol/status.js';
import { statusView } from './status.js';
import { startRelayLink } from '../relay/link.js';
import { relayServes } from './relay.js';
import type { RelayConnector } from '../relay/connector.js';
import { createApprovals, type Approvals } from '../approvals/service.js';
import { createLinkSigner, loadLinkSecret } from '../approvals/links.js';

export interface SystemOptions {
  clock?: Clock;
  logger?: Logger;
  /** Replaces the liveness check of local agent processes (tests). */
  processExists?: (pid: number) => boolean;
  /** What stderr gets besides the file (the foreground `serve`: text; default none). */
  stderrLog?: StderrLog;
  /** Colours in the text lines on stderr. */
  color?: boolean;
  /** Wall-clock time for comparing with file times (hook spool lock, Codex rollouts); tests move it. */
  wallNow?: () => number;
  /** Where notification routing reads the work mode (default: work_music, no focus). */
  mode?: ModeSource;
  /** Connects every actor to an inspector (`serve --inspect`). */
  inspect?: Observer<InspectionEvent>;
  /** Replaces the socket's remote address for the access policy (tests). */
  peerAddress?: PeerAddress;
  /** startServer: take the data directory's lock (default true). */
  lock?: boolean;
  /**
   * Reads the hooks installed for Claude Code and Codex as their settings files say now (GET
   * /api/status). The CLI, which owns installing them, passes src/cli/install/installed-hooks.ts;
   * without it the status answers `hooks: null`.
   */
  installedHooks?: (config: Config) => InstalledHooks;
  /** Where the built web page is (default dist/web; tests build their own). */
  webRoot?: string;
  /** Stops this server as SIGTERM would (`serve` gives it; the hub's stop_daemon call uses it). */
  requestStop?: () => void;
}

/** What start-up did, for `serve`'s summary and the log. */
export interface StartReport {
  /** Instances restored from their snapshots, rebuilt from their rows, or retired. */
  restore: RestoreReport;
  /** What the start-up replay of the hook spool did. */
  spoolReplay: DrainReport;
  /** What the Codex watcher found at start (null: turned off). */
  codexScan: ScanReport | null;
  /** What the notification outbox recovered: expired local deliveries, rescheduled webhooks, intents grouped. */
  notificationsRecovered: Notifications['recovered'];
  /** How the work mode and the gate started: restored, created, or reset (their snapshot failed its checks). */
  mode: RootStart;
  gate: RootStart;
}

export interface System {
  config: Config;
  logger: Logger;
  /** The Koa app alone (no fast paths). */
  app: Koa;
  /** What node:http serves: the fast paths, then the app. */
  requestListener: RequestListener;
  /** The folder the web page is served from (/app/); `serve` says whether it is built. */
  webRoot: string;
  started: StartReport;
  /** Speech and sound as they are now (GET /health reports them too). */
  channels: () => Pick<ReturnType<Notifications['status']>, 'speech' | 'sound'>;
  /** The live feed (ws://…/ws) on a node:http server: its upgrades, and closing its clients. */
  feed: { attach(server: Server): void; close(): Promise<void> };
  /** The outbound connection to the relay (`relay` in the config), or null. */
  relay: RelayConnector | null;
  /** Machines (src/fleet): told the port once listening (the reporter starts); closed at stop. */
  fleet: Pick<Fleet, 'listening' | 'close'>;
  /**
   * Resolves once everything started so far is done: commits (timers' changes included),
   * notification deliveries, transcript reads, Codex scans, the event-log pruning, scheduled
   * runs in progress and metric expiries.
   */
  settle(): Promise<void>;
  /** Stops timers, flushes the writer and closes the database. */
  shutdown(): Promise<void>;
  /** Tells the hooks held for a decision to ask again (the server is stopping; they reconnect to its next start). */
  releaseHeld(): void;
  /** The address the server listens at: the approvals' one-time links point there unless approvals.link_base_url says otherwise. */
  listeningAt(url: string): void;
}

export async function createSystem(config: Config, options: SystemOptions = {}): Promise<System> {
  prepareDataDir(config);
  mkdirSync(config.home, { recursive: true, mode: 0o700 });
  const clock = options.clock ?? systemClock;
  const logger =
    options.logger ?? createLogger({ level: config.logLevel, file: config.logFile, stderr: options.stderrLog ?? 'none', color: options.color, maxBytes: config.logMaxBytes, maxFiles: config.logMaxFiles });
  const db = await openDatabase(config.databaseFile, { synchronous: config.sqliteSynchronous });
  // What has started so far, stopped in reverse order should start-up fail part way: no open
  // database, timer or watcher is left behind (the database closes last).
  const started: [string, () => unknown][] = [['database', () => db.close()]];
  try {
    const applied = await migrate(db);
    if (applied.length > 0) logger.info({ applied, file: config.databaseFile }, 'database schema migrated');
    const writer = createWriter(db);
    started.push(['writer', () => writer.close()]);
    const hub = createHub<RootMachines>({ writer, logger, eventDetailsMaxBytes: config.eventDetailsMaxBytes, inspect: options.inspect, order: ORDER });
    started.push(['actors', () => hub.stopAll()]);
    // Who hears what the hub commits, by name and in order (src/system/wiring.ts); each is
    // attached below where its subsystem is ready.
    const wiring = createWiring(hub);
    const devices = await createDeviceDirectory({ db, hub, configured: config.devices, localDevice: config.localDevice, now: () => clock.now(), logger });
    const instanceActors = hub.kind(createInstanceKind(clock, options.processExists));
    // Notifications start first (their planner must see intents emitted during restore), so they
    // read the work mode through a reference that the mode actor fills in below; until then
    // (intents emitted while instances are restored) the configured default mode applies.
    let workModeRef: { current(): ModeState } | null = null;
    const modeSource: ModeSource = options.mode ?? { current: () => workModeRef?.current() ?? { mode: config.defaultMode, focus: false } };
    const activity = await createDeviceActivity({ db, clock, windowMs: config.notifications.recentDeviceMs });
    const stopActivity = wiring.deviceActivity(activity);
    started.push(['device activity', stopActivity]);
    // The phone's webhook for a permission request carries its one-time links (the approvals start below).
    let approvalsRef: Pick<Approvals, 'linksForSession' | 'linkPathsForSession' | 'linkBase'> | null = null;
    const actionsFor = (n: { event: string; instance: string | null }) =>
      n.event === 'needs_permission' && n.instance !== null ? (approvalsRef?.linksForSession(instanceActors.snapshot(n.instance)?.context.sessionId) ?? null) : null;
    // Machines start below. On a hub: other machines' waits (is a notice of theirs superseded?).
    // On a machine reporting to a hub with hub.notifications "hub": its hub routes its webhooks while connected.
    let fleetRef: Pick<Fleet, 'hub' | 'reporter'> | null = null;
    const webhooksToHub = config.fleet.hubUrl && config.fleet.notifications === 'hub' ? () => fleetRef?.reporter?.status().connected ?? false : undefined;
    const notifying = await startNotifications({
      config,
      db,
      hub,
      instances: instanceActors,
      devices,
      clock,
      logger,
      mode: modeSource,
      recentDevices: () => activity.recent(),
      actionsFor,
      webhooksToHub,
      remoteWait: (id) => fleetRef?.hub.waitOf(id),
      approvalLinks: (id) => approvalsRef?.linkPathsForSession(instanceActors.snapshot(id)?.context.sessionId) ?? null,
      linkBase: () => approvalsRef?.linkBase() ?? null,
    });
    // Before any instance is restored: intents emitted while restoring are planned.
    const stopNotifying = wiring.notifications(notifying.notifications);
    const closeNotifications = () => {
      stopNotifying();
      notifying.close();
    };
    started.push(['notifications', closeNotifications]);
    // Hooks forward the TOKEN_API_SESSION of a managed session's child; sessions start below.
    let managedOf: (sessionId: string) => { session: string; kind: 'headless' | 'terminal' } | null = () => null;
    const instances = await createInstances({
      managedOf: (sessionId) => managedOf(sessionId),
      db,
      hub,
      actors: instanceActors,
      devices,
      clock,
      logger,
      localDevice: config.localDevice,
      profiles: notifying.voicePool.profiles,
      instanceExpiryMs: config.instanceExpiryMs,
      nameReuseMs: config.nameReuseMs,
      eventDetailsMaxBytes: config.eventDetailsMaxBytes,
    });
    wiring.instancesIndex(instances.index);
    const restore = await restoreInstances({
      db,
      hub,
      actors: instanceActors,
      logger,
      now: () => clock.now(),
      instanceExpiryMs: config.instanceExpiryMs,
      profiles: notifying.voicePool.profiles,
    });
    logger.info(restore, 'instances restored');
    // The work mode and the productivity gate (which follows the restored instances), and the
    // token and access policy for callers beyond loopback.
    const workMode = await createWorkMode({ db, hub, clock, logger, config });
    workModeRef = workMode;
    // The gate follows the instances from before its actor starts (it is brought in line with them then).
    const gate = await createProductivityGate({ db, hub, instances: instanceActors, follow: wiring.gate, clock, logger, mode: workMode, devices, localDevice: config.localDevice, config });
    logger.info({ mode: workMode.start.how, gate: gate.start.how }, 'mode and gate started');
    // Permission requests held for a decision from anywhere; those that were waiting come back
    // (their hooks reconnect), after the instances they belong to.
    const approvals = createApprovals({
      db,
      hub,
      clock,
      logger,
      config: config.approvals,
      signer: createLinkSigner(loadLinkSecret(join(config.home, 'approval-secret'))),
      handleHook: instances.handleHook,
    });
    approvalsRef = approvals;
    const stopApprovals = wiring.approvals(approvals);
    const closeApprovals = () => {
      approvals.stop();
      stopApprovals();
    };
    started.push(['approvals', closeApprovals]);
    const approvalsRestored = await approvals.restore();
    if (approvalsRestored.restored + approvalsRestored.retired > 0) logger.info(approvalsRestored, 'waiting approvals restored');
    const tokenFile = ensureTokenFile(config.tokenFile);
    if (tokenFile.created) logger.info({ file: config.tokenFile }, 'API token created (token-api token prints it)');
    if (tokenFile.repairedMode) logger.warn({ file: config.tokenFile }, 'the token file was readable by others; its mode is 0600 again');
    const web = createWebSessions({ token: tokenFile.token, now: () => clock.now(), sessionMs: config.web.sessionMs, linkMs: config.web.linkMs });
    const publicOrigin = config.web.publicUrl ? new URL(config.web.publicUrl).origin : null;
    const auth = createAuthPolicy({ token: tokenFile.token, gateCheckNetworks: config.gateCheckNetworks, web, publicOrigin });
    // Machines: this server as a hub for others, and its reporter to its own hub if one is set.
    let requestListener: RequestListener | null = null;
    const fleet = await startFleet({
      db,
      record: (extra) => hub.record(extra),
      clock,
      logger,
      config: config.fleet,
      home: config.home,
      version: VERSION,
      retentionMs: config.eventRetentionMs,
      maxPayload: MACHINE_FRAME_MAX_BYTES,
      apiToken: tokenFile.token,
      runApi: (r) => runInProcess(requestListener!, r),
      healthy: () => writer.stats().healthy,
      requestStop: options.requestStop,
      withChanges: (machine, events) => notifying.notifications.planForwarded(machine, events),
    });
    fleetRef = fleet;
    started.push(['machines', () => fleet.close()]);
    started.push(['machines\' notifications', wiring.fleetNotifications(fleet.hub, notifying.notifications)]);
    if (fleet.reporter) started.push(['hub reporter', wiring.fleet(fleet.reporter)]);
    const processMonitor = startProcessMonitor({ instances, clock, intervalMs: config.processCheckMs, logger, exists: options.processExists });
    started.push(['process monitor', () => processMonitor.stop()]);
    const retention = startRetention({ db, hub, clock, logger, retentionMs: config.eventRetentionMs });
    started.push(['event retention', () => retention.stop()]);
    // Events the hook script spooled while the server was down, replayed before anything new.
    const spool = createHookSpool({ dir: config.spoolDir, instances, hub, clock, logger, wallNow: options.wallNow, drainIntervalMs: config.hookSpoolDrainMs });
    started.push(['hook spool', () => spool.stop()]);
    const spoolReplay = await spool.start();
    const codex = createCodex({ config: config.codex, instanceExpiryMs: config.instanceExpiryMs, instances, hub, db, clock, logger, wallNow: options.wallNow });
    started.push(['codex watcher', () => codex.stop()]);
    const codexScan = await codex.start();

    const usage = createUsageService({
      db,
      hub,
      logger,
      now: () => clock.now(),
      liveAttribution: (sessionId) => {
        const ctx = instances.contextOfSession(sessionId);
        return ctx ? { instanceId: ctx.instanceId, deviceId: ctx.origin.deviceId } : null;
      },
      settings: usageSettings(config),
    });
    started.push(['usage', () => usage.idle()]);
    await usage.start();
    const usageWatcher = startUsageWatcher({ instances, usage, clock, logger, scanIntervalMs: config.usageScanIntervalMs, liveIntervalMs: config.usageLiveIntervalMs });
    const stopUsageWatcher = wiring.usage(usageWatcher);
    const closeUsageWatcher = () => {
      stopUsageWatcher();
      return usageWatcher.stop();
    };
    started.push(['usage watcher', closeUsageWatcher]);

    // What PUT /api/config may change while the server runs, and the subsystems that read it.
    const live = createLiveConfig(config);
    const metrics = await createMetricsStore({ db, hub, clock, logger, settings: live.metrics });
    started.push(['metrics', () => metrics.close()]);
    // Scheduled jobs: each built-in action is one function of what runs here.
    const cron = await createCron({
      db,
      hub,
      clock,
      logger,
      settings: live.cron,
      modes: () => Object.keys(config.modes),
      cwd: config.home,
      inspect: options.inspect,
      actions: {
        usageSync: (signal) => usage.sync({ signal }),
        usagePush: (o) => usage.push(o),
        backup: (o) => backupInto(config.databaseFile, o.dir ? resolveUserPath(o.dir) : join(config.home, 'backups'), o.keep ?? 7, new Date(clock.now())),
        notify: (o) => notifying.notifications.send(o),
        setMode: (o) => workMode.update({ mode: o.mode, minutes: o.minutes ?? null }),
      },
    });
    started.push(['scheduled jobs', () => cron.close(config.shutdownGraceMs)]);
    cron.followSettings((l) => live.onChange((changed) => changed.includes('cron') && l()));
    // Obsidian: its plugin over HTTPS, and the vault read from its folder.
    const obsidian = createObsidian({ settings: live.obsidian, hub, clock, logger });
    const vault = createVault(live.obsidian, () => clock.now());
    const configEditor = createConfigEditor({ live, record: (extra) => hub.record(extra), clock, logger });

    // A managed session's instance, once its hooks have registered it (the feed and the sessions show it).
    const instanceOfSession: InstanceOfSession = (claudeSessionId) => instances.contextOfSession(claudeSessionId)?.instanceId ?? null;
    // The live feed: committed changes, notifications and usage as numbered WebSocket messages.
    const feed = await createFeed({
      hub,
      db,
      workMode,
      usage,
      // In the turn the feed takes its start picture, so it misses no commit after it.
      metrics,
      attach: (handlers) => {
        const detach = [wiring.feed(handlers, { notifications: notifying.notifications, usage, metrics, cron }), wiring.fleetFeed(fleet.hub, handlers)];
        return () => detach.forEach((d) => d());
      },
      remoteInstances: () => fleet.hub.instances({ status: 'all', limit: 1000 }),
      clock,
      logger,
      settings: config.websocket,
      timezone: config.usageTimezone,
      version: VERSION,
      approvals: { view: approvals.view, decide: (id, behavior, message, by) => approvals.decide(id, { behavior, message }, by) },
      // Sessions start below; no client is let in before they have.
      followSession: (id, after, sink) => followSession(sessions, id, after, sink),
      sessionView: (ctx, state) => viewOfSnapshot(ctx, state, instanceOfSession),
    });
    started.push(['live feed', () => feed.close()]);
    // Managed sessions: those a previous run left are marked exited; children are stopped at shutdown.
    const accounts = await createAccounts({ db, hub, clock, accounts: config.accounts, fallbackMs: config.sessions.rateLimitFallbackMs });
    const instanceReads = createInstanceReads(db);
    // Terminal sessions run in token-api's own tmux server, its socket in the data directory.
    const terminals = createTerminals({ tmux: createTmux({ socket: join(config.home, 'tmux.sock'), configFile: join(config.home, 'tmux.conf') }), clock, logger, monitorMs: 1000, screenMs: 100 });
    const sessions = createSessions({
      accounts,
      terminals,
      hub,
      db,
      writer,
      clock,
      logger,
      config,
      instanceOf: instanceOfSession,
      liveInstances: async () =>
        (await instanceReads.list({ status: 'active', limit: 1000 })).map((i) => ({ id: i.id, name: i.display_name, agent: i.agent_type, sessionId: i.session_id, state: i.state, cwd: i.working_dir })),
    });
    managedOf = sessions.managedOf;
    started.push(['managed sessions', () => sessions.stopAll()]);
    await sessions.restore();

    // The HTTP side: each route gets the functions it calls (src/system/routes.ts).
    const eventLog = createEventLog(db);
    const startedAt = clock.now();
    const views = createViews({ config, db, writer, hub, clock, version: VERSION, startedAt, instances, instanceReads, eventLog, usage, workMode, gate, notifications: notifying.notifications, feed });
    const installedHooks = options.installedHooks;
    const status = () =>
      statusView({
        version: VERSION,
        startedAt,
        now: () => clock.now(),
        config: live.current,
        hooks: () => (installedHooks ? installedHooks(live.current()) : null),
        databaseOk: () => writer.stats().healthy,
        notifications: () => notifying.notifications.status(),
        instances: () => {
          const all = instances.live();
          const counts: Record<string, number> = { idle: 0, working: 0, awaiting: 0 };
          for (const i of all) counts[i.state] = (counts[i.state] ?? 0) + 1;
          return { ...counts, total: all.length };
        },
        mode: () => {
          const m = workMode.view();
          return { mode: m.mode, focus: m.focus };
        },
        jobs: () => cron.summary(),
        metrics: () => metrics.count(),
      });
    const routes = routeDeps({
      config,
      version: VERSION,
      now: () => clock.now(),
      instances,
      instanceReads,
      devices,
      eventLog,
      views,
      spool,
      codex,
      notifications: notifying.notifications,
      workMode,
      gate,
      usage,
      sessions,
      accounts,
      metrics,
      cron,
      obsidian,
      vault,
      configEditor,
      status,
      auth,
      web,
      approvals,
      fleet: fleet.hub,
      machineSelf: fleet.self,
    });
    const webRoot = options.webRoot ?? DEFAULT_WEB_ROOT;
    const app = createApp({ logger, auth, peerAddress: options.peerAddress, routers: apiRouters(routes), webRoot });
    requestListener = createRequestListener({ app, fastPaths: fastPaths({ auth, peerAddress: options.peerAddress, logger, config, gate, instances }), logger });
    // The relay this server reaches outbound (src/relay/; what it may do here: src/system/relay.ts).
    const relay = config.relay ? startRelayLink({ relay: config.relay, clock, logger, ...relayServes({ requestListener, apiToken: tokenFile.token, feed }) }) : null;
    if (relay) started.push(['relay', () => relay.stop()]);
    let shut: Promise<void> | null = null;
    const notifications = notifying.notifications;
    return {
      config,
      logger,
      app,
      requestListener,
      webRoot,
      relay,
      fleet,
      started: { restore, spoolReplay, codexScan, notificationsRecovered: notifications.recovered, mode: workMode.start, gate: gate.start },
      channels: () => {
        const { speech, sound } = notifications.status();
        return { speech, sound };
      },
      feed: {
        attach: (server) =>
          attachFeed(server, feed, {
            auth,
            peerAddress: options.peerAddress,
            maxPayload: config.websocket.maxMessageBytes,
            sessions,
            endpoints: { [MACHINE_SOCKET_PATH]: machineUpgrade({ auth, peerAddress: options.peerAddress, fleet: fleet.hub, logger, maxPayload: MACHINE_FRAME_MAX_BYTES }) },
          }),
        close: () => feed.close(),
      },
      releaseHeld: () => approvals.stop(),
      listeningAt: (url) => approvals.setBaseUrl(url),
      async settle() {
        await hub.flush();
        await notifications.settled();
        await usageWatcher.settled();
        await usage.idle();
        await codex.watcher?.idle();
        await retention.idle();
        await cron.idle();
        await metrics.settled();
        await hub.flush();
      },
      shutdown() {
        shut ??= (async () => {
          // Every step runs even when one before it failed, so the database is always closed.
          const failed: string[] = [];
          const step = async (name: string, fn: () => unknown) => {
            try {
              await fn();
            } catch (err) {
              failed.push(`${name}: ${(err as Error).message}`);
              logger.error({ err }, `stopping: ${name} failed`);
            }
          };
          approvals.stop();
          await step('live feed', () => feed.close());
          await step('machines', () => fleet.close());
          await step('managed sessions', () => sessions.stopAll());
          await step('scheduled jobs', () => cron.close(config.shutdownGraceMs));
          await step('metrics', () => metrics.close());
          if (relay) await step('relay', () => relay.stop());
          await step('hook spool', () => spool.stop());
          stopActivity();
          await step('process monitor', () => processMonitor.stop());
          await step('event retention', () => retention.stop());
          await step('codex watcher', async () => {
            codex.stop();
            await codex.watcher?.idle();
          });
          await step('notifications', closeNotifications);
          // Webhooks already on their way get to record their outcome, so none is sent twice.
          await step('notification deliveries', () => within(notifying.notifications.settled(), config.shutdownGraceMs));
          await step('usage watcher', async () => {
            await closeUsageWatcher();
            await usage.idle();
          });
          await step('snapshots', () => hub.flush());
          closeApprovals();
          hub.stopAll();
          await step('writer', () => writer.close());
          await step('database', () => db.close());
          logger.info(failed.length > 0 ? { failed } : {}, 'stopped');
          if (!options.logger) await closeLogger(logger);
          if (failed.length > 0) throw new Error(failed.join('; '));
        })();
        return shut;
      },
    };
  } catch (err) {
    for (const [name, stop] of started.reverse()) {
      try {
        await stop();
      } catch (e) {
        logger.warn({ err: e }, `start-up failed; stopping ${name} failed too`);
      }
    }
    logger.error({ err }, 'start-up failed');
    if (!options.logger) await closeLogger(logger);
    throw err;
  }
}

/** Resolves once p settles or ms have passed (what is still running is left to finish on its own). */
function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([p.then(() => undefined), late]).finally(() => clearTimeout(timer));
}
