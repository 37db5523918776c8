// Wiring: opens the database, builds the hub and its actors, restores what was live, and
// (startServer) listens. createSystem(config) is everything but the socket, for tests that
// drive the Koa app directly; startServer(config) takes the data directory's lock and resolves
// { url, closers, close }: parts with connections of their own add a closer (src/service/).
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { systemClock, type Clock } from './actors/clock.js';
import { createDeviceActivity } from './actors/device-activity.js';
import { createDeviceDirectory } from './actors/devices.js';
import { createHub } from './actors/hub.js';
import { createHookSpool, type DrainReport } from './actors/hook-spool.js';
import { createCodex } from './actors/codex.js';
import type { ScanReport } from './actors/codex-watcher.js';
import { createInstanceKind } from './actors/instance-kind.js';
import { createInstances } from './actors/instances.js';
import type { ModeSource, ModeState } from './actors/mode-source.js';
import { startNotifications } from './actors/notifications-system.js';
import { startProcessMonitor } from './actors/process-monitor.js';
import { startRetention } from './actors/retention.js';
import { restoreInstances, type RestoreReport } from './actors/restore-instances.js';
import { startUsageWatcher } from './actors/usage-watcher.js';
import type { Config } from './config.js';
import { openDatabase } from './db/database.js';
import { migrate } from './db/migrations.js';
import { createWriter } from './db/writer.js';
import { createApp } from './http/app.js';
import type { AppDeps } from './http/deps.js';
import { closeLogger, createLogger, type StderrLog } from './logger.js';
import { createClosers, type Closers } from './service/closers.js';
import { trackRequests } from './service/http-drain.js';
import { acquireLock, describeHolder, type LockInfo, type ServerLock } from './service/lock.js';
import { stopServer, type StopOptions, type StopReport } from './service/stop.js';
import { VERSION } from './version.js';
import type { IncomingMessage } from 'node:http';
import type { InspectionEvent, Observer } from 'xstate';
import { createProductivityGate } from './actors/productivity-gate.js';
import { createWorkMode } from './actors/work-mode.js';
import { createAuthPolicy } from './http/auth.js';
import { createWebSessions } from './http/web-session.js';
import { ensureTokenFile } from './http/token-file.js';
import { createUsageService, usageSettings, type UsageService } from './usage/service.js';
import { createFeed, type Feed } from './http/feed.js';
import { answerMalformedRequests } from './http/client-errors.js';
import { prepareDataDir } from './data-dir.js';

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
  peerAddress?: (req: IncomingMessage) => string | undefined;
  /** startServer: take the data directory's lock (default true). */
  lock?: boolean;
  /** Where the built web page is (default dist/web; tests build their own). */
  webRoot?: string;
}

