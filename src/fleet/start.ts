// Builds this server's part in a fleet: the hub side (always there; it serves whichever machines
// hold a token from `token-api machines add`) and, when `hub.url` or `serve --hub` names a hub,
// the reporter to it. The reporter starts once the server listens (its daemon state names the port).
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { ConfigError } from '../config/config.js';
import type { FleetConfig } from '../config/fleet.js';
import type { Database } from '../db/database.js';
import type { EventDraft } from '../db/queries/events.js';
import { fleetIdentity } from '../db/queries/fleet.js';
import type { WriteOp } from '../db/writer.js';
import type { Clock } from '../lib/clock.js';
import { createFleetHub, type FleetHubDeps } from './fleet-hub.js';
import { ownDaemonState, ownMetadata } from './own-documents.js';
import { createReporter, type ReporterDeps } from './reporter.js';

/** This machine's token for its hub: TOKEN_API_HUB_TOKEN, else the token file (none: a configuration error, said at start). */
function hubToken(config: FleetConfig): string {
  if (config.hubTokenEnv) return config.hubTokenEnv.trim();
  try {
    const token = readFileSync(config.hubTokenFile, 'utf8').trim();
    if (token) return token;
  } catch {
    // said below
  }
  throw new ConfigError(
    `reporting to the hub ${config.hubUrl} needs this machine's token: run \`token-api machines add NAME\` on the hub and put what it prints in ${config.hubTokenFile} (mode 0600) or in TOKEN_API_HUB_TOKEN`,
  );
}

export interface FleetDeps {
  db: Database;
  record(extra: { ops?: WriteOp[]; events?: EventDraft[] }): Promise<unknown>;
  clock: Clock;
  logger: Logger;
  config: FleetConfig;
  home: string;
  version: string;
  /** event_retention_days: the machines' events on this hub are kept as long. */
  retentionMs: number;
  maxPayload: number;
  apiToken: string;
  runApi: ReporterDeps['runApi'];
  healthy: () => boolean;
  requestStop?: () => void;
  withChanges?: FleetHubDeps['withChanges'];
}

export async function startFleet(deps: FleetDeps) {
  const { config, clock } = deps;
  const identity = await fleetIdentity(deps.db);
  const startedAt = clock.now();
  let port = 0;
  let status: 'running' | 'shutting-down' = 'running';
  const metadata = () => ownMetadata({ version: deps.version, dataDir: deps.home });
  const daemonState = () => ownDaemonState({ port, startedAt, status });
  const token = config.hubUrl ? hubToken(config) : null;
  const fleetHub = createFleetHub({
    db: deps.db,
    record: deps.record,
    clock,
    logger: deps.logger,
    heartbeatMs: config.heartbeatMs,
    callTimeoutMs: config.callTimeoutMs,
    retentionMs: deps.retentionMs,
    withChanges: deps.withChanges,
    local: () => ({ id: identity.machine, name: hostname(), metadata: metadata(), daemonState: daemonState(), startedAt }),
  });
  await fleetHub.start();
  const reporter =
    config.hubUrl && token
      ? createReporter({
          db: deps.db,
          hubUrl: config.hubUrl,
          token,
          clock,
          logger: deps.logger,
          maxPayload: deps.maxPayload,
          metadata,
          daemonState,
          runApi: deps.runApi,
          apiToken: deps.apiToken,
          requestStop: deps.requestStop,
          healthy: deps.healthy,
          heartbeatMs: config.heartbeatMs,
        })
      : null;
  return {
    hub: fleetHub,
    reporter,
    /** The server listens: the reporter starts. */
    listening(p: number): void {
      port = p;
      reporter?.start();
    },
    /** GET /v1/machine: this server's id, change head, and its hub connection. */
    async self(): Promise<unknown> {
      const now = await fleetIdentity(deps.db);
      return {
        id: now.machine,
        name: hostname(),
        sync: { head: now.head, epoch: now.epoch },
        hub: reporter ? { url: config.hubUrl, notifications: config.notifications === 'hub' && reporter.status().connected ? 'hub' : 'here', ...reporter.status() } : null,
      };
    },
    /** The server is stopping: report it to the hub, close every machine socket. */
    async close(): Promise<void> {
      status = 'shutting-down';
      fleetHub.close();
      await reporter?.stop();
    },
  };
}

export type Fleet = Awaited<ReturnType<typeof startFleet>>;
