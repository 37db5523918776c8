// What the HTTP layer is given: the running system's handles, never globals.
import type { Logger } from 'pino';
import type { Clock } from '../actors/clock.js';
import type { DeviceDirectory } from '../actors/devices.js';
import type { Hub } from '../actors/hub.js';
import type { HookSpool } from '../actors/hook-spool.js';
import type { CodexIntegration } from '../actors/codex.js';
import type { Instances } from '../actors/instances.js';
import type { Notifications } from '../actors/notifications.js';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { Writer } from '../db/writer.js';
import type { IncomingMessage } from 'node:http';
import type { ProductivityGate } from '../actors/productivity-gate.js';
import type { WorkMode } from '../actors/work-mode.js';
import type { AuthPolicy } from './auth.js';
import type { UsageService } from '../usage/service.js';

import type { Feed } from './feed.js';
import type { MetricsStore } from '../metrics/store.js';
import type { Cron } from '../cron/service.js';
import type { Obsidian } from '../obsidian/service.js';
import type { Vault } from '../obsidian/vault.js';
import type { ConfigEditor } from '../config/editor.js';
import type { StatusView } from '../system/status.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  clock: Clock;
  db: Database;
  writer: Writer;
  hub: Hub;
  instances: Instances;
  devices: DeviceDirectory;
  version: string;
  startedAt: number;
  /** The hook spool's replay (uploads from the hook script). */
  spool: HookSpool;
  /** Codex: the rollout watcher and `notify` events. */
  codex: CodexIntegration;
  /** Notification routing, outbox and channels. */
  notifications: Notifications;
  workMode: WorkMode;
  gate: ProductivityGate;
  auth: AuthPolicy;
  /** Where a request comes from, when not its socket's address (tests inject other hosts). */
  peerAddress?: (req: IncomingMessage) => string | undefined;
  usage: UsageService;
  /** The live WebSocket feed (for its figures in /health). */
  feed?: Pick<Feed, 'stats'>;
  metrics: MetricsStore;
  cron: Cron;
  obsidian: Obsidian;
  vault: Vault;
  /** GET/PUT /api/config. */
  configEditor: ConfigEditor;
  /** GET /api/status. */
  status: () => StatusView;
}
