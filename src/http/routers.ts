// Every router of the API, each given exactly the functions it calls (its *Routes interface):
// src/system/routes.ts builds these from the running services, route tests from fakes.
// src/protocol/api-routes.ts lists each of their routes for OpenAPI; a new route is a router
// entry here, its entry there, and a section in docs/api.md (test/openapi.test.ts checks all three).
import type Router from '@koa/router';
import { approvalsRouter, type ApprovalsRoutes } from './routes/approvals.js';
import { codexRouter, type CodexRoutes } from './routes/codex.js';
import { configRouter, type ConfigRoutes } from './routes/config.js';
import { cronRouter, type CronRoutes } from './routes/cron.js';
import { dashboardRouter, type DashboardRoutes } from './routes/dashboard.js';
import { devicesRouter, type DevicesRoutes } from './routes/devices.js';
import { eventsRouter, type EventsRoutes } from './routes/events.js';
import { feedRouter } from './routes/feed.js';
import { gateRouter, type GateRoutes } from './routes/gate.js';
import { healthRouter, type HealthRoutes } from './routes/health.js';
import { hookSpoolRouter, type HookSpoolRoutes } from './routes/hook-spool.js';
import { hooksRouter, type HooksRoutes } from './routes/hooks.js';
import { instancesRouter, type InstancesRoutes } from './routes/instances.js';
import { machinesRouter, type MachinesRoutes } from './routes/machines.js';
import { metricsRouter, type MetricsRoutes } from './routes/metrics.js';
import { modeRouter, type ModeRoutes } from './routes/mode.js';
import { notificationsRouter, type NotificationsRoutes } from './routes/notifications.js';
import { obsidianRouter, type ObsidianRoutes } from './routes/obsidian.js';
import { openApiRouter, type OpenApiRoutes } from './routes/openapi.js';
import { rootRouter, type RootRoutes } from './routes/root.js';
import { sessionsRouter, type SessionsRoutes } from './routes/sessions.js';
import { accountsRouter, type AccountsRoutes } from './routes/accounts.js';
import { statusRouter, type StatusRoutes } from './routes/status.js';
import { usageRouter, type UsageRoutes } from './routes/usage.js';
import { vaultRouter, type VaultRoutes } from './routes/vault.js';
import { webRouter, type WebRoutes } from './routes/web.js';

export interface RouteDeps {
  hooks: HooksRoutes;
  instances: InstancesRoutes;
  devices: DevicesRoutes;
  events: EventsRoutes;
  dashboard: DashboardRoutes;
  health: HealthRoutes;
  notifications: NotificationsRoutes;
  root: RootRoutes;
  hookSpool: HookSpoolRoutes;
  codex: CodexRoutes;
  mode: ModeRoutes;
  gate: GateRoutes;
  usage: UsageRoutes;
  openApi: OpenApiRoutes;
  machines: MachinesRoutes;
  sessions: SessionsRoutes;
  accounts: AccountsRoutes;
  metrics: MetricsRoutes;
  cron: CronRoutes;
  obsidian: ObsidianRoutes;
  vault: VaultRoutes;
  config: ConfigRoutes;
  status: StatusRoutes;
  web: WebRoutes;
  approvals: ApprovalsRoutes;
}

export function apiRouters(d: RouteDeps): Router[] {
  return [
    hooksRouter(d.hooks),
    instancesRouter(d.instances),
    devicesRouter(d.devices),
    eventsRouter(d.events),
    dashboardRouter(d.dashboard),
    healthRouter(d.health),
    notificationsRouter(d.notifications),
    rootRouter(d.root),
    hookSpoolRouter(d.hookSpool),
    codexRouter(d.codex),
    modeRouter(d.mode),
    gateRouter(d.gate),
    usageRouter(d.usage),
    feedRouter(),
    openApiRouter(d.openApi),
    machinesRouter(d.machines),
    sessionsRouter(d.sessions),
    accountsRouter(d.accounts),
    metricsRouter(d.metrics),
    cronRouter(d.cron),
    obsidianRouter(d.obsidian),
    vaultRouter(d.vault),
    configRouter(d.config),
    statusRouter(d.status),
    webRouter(d.web),
    approvalsRouter(d.approvals),
  ];
}
