// GET /health: is it up, is the database answering, how many actors are live, and whether
// speech and sound can play here (a missing engine or player is reported here, once).
import Router from '@koa/router';
import { ping } from '../../db/database.js';
import type { AppDeps } from '../deps.js';
import { parseOr400 } from '../errors.js';
import { emptyQuerySchema } from '../../protocol/api.js';

export function healthRouter(deps: AppDeps): Router {
  const router = new Router();
  router.get('/health', async (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    let database: { ok: boolean; error?: string } = { ok: true };
    try {
      await ping(deps.db);
    } catch (err) {
      database = { ok: false, error: (err as Error).message };
    }
    const writer = deps.writer.stats();
    const byState: Record<string, number> = { idle: 0, working: 0, awaiting: 0 };
    for (const i of deps.instances.live()) byState[i.state] = (byState[i.state] ?? 0) + 1;
    const ok = database.ok && writer.healthy;
    ctx.body = {
      status: ok ? 'ok' : 'degraded',
      service: 'token-api',
      version: deps.version,
      uptime_s: Math.round((deps.clock.now() - deps.startedAt) / 1000),
      pid: process.pid,
      home: deps.config.home,
      codex: { enabled: deps.config.codex.enabled, home: deps.config.codex.home },
      database: {
        ...database,
        file: deps.db.file,
        synchronous: deps.config.sqliteSynchronous,
        transactions: writer.transactions,
        failures: writer.failures,
        writes_ok: writer.healthy,
        last_error: writer.lastError,
      },
      actors: { total: deps.hub.count(), instances: deps.hub.count('instance'), instances_by_state: byState, mode: deps.hub.count('mode'), gate: deps.hub.count('gate') },
      notifications: deps.notifications.status(),
      ...(deps.feed ? { websocket: deps.feed.stats() } : {}),
    };
  });
  return router;
}
