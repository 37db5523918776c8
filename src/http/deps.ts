// What the HTTP layer is given: the running system's handles, never globals.
import type { Logger } from 'pino';
import type { Clock } from '../actors/clock.js';
import type { DeviceDirectory } from '../actors/devices.js';
import type { Hub } from '../actors/hub.js';
import type { Instances } from '../actors/instances.js';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { Writer } from '../db/writer.js';
import type { UsageService } from '../usage/service.js';

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
  usage: UsageService;
}
