// Answers that gather from several subsystems at once: the dashboard, GET /health and GET
// /api/state. Each reads through the services (never SQL): committed instances and events,
// usage totals, the mode and the gate from memory, the writer's and the feed's figures.
import type { InstanceReads } from '../actors/instances/instance-reads.js';
import type { Instances } from '../actors/instances/instances.js';
import type { ProductivityGate } from '../actors/mode-gate/productivity-gate.js';
import type { WorkMode } from '../actors/mode-gate/work-mode.js';
import type { EventLog } from '../actors/runtime/event-log.js';
import type { Hub } from '../actors/runtime/root-machines.js';
import type { Config } from '../config/config.js';
import { ping, type Database } from '../db/database.js';
import type { Writer } from '../db/writer.js';
import type { Feed } from '../feed/feed.js';
import type { Clock } from '../lib/clock.js';
import type { Notifications } from '../notifications/service.js';
import type { UsageService } from '../usage/service.js';

export interface ViewsDeps {
  config: Pick<Config, 'home' | 'codex' | 'sqliteSynchronous'>;
  db: Database;
  writer: Pick<Writer, 'stats'>;
  hub: Pick<Hub, 'count'>;
  clock: Clock;
  version: string;
  startedAt: number;
  instances: Pick<Instances, 'live'>;
  instanceReads: Pick<InstanceReads, 'list'>;
  eventLog: Pick<EventLog, 'list'>;
  usage: Pick<UsageService, 'totalsOfInstances' | 'devicesToday'>;
  workMode: Pick<WorkMode, 'view' | 'context'>;
  gate: Pick<ProductivityGate, 'productivity'>;
  notifications: Pick<Notifications, 'status'>;
  /** The live feed's figures (absent before it starts). */
  feed?: Pick<Feed, 'stats'>;
}

/** Live instances by state (idle, working, awaiting always present). */
function byState(states: Iterable<string>): Record<string, number> {
  const counts: Record<string, number> = { idle: 0, working: 0, awaiting: 0 };
  for (const s of states) counts[s] = (counts[s] ?? 0) + 1;
  return counts;
}

export function createViews(deps: ViewsDeps) {
  /** The mode, focus and gate, under the seed's names too (productivity_active, focus_enabled). */
  function modeFields() {
    const mode = deps.workMode.view();
    const gate = deps.gate.productivity();
    return { mode: mode.mode, mode_deadline: mode.deadline, focus: mode.focus, focus_enabled: mode.focus, productivity_active: gate.productive, gate };
  }

  return {
    /** GET /api/dashboard: what the terminal dashboard shows, in one answer. */
    async dashboard(q: { events: number }) {
      const [instances, events] = await Promise.all([deps.instanceReads.list({ status: 'active', limit: 1000 }), deps.eventLog.list({ limit: q.events })]);
      const counts = byState(instances.map((i) => i.state));
      // Tokens per instance (records, cost) and today's totals per device, for the dashboard.
      const [tokens, today] = await Promise.all([deps.usage.totalsOfInstances(instances.map((i) => i.id)), deps.usage.devicesToday()]);
      return {
        instances,
        counts,
        recent_events: events,
        ...modeFields(),
        usage: {
          instances: Object.fromEntries(instances.map((i) => [i.id, tokens.get(i.id) ?? null])),
          today,
        },
      };
    },

    /** GET /health: is it up, is the database answering, the actors, notifications and the feed. */
    async health() {
      let database: { ok: boolean; error?: string } = { ok: true };
      try {
        await ping(deps.db);
      } catch (err) {
        database = { ok: false, error: (err as Error).message };
      }
      const writer = deps.writer.stats();
      const ok = database.ok && writer.healthy;
      const { hub, config } = deps;
      return {
        status: ok ? 'ok' : 'degraded',
        service: 'token-api',
        version: deps.version,
        uptime_s: Math.round((deps.clock.now() - deps.startedAt) / 1000),
        pid: process.pid,
        home: config.home,
        codex: { enabled: config.codex.enabled, home: config.codex.home },
        database: {
          ...database,
          file: deps.db.file,
          synchronous: config.sqliteSynchronous,
          transactions: writer.transactions,
          failures: writer.failures,
          writes_ok: writer.healthy,
          last_error: writer.lastError,
        },
        actors: {
          total: hub.count(),
          instances: hub.count('instance'),
          instances_by_state: byState(deps.instances.live().map((i) => i.state)),
          mode: hub.count('mode'),
          gate: hub.count('gate'),
        },
        notifications: deps.notifications.status(),
        ...(deps.feed ? { websocket: deps.feed.stats() } : {}),
      };
    },

    /** GET /api/state: the mode, focus, state variables, the gate and instance counts by state. */
    state() {
      const { modes: _modes, ...mode } = deps.workMode.view();
      const live = deps.instances.live();
      return { ...mode, ...deps.workMode.context().vars, gate: deps.gate.productivity(), instances: { ...byState(live.map((i) => i.state)), total: live.length } };
    },
  };
}

export type Views = ReturnType<typeof createViews>;
