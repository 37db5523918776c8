// Instance management (seed 000's paths): register, list, details, deregister, heartbeat.
import Router from '@koa/router';
import type { Context } from 'koa';
import { ConflictError, type RegisterInput } from '../../actors/instances/instances.js';
import { instanceView } from '../../actors/instances/instance-view.js';
import { getInstance, listInstances } from '../../db/queries/instances.js';
import type { AppDeps } from '../deps.js';
import { HttpError, parseOr400 } from '../errors.js';
import { peerOfContext } from '../request.js';
import { emptyBodySchema, emptyQuerySchema, idParamsSchema, instancesQuerySchema, registerBodySchema } from '../../protocol/api.js';
import { jsonBody } from '../body.js';

export function instancesRouter(deps: AppDeps): Router {
  const router = new Router({ prefix: '/api/instances' });
  const body = jsonBody(deps.config.bodyLimitBytes);

  const idOf = (ctx: Context) => parseOr400(idParamsSchema, ctx.params, 'params').id;
  const notFound = (id: string) => new HttpError(404, 'not_found', `no instance ${id}`);

  router.post('/register', body, async (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const b = parseOr400(registerBodySchema, ctx.request.body ?? {}, 'body');
    const input: RegisterInput = {
      instanceId: b.instance_id,
      sessionId: b.session_id,
      agentType: b.agent_type,
      tabName: b.tab_name ?? undefined,
      originType: b.origin?.type ?? b.origin_type,
      sourceIp: b.origin?.source_ip ?? (b.source_ip || undefined),
      deviceId: b.origin?.device_id ?? b.device_id ?? undefined,
      sshClient: b.ssh_client,
      pid: b.pid ?? undefined,
      tty: b.tty,
      workingDir: b.working_dir ?? undefined,
      transcriptPath: b.transcript_path ?? undefined,
    };
    try {
      const r = await deps.instances.register(input, peerOfContext(ctx).local);
      ctx.status = r.created ? 201 : 200;
      ctx.body = { ...r.instance, instance_id: r.instance.id, created: r.created };
    } catch (err) {
      if (err instanceof ConflictError) throw new HttpError(409, 'conflict', err.message, err.field ? { [err.field]: err.message } : undefined);
      throw err;
    }
  });

  router.get('/', async (ctx) => {
    const q = parseOr400(instancesQuerySchema, ctx.query, 'query');
    const rows = await listInstances(deps.db, { status: q.status, state: q.state, device: q.device, agentType: q.agent_type, limit: q.limit });
    ctx.body = { instances: rows.map(instanceView), count: rows.length };
  });

  router.get('/:id', async (ctx) => {
    const id = idOf(ctx);
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const row = await getInstance(deps.db, id);
    if (!row) throw notFound(id);
    ctx.body = { ...instanceView(row), usage: await deps.usage.instanceTotals(id) };
  });

  router.delete('/:id', async (ctx) => {
    const id = idOf(ctx);
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const view = await deps.instances.send(id, { type: 'instance.deregister', reason: 'deregistered', at: deps.clock.now() });
    if (view) {
      ctx.body = view;
      return;
    }
    const row = await getInstance(deps.db, id);
    if (!row) throw notFound(id);
    ctx.body = instanceView(row);
  });

  router.post('/:id/heartbeat', body, async (ctx) => {
    const id = idOf(ctx);
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    parseOr400(emptyBodySchema, ctx.request.body ?? {}, 'body');
    const view = await deps.instances.send(id, { type: 'instance.heartbeat', at: deps.clock.now() });
    if (view) {
      ctx.body = view;
      return;
    }
    const row = await getInstance(deps.db, id);
    if (!row) throw notFound(id);
    throw new HttpError(409, 'conflict', `instance ${id} is stopped; a new SessionStart or registration revives it`);
  });

  return router;
}
