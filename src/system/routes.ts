// Which functions of the running services each route and fast path gets: the one place that
// knows them all. A route is given exactly what it calls (src/http/routers.ts RouteDeps), and
// limits as numbers; reads go through services, never SQL.
import type { DeviceDirectory } from '../actors/instances/devices.js';
import type { HookSpool } from '../actors/instances/hook-spool.js';
import type { InstanceReads } from '../actors/instances/instance-reads.js';
import type { Instances } from '../actors/instances/instances.js';
import type { ProductivityGate } from '../actors/mode-gate/productivity-gate.js';
import type { WorkMode } from '../actors/mode-gate/work-mode.js';
import type { EventLog } from '../actors/runtime/event-log.js';
import type { CodexIntegration } from '../codex/codex.js';
import type { Config } from '../config/config.js';
import type { FleetHub } from '../fleet/fleet-hub.js';
import type { AuthPolicy } from '../http/auth.js';
import type { WebSessions } from '../http/web-session.js';
import { gateFastPath } from '../http/fast/gate.js';
import { hookFastPath } from '../http/fast/hook.js';
import type { FastPath } from '../http/handler.js';
import type { PeerAddress } from '../http/request.js';
import type { RouteDeps } from '../http/routers.js';
import type { Notifications } from '../notifications/service.js';
import type { UsageService } from '../usage/service.js';
import type { Sessions } from '../sessions/sessions.js';
import type { Accounts } from '../sessions/accounts.js';
import type { ConfigEditor } from '../config/editor.js';
import type { Cron } from '../cron/service.js';
import type { MetricsStore } from '../metrics/store.js';
import type { Obsidian } from '../obsidian/service.js';
import type { Vault } from '../obsidian/vault.js';
import type { StatusAnswer } from '../protocol/status.js';
import type { Logger } from 'pino';
import type { Views } from './views.js';
import type { Approvals } from '../approvals/service.js';

export interface RouteServices {
  config: Config;
  version: string;
  now: () => number;
  instances: Instances;
  instanceReads: InstanceReads;
  devices: DeviceDirectory;
  eventLog: EventLog;
  views: Views;
  spool: HookSpool;
  codex: CodexIntegration;
  notifications: Notifications;
  workMode: WorkMode;
  gate: ProductivityGate;
  usage: UsageService;
  fleet: FleetHub;
  /** GET /v1/machine: this server as a machine. */
  machineSelf(): Promise<unknown>;
  sessions: Sessions;
  accounts: Accounts;
  metrics: MetricsStore;
  cron: Cron;
  obsidian: Obsidian;
  vault: Vault;
  configEditor: ConfigEditor;
  /** GET /api/status (src/system/status.ts). */
  status: () => StatusAnswer;
  auth: AuthPolicy;
  web: WebSessions;
  approvals: Approvals;
}

