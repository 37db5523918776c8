// Machines on a hub (/v1/machines): registration and document updates by a machine with its own
// token (checked here; auth lets a machine token through only to these routes), the list and
// each machine for any API caller, and calls run on a connected machine (an API request, or a
// clean stop). GET /v1/machine: this server as a machine (its id and change head).
import Router from '@koa/router';
import type { Context } from 'koa';
import { CallTimeoutError } from '../../fleet/calls.js';
import type { FleetHub } from '../../fleet/fleet-hub.js';
import { isMachineToken } from '../../fleet/tokens.js';
import { emptyBodySchema, emptyQuerySchema } from '../../protocol/api.js';
import { linkQuerySchema } from '../../protocol/approvals.js';
import { MACHINE_SOCKET_PATH, daemonStateUpdateSchema, machineApprovalParamsSchema, machineParamsSchema, machineRegisterSchema, metadataUpdateSchema, remoteApiCallSchema } from '../../protocol/fleet.js';
import { bearerToken } from '../auth.js';
import { jsonBody } from '../body.js';
import { HttpError, parseOr400 } from '../errors.js';
import { isPrefetch } from '../request.js';

export interface MachinesRoutes {
  authenticate: FleetHub['authenticate'];
  register: FleetHub['register'];
  updateDoc: FleetHub['updateDoc'];
  list: FleetHub['list'];
  get: FleetHub['get'];
  call: FleetHub['call'];
  /** This server as a machine. */
  self(): Promise<unknown>;
  bodyLimitBytes: number;
}

/** A machine token in the request, checked; null when the caller is an API caller (auth let it in). */
async function machineOf(ctx: Context, deps: Pick<MachinesRoutes, 'authenticate'>): Promise<Awaited<ReturnType<FleetHub['authenticate']>>> {
  const token = bearerToken(ctx.get('authorization') || undefined);
  if (!isMachineToken(token)) return null;
  const row = await deps.authenticate(token);
  if (!row) {
    ctx.set('WWW-Authenticate', 'Bearer realm="token-api"');
    throw new HttpError(401, 'unauthorized', 'this machine token is unknown or revoked (token-api machines list on the hub shows the tokens)');
  }
  return row;
}

export function machinesRouter(deps: MachinesRoutes): Router {
  const router = new Router();
  /** A call past its deadline is a 504: the machine may still act on it. */
  const call: MachinesRoutes['call'] = (...args) =>
    deps.call(...args).catch((err: unknown) => {
      if (err instanceof CallTimeoutError) throw new HttpError(504, 'timeout', `${err.message}; it may still carry the call out`);
      throw err;
    });
  const body = jsonBody(deps.bodyLimitBytes);
  const noQuery = (ctx: Context) => parseOr400(emptyQuerySchema, ctx.query, 'query');
  const idOf = (ctx: Context) => parseOr400(machineParamsSchema, ctx.params, 'params').id;

  router.get('/v1/machine', async (ctx) => {
    noQuery(ctx);
    ctx.body = await deps.self();
  });

  router.get('/v1/machines', async (ctx) => {
    noQuery(ctx);
    const machines = await deps.list();
    ctx.body = { machines, count: machines.length };
  });

  router.post('/v1/machines', body, async (ctx) => {
    noQuery(ctx);
    const token = await machineOf(ctx, deps);
    if (!token) throw new HttpError(401, 'unauthorized', 'registering needs the machine\'s own token (Authorization: Bearer tam_...; token-api machines add NAME on the hub prints one)');
    const b = parseOr400(machineRegisterSchema, ctx.request.body ?? {}, 'body');
    const r = await deps.register(token, b);
    ctx.status = r.created ? 201 : 200;
    ctx.body = { machine: r.machine, created: r.created };
  });

  router.get(MACHINE_SOCKET_PATH, (ctx) => {
    ctx.set('Upgrade', 'websocket');
    ctx.set('Connection', 'Upgrade');
    throw new HttpError(426, 'upgrade_required', `machines connect to ${MACHINE_SOCKET_PATH} with a WebSocket and their machine token (token-api serve --hub URL does)`);
  });

  router.get('/v1/machines/:id', async (ctx) => {
    noQuery(ctx);
    ctx.body = { machine: await deps.get(idOf(ctx)) };
  });

  for (const [path, kind, schema] of [
    ['metadata', 'metadata', metadataUpdateSchema],
    ['daemon-state', 'daemon_state', daemonStateUpdateSchema],
  ] as const) {
    router.put(`/v1/machines/:id/${path}`, body, async (ctx) => {
      noQuery(ctx);
      const id = parseOr400(machineParamsSchema, ctx.params, 'params').id;
      const token = await machineOf(ctx, deps);
      const b = parseOr400(schema, ctx.request.body ?? {}, 'body');
      const doc = 'metadata' in b ? b.metadata : b.daemon_state;
      const r = await deps.updateDoc(token, id, kind, doc, b.expected_version);
      if (r.ok) {
        ctx.body = { machine: r.machine };
        return;
      }
      const have = kind === 'metadata' ? r.current.metadata_version : r.current.daemon_state_version;
      ctx.status = 409;
      ctx.body = { error: 'conflict', message: `${kind} is at version ${have}, not ${b.expected_version}; apply the change to the current document and send it with expected_version ${have}`, current: r.current };
    });
  }

  // A machine's one-time approval link, as the hub put it in the phone's webhook: run on the
  // machine, which checks the signature; a prefetch or HEAD only looks there too.
  for (const action of ['approve', 'deny'] as const) {
    router.get(`/v1/machines/:id/approvals/:approval/${action}`, async (ctx) => {
      const { id, approval } = parseOr400(machineApprovalParamsSchema, ctx.params, 'params');
      const { t } = parseOr400(linkQuerySchema, ctx.query, 'query');
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Referrer-Policy', 'no-referrer');
      const method = ctx.method === 'HEAD' || isPrefetch(ctx) ? 'HEAD' : 'GET';
      const answer = await call(id, 'api', { method, path: `/api/approvals/${encodeURIComponent(approval)}/${action}?t=${encodeURIComponent(t)}` });
      ctx.status = answer.status;
      ctx.type = answer.headers['content-type'] ?? 'application/json';
      ctx.body = answer.body;
    });
  }

  router.post('/v1/machines/:id/api', body, async (ctx) => {
    noQuery(ctx);
    const id = idOf(ctx);
    const b = parseOr400(remoteApiCallSchema, ctx.request.body ?? {}, 'body');
    const answer = await call(id, 'api', { method: b.method, path: b.path, body: b.body }, b.timeout_ms);
    let parsed: unknown = answer.body;
    if (/json/.test(answer.headers['content-type'] ?? '')) {
      try {
        parsed = JSON.parse(answer.body);
      } catch {
        parsed = answer.body;
      }
    }
    ctx.body = { status: answer.status, body: parsed };
  });

  router.post('/v1/machines/:id/stop', body, async (ctx) => {
    noQuery(ctx);
    const id = idOf(ctx);
    parseOr400(emptyBodySchema, ctx.request.body ?? {}, 'body');
    const answer = await call(id, 'stop_daemon', {});
    if (answer.status >= 300) throw new HttpError(answer.status, 'unavailable', (JSON.parse(answer.body) as { message?: string }).message ?? 'the machine refused to stop');
    ctx.status = 202;
    ctx.body = { stopping: true, machine: id };
  });

  return router;
}