export interface System {
  deps: AppDeps;
  app: ReturnType<typeof createApp>;
  restore: RestoreReport;
  processMonitor: ReturnType<typeof startProcessMonitor>;
  retention: ReturnType<typeof startRetention>;
  /** What the start-up replay of the hook spool did. */
  spoolReplay: DrainReport;
  /** What the Codex watcher found at start (null: turned off). */
  codexScan: ScanReport | null;
  usage: UsageService;
  usageWatcher: ReturnType<typeof startUsageWatcher>;
  /** The live feed (ws://…/ws); startServer attaches it to its http.Server. */
  feed: Feed;
  /** Stops timers, flushes the writer and closes the database. */
  shutdown(): Promise<void>;
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
    const hub = createHub({ writer, logger, eventDetailsMaxBytes: config.eventDetailsMaxBytes, inspect: options.inspect });
    started.push(['actors', () => hub.stopAll()]);
    const devices = await createDeviceDirectory({ db, hub, configured: config.devices, localDevice: config.localDevice, now: () => clock.now(), logger });
    const kind = createInstanceKind(clock, options.processExists);
    // Notifications start first (their planner must see intents emitted during restore), so they
    // read the work mode through a reference that the mode actor fills in below; until then
    // (intents emitted while instances are restored) the configured default mode applies.
    let workModeRef: { current(): ModeState } | null = null;
    const modeSource: ModeSource = options.mode ?? { current: () => workModeRef?.current() ?? { mode: config.defaultMode, focus: false } };
    const activity = await createDeviceActivity({ hub, db, clock, windowMs: config.notifications.recentDeviceMs });
    started.push(['device activity', () => activity.close()]);
    const notifying = await startNotifications({ config, db, hub, devices, clock, logger, mode: modeSource, recentDevices: () => activity.recent() });
    started.push(['notifications', () => notifying.close()]);
    const instances = await createInstances({
      db,
      hub,
      kind,
      devices,
      clock,
      logger,
      localDevice: config.localDevice,
      profiles: notifying.voicePool.profiles,
      instanceExpiryMs: config.instanceExpiryMs,
      nameReuseMs: config.nameReuseMs,
      eventDetailsMaxBytes: config.eventDetailsMaxBytes,
    });
    const restore = await restoreInstances({
      db,
      hub,
      kind,
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
    const gate = await createProductivityGate({ db, hub, clock, logger, mode: workMode, devices, localDevice: config.localDevice, config });
    logger.info({ mode: workMode.start.how, gate: gate.start.how }, 'mode and gate started');
    const tokenFile = ensureTokenFile(config.tokenFile);
    if (tokenFile.created) logger.info({ file: config.tokenFile }, 'API token created (token-api token prints it)');
    if (tokenFile.repairedMode) logger.warn({ file: config.tokenFile }, 'the token file was readable by others; its mode is 0600 again');
    const web = createWebSessions({ token: tokenFile.token, now: () => clock.now(), sessionMs: config.web.sessionMs, linkMs: config.web.linkMs });
    const publicOrigin = config.web.publicUrl ? new URL(config.web.publicUrl).origin : null;
    const auth = createAuthPolicy({ token: tokenFile.token, gateCheckNetworks: config.gateCheckNetworks, web, publicOrigin });
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
    const usageWatcher = startUsageWatcher({ hub, instances, usage, clock, logger, scanIntervalMs: config.usageScanIntervalMs, liveIntervalMs: config.usageLiveIntervalMs });
    started.push(['usage watcher', () => usageWatcher.stop()]);

    // The live feed: committed changes, notifications and usage as numbered WebSocket messages.
    const feed = await createFeed({
      hub,
      db,
      workMode,
      notifications: notifying.notifications,
      usage,
      auth,
      peerAddress: options.peerAddress,
      clock,
      logger,
      settings: config.websocket,
      timezone: config.usageTimezone,
      version: VERSION,
    });
    started.push(['live feed', () => feed.close()]);

    const deps: AppDeps = {
      config,
      logger,
      clock,
      db,
      writer,
      hub,
      instances,
      devices,
      version: VERSION,
      startedAt: clock.now(),
      spool,
      codex,
      notifications: notifying.notifications,
      workMode,
      gate,
      auth,
      web,
      webRoot: options.webRoot,
      peerAddress: options.peerAddress,
      usage,
      feed,
    };
    const app = createApp(deps);
    let shut: Promise<void> | null = null;
    return {
      deps,
      app,
      restore,
      processMonitor,
      retention,
      spoolReplay,
      codexScan,
      usage,
      usageWatcher,
      feed,
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
          await step('live feed', () => feed.close());
          await step('hook spool', () => spool.stop());
          activity.close();
          await step('process monitor', () => processMonitor.stop());
          await step('event retention', () => retention.stop());
          await step('codex watcher', async () => {
            codex.stop();
            await codex.watcher?.idle();
          });
          await step('notifications', () => notifying.close());
          // Webhooks already on their way get to record their outcome, so none is sent twice.
          await step('notification deliveries', () => within(notifying.notifications.settled(), config.shutdownGraceMs));
          await step('usage watcher', async () => {
            await usageWatcher.stop();
            await usage.idle();
          });
          await step('snapshots', () => hub.flush());
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

export interface RunningServer {
  url: string;
  port: number;
  system: System;
  server: Server;
  /** Parts with connections of their own (the WebSocket feed) add a closer; close() runs them. */
  closers: Closers;
  /** Stops accepting, lets requests in flight finish, runs the closers, shuts the system down. */
  close(options?: StopOptions): Promise<StopReport>;
}

export async function startServer(config: Config, options: SystemOptions = {}): Promise<RunningServer> {
  // A data directory that cannot be written is refused before the lock is attempted in it.
  prepareDataDir(config);
  let stale: LockInfo | null | undefined;
  const lock: ServerLock | null = options.lock === false ? null : acquireLock(config.home, { version: VERSION, onStale: (s) => (stale = s) });
  let system: System;
  try {
    system = await createSystem(config, options);
  } catch (err) {
    lock?.release();
    throw err;
  }
  if (stale !== undefined) system.deps.logger.warn({ previous: stale ? describeHolder(stale) : 'unreadable' }, 'took over the lock of a server that is gone');
  const server = createServer(system.app.callback());
  server.keepAliveTimeout = 65_000;
  const drain = trackRequests(server);
  const closers = createClosers();
  system.feed.attach(server);
  // WebSocket clients are told (close 1001) as soon as the server stops accepting.
  closers.add({ name: 'live feed', close: () => system.feed.close() });
  answerMalformedRequests(server);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await system.shutdown().catch(() => undefined);
    lock?.release();
    throw err;
  }
  // Once listening, an error of the listening socket (EMFILE when a flood of connections uses
  // up the file descriptors) is logged; unheard, it would end the process.
  server.on('error', (err) => system.deps.logger.error({ err }, 'the HTTP server reported an error; it goes on listening'));
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`;
  system.deps.logger.info({ url, home: config.home, database: config.databaseFile }, 'listening');
  try {
    lock?.listening(url, port);
  } catch (err) {
    system.deps.logger.warn({ err, file: lock?.file }, 'could not record the port in the lock file');
  }
  let closing: Promise<StopReport> | null = null;
  return {
    url,
    port,
    system,
    server,
    closers,
    close(stop: StopOptions = {}) {
      closing ??= stopServer({ drain, closers, shutdown: () => system.shutdown(), lock }, stop.graceMs ?? config.shutdownGraceMs, stop.onWaiting);
      return closing;
    },
  };
}