export function routeDeps(s: RouteServices): RouteDeps {
  const { config } = s;
  return {
    hooks: { handleHook: s.instances.handleHook, bodyLimitBytes: config.hookBodyLimitBytes },
    instances: {
      register: s.instances.register,
      deregister: s.instances.deregister,
      heartbeat: s.instances.heartbeat,
      list: s.instanceReads.list,
      get: s.instanceReads.get,
      usageOf: s.usage.instanceTotals,
      remote: { list: s.fleet.instances, get: s.fleet.instance, isLocal: s.fleet.isLocal },
      bodyLimitBytes: config.bodyLimitBytes,
    },
    devices: { list: s.devices.list, get: s.devices.get, register: s.devices.register, update: s.devices.update, bodyLimitBytes: config.bodyLimitBytes },
    events: { list: s.eventLog.list },
    dashboard: { dashboard: s.views.dashboard },
    health: { health: s.views.health },
    notifications: {
      send: s.notifications.send,
      speak: s.notifications.speak,
      playSound: s.notifications.playSound,
      list: s.notifications.list,
      get: s.notifications.get,
      retry: s.notifications.retry,
      bodyLimitBytes: config.bodyLimitBytes,
    },
    root: { check: s.gate.check, version: s.version },
    hookSpool: { upload: s.spool.upload, maxBytes: config.hookSpoolMaxBytes },
    codex: { notify: s.codex.notify, bodyLimitBytes: config.hookBodyLimitBytes },
    mode: {
      view: s.workMode.view,
      update: s.workMode.update,
      state: s.views.state,
      modes: config.modes,
      stateVariables: config.stateVariables,
      bodyLimitBytes: config.bodyLimitBytes,
    },
    gate: { productivity: s.gate.productivity, check: s.gate.check },
    usage: { usage: s.usage, knownDevice: (id) => s.devices.get(id) !== undefined, now: s.now, bodyLimitBytes: config.bodyLimitBytes, usageBodyLimitBytes: config.usageBodyLimitBytes },
    openApi: { config, version: s.version },
    machines: {
      authenticate: s.fleet.authenticate,
      register: s.fleet.register,
      updateDoc: s.fleet.updateDoc,
      list: s.fleet.list,
      get: s.fleet.get,
      call: s.fleet.call,
      self: s.machineSelf,
      bodyLimitBytes: config.bodyLimitBytes,
    },
    sessions: {
      repos: s.sessions.repos,
      list: s.sessions.list,
      external: s.sessions.external,
      get: s.sessions.get,
      output: s.sessions.output,
      start: s.sessions.start,
      send: s.sessions.send,
      oneshot: s.sessions.oneshot,
      cancel: s.sessions.cancel,
      stop: s.sessions.stop,
      rename: s.sessions.rename,
      cleanup: s.sessions.cleanup,
      promptMaxBytes: config.sessions.promptMaxBytes,
      bodyLimitBytes: config.bodyLimitBytes,
    },
    accounts: { list: s.accounts.list, resetLimit: s.accounts.resetLimit, bodyLimitBytes: config.bodyLimitBytes },
    metrics: { list: s.metrics.list, get: s.metrics.get, set: s.metrics.set, delete: s.metrics.delete, bodyLimitBytes: config.bodyLimitBytes },
    cron: {
      list: s.cron.list,
      get: s.cron.get,
      create: s.cron.create,
      update: s.cron.update,
      remove: s.cron.remove,
      execute: s.cron.execute,
      runs: s.cron.runs,
      bodyLimitBytes: config.bodyLimitBytes,
    },
    obsidian: {
      commands: s.obsidian.commands,
      runCommand: s.obsidian.runCommand,
      assertEvalEnabled: s.obsidian.assertEvalEnabled,
      evaluate: s.obsidian.evaluate,
      tokenMatches: s.auth.tokenMatches,
      bodyLimitBytes: config.bodyLimitBytes,
    },
    vault: { note: s.vault.note, search: s.vault.search, tags: s.vault.tags, tagged: s.vault.tagged, recent: s.vault.recent, daily: s.vault.daily },
    config: { view: s.configEditor.view, update: s.configEditor.update, bodyLimitBytes: config.bodyLimitBytes },
    status: { status: s.status },
    web: { sessions: s.web, tokenMatches: s.auth.tokenMatches, publicUrl: config.web.publicUrl, host: config.host, port: config.port, bodyLimitBytes: config.bodyLimitBytes },
    approvals: {
      requestFromHook: s.approvals.requestFromHook,
      list: s.approvals.list,
      get: s.approvals.get,
      decide: s.approvals.decide,
      decideByLink: s.approvals.decideByLink,
      bodyLimitBytes: config.bodyLimitBytes,
      hookBodyLimitBytes: config.hookBodyLimitBytes,
    },
  };
}

/** The requests answered in front of Koa: gate checks, then hook events. */
export function fastPaths(s: { auth: AuthPolicy; peerAddress?: PeerAddress; logger: Logger; config: Config; gate: ProductivityGate; instances: Instances }): FastPath[] {
  return [
    gateFastPath({ auth: s.auth, peerAddress: s.peerAddress, check: s.gate.check }),
    hookFastPath({ auth: s.auth, peerAddress: s.peerAddress, handleHook: s.instances.handleHook, bodyLimitBytes: s.config.hookBodyLimitBytes, logger: s.logger }),
  ];
}
