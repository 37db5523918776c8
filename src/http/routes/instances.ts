// Instance management (seed 000's paths): register, list, details, deregister, heartbeat. Reads
// come from the committed projection (src/actors/instances/instance-reads.ts).
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Instances, RegisterInput } from '../../actors/instances/instances.js';
import type { InstanceReads } from '../../actors/instances/instance-reads.js';
import type { FleetHub } from '../../fleet/fleet-hub.js';
import type { UsageService } from '../../usage/service.js';
import { HttpError, parseOr400 } from '../errors.js';
import { peerOfContext } from '../request.js';
import { emptyBodySchema, emptyQuerySchema, idParamsSchema, instancesQuerySchema, registerBodySchema } from '../../protocol/api.js';
import { jsonBody } from '../body.js';

export interface InstancesRoutes {
  register: Instances['register'];
  deregister: Instances['deregister'];
  heartbeat: Instances['heartbeat'];
  list: InstanceReads['list'];
  get: InstanceReads['get'];
  /** The tokens an instance used. */
  usageOf: UsageService['instanceTotals'];
  /** On a hub: the instances other machines reported (src/fleet/fleet-hub.ts). */
  remote: {
    list: FleetHub['instances'];
    get: FleetHub['instance'];
    /** Whether a machine id or name is this server itself. */
    isLocal: FleetHub['isLocal'];
  };
  bodyLimitBytes: number;
}

export function instancesRouter(deps: InstancesRoutes): Router {
  const router = new Router({ prefix: '/api/instances' });
  const body = jsonBody(deps.bodyLimitBytes);

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
    const r = await deps.register(input, peerOfContext(ctx).local);
    ctx.status = r.created ? 201 : 200;
    ctx.body = { ...r.instance, instance_id: r.instance.id, created: r.created };
  });

  router.get('/', async (ctx) => {
    const q = parseOr400(instancesQuerySchema, ctx.query, 'query');
    const filter = { status: q.status, state: q.state, device: q.device, agentType: q.agent_type, limit: q.limit };
    // This server's own instances carry no `machine`; those other machines reported carry theirs.
    const local = q.machine && !deps.remote.isLocal(q.machine) ? [] : await deps.list(filter);
    const remote = q.machine && deps.remote.isLocal(q.machine) ? [] : await deps.remote.list({ ...filter, machine: q.machine });
    const instances = [...local, ...remote].slice(0, q.limit);
    ctx.body = { instances, count: instances.length };
  });

  router.get('/:id', async (ctx) => {
    const id = idOf(ctx);
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const view = await deps.get(id);
    if (!view) {
      const remote = await deps.remote.get(id);
      if (remote.length > 1) throw new HttpError(409, 'conflict', `instance ${id} exists on several machines (${remote.map((r) => (r.machine as { name: string }).name).join(', ')}); ask GET /api/instances?machine=NAME`);
      if (remote.length === 0) throw notFound(id);
      ctx.body = remote[0];
      return;
    }
    ctx.body = { ...view, usage: await deps.usageOf(id) };
  });

  router.delete('/:id', async (ctx) => {
    const id = idOf(ctx);
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const view = await deps.deregister(id);
    if (!view) throw notFound(id);
    ctx.body = view;
  });

  router.post('/:id/heartbeat', body, async (ctx) => {
    const id = idOf(ctx);
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    parseOr400(emptyBodySchema, ctx.request.body ?? {}, 'body');
    const view = await deps.heartbeat(id);
    if (!view) throw notFound(id);
    ctx.body = view;
  });

  return router;
}
