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
import type { WebSessions } from './web-session.js';
import type { UsageService } from '../usage/service.js';

import type { Feed } from './feed.js';

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
  /** The web page's cookie sessions and one-time login codes. */
  web: WebSessions;
  /** Where the built web page is (default dist/web). */
  webRoot?: string;
  /** Where a request comes from, when not its socket's address (tests inject other hosts). */
  peerAddress?: (req: IncomingMessage) => string | undefined;
  usage: UsageService;
  /** The live WebSocket feed (for its figures in /health). */
  feed?: Pick<Feed, 'stats'>;
}
