// Wiring: opens the database, builds the hub and its actors, restores what was live, and
// (startServer) listens. createSystem(config) is everything but the socket, for tests that
// drive the Koa app directly; startServer(config) resolves { url, close }.
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { systemClock, type Clock } from './actors/clock.js';
import { createDeviceDirectory } from './actors/devices.js';
import { createHub } from './actors/hub.js';
import { createHookSpool, type DrainReport } from './actors/hook-spool.js';
import { createCodex } from './actors/codex.js';
import { createInstanceKind } from './actors/instance-kind.js';
import { createInstances } from './actors/instances.js';
import { DEFAULT_MODE, type ModeSource, type ModeState } from './actors/mode-source.js';
import { startNotifications } from './actors/notifications-system.js';
import { startProcessMonitor } from './actors/process-monitor.js';
import { restoreInstances, type RestoreReport } from './actors/restore-instances.js';
import { startUsageWatcher } from './actors/usage-watcher.js';
import type { Config } from './config.js';
import { openDatabase } from './db/database.js';
import { migrate } from './db/migrations.js';
import { createWriter } from './db/writer.js';
import { createApp } from './http/app.js';
import type { AppDeps } from './http/deps.js';
import { createLogger } from './logger.js';
import { VERSION } from './version.js';
import type { IncomingMessage } from 'node:http';
import type { InspectionEvent, Observer } from 'xstate';
import { createProductivityGate } from './actors/productivity-gate.js';
import { createWorkMode } from './actors/work-mode.js';
import { createAuthPolicy } from './http/auth.js';
import { ensureTokenFile } from './http/token-file.js';
import { createUsageService, type UsageService } from './usage/service.js';
import { answerMalformedRequests } from './http/client-errors.js';
import { prepareDataDir } from './data-dir.js';

export interface SystemOptions {
  clock?: Clock;
  logger?: Logger;
  /** Replaces the liveness check of local agent processes (tests). */
  processExists?: (pid: number) => boolean;
  /** Log to stderr as well as the file (the foreground `serve`). */
  logToStderr?: boolean;
  /** Wall-clock time for comparing with file times (hook spool lock, Codex rollouts); tests move it. */
  wallNow?: () => number;
  /** Where notification routing reads the work mode (default: work_music, no focus). */
  mode?: ModeSource;
  /** Connects every actor to an inspector (`serve --inspect`). */
  inspect?: Observer<InspectionEvent>;
  /** Replaces the socket's remote address for the access policy (tests). */
  peerAddress?: (req: IncomingMessage) => string | undefined;
}

export interface System {
  deps: AppDeps;
  app: ReturnType<typeof createApp>;
  restore: RestoreReport;
  processMonitor: ReturnType<typeof startProcessMonitor>;
  /** What the start-up replay of the hook spool did. */
  spoolReplay: DrainReport;
  usage: UsageService;
  usageWatcher: ReturnType<typeof startUsageWatcher>;
  /** Stops timers, flushes the writer and closes the database. */
  shutdown(): Promise<void>;
}

export async function createSystem(config: Config, options: SystemOptions = {}): Promise<System> {
  prepareDataDir(config);
  mkdirSync(config.home, { recursive: true, mode: 0o700 });
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: config.logLevel, file: config.logFile, stderr: options.logToStderr ?? false });
  const db = await openDatabase(config.databaseFile, { synchronous: config.sqliteSynchronous });
  try {
    const applied = await migrate(db);
    if (applied.length > 0) logger.info({ applied, file: config.databaseFile }, 'database schema migrated');
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  const writer = createWriter(db);
  const hub = createHub({ writer, logger, eventDetailsMaxBytes: config.eventDetailsMaxBytes, inspect: options.inspect });
  const devices = await createDeviceDirectory({ db, hub, configured: config.devices, now: () => clock.now() });
  const kind = createInstanceKind(clock);
  // Notifications start first (their planner must see intents emitted during restore), so they
  // read the work mode through a reference that the mode actor fills in below.
  let workModeRef: { current(): ModeState } | null = null;
  const modeSource: ModeSource = options.mode ?? { current: () => workModeRef?.current() ?? { mode: DEFAULT_MODE, focus: false } };
  const notifying = await startNotifications({ config, db, hub, devices, clock, logger, mode: modeSource });
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
  const auth = createAuthPolicy({ token: tokenFile.token, gateCheckNetworks: config.gateCheckNetworks });
  const processMonitor = startProcessMonitor({ instances, clock, intervalMs: config.processCheckMs, logger, exists: options.processExists });
  // Events the hook script spooled while the server was down, replayed before anything new.
  const spool = createHookSpool({ dir: config.spoolDir, instances, hub, clock, logger, wallNow: options.wallNow });
  const spoolReplay = await spool.start();
  const codex = createCodex({ config: config.codex, instanceExpiryMs: config.instanceExpiryMs, instances, hub, db, clock, logger, wallNow: options.wallNow });
  await codex.start();

  const usage = createUsageService({
    db,
    hub,
    logger,
    now: () => clock.now(),
    settings: {
      timezone: config.usageTimezone,
      roots: { claudeDirs: config.usageClaudeDirs, codexDirs: config.usageCodexDirs },
      localDevice: config.localDevice,
      pricing: config.usagePricing,
    },
  });
  await usage.start();
  const usageWatcher = startUsageWatcher({ hub, instances, usage, clock, logger, scanIntervalMs: config.usageScanIntervalMs, liveIntervalMs: config.usageLiveIntervalMs });

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
    peerAddress: options.peerAddress,
    usage,
  };
  const app = createApp(deps);
  let shut: Promise<void> | null = null;
  return {
    deps,
    app,
    restore,
    processMonitor,
    spoolReplay,
    usage,
    usageWatcher,
    shutdown() {
      shut ??= (async () => {
        processMonitor.stop();
        codex.stop();
        await codex.watcher?.idle();
        notifying.close();
        await usageWatcher.stop();
        await usage.idle();
        await hub.flush();
        hub.stopAll();
        await writer.close();
        await db.close();
        logger.info('stopped');
        logger.flush?.();
      })();
      return shut;
    },
  };
}

export interface RunningServer {
  url: string;
  port: number;
  system: System;
  server: Server;
  close(): Promise<void>;
}

export async function startServer(config: Config, options: SystemOptions = {}): Promise<RunningServer> {
  const system = await createSystem(config, options);
  const server = createServer(system.app.callback());
  server.keepAliveTimeout = 65_000;
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
    await system.shutdown();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`;
  system.deps.logger.info({ url, home: config.home, database: config.databaseFile }, 'listening');
  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    system,
    server,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await system.shutdown();
      })();
      return closing;
    },
  };
}
