// Routes alone: the Koa app built from fake services (test/support/fake-routes.ts), served on a
// loopback port, no SQLite and no actors. What a route owns: parsing its input, the status of
// each answer, each DomainError kind in the error shape, and that refused input never reaches
// the service. Flows (commit before answer, restarts, the feed) are the full-system tests'.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import type { InstanceView } from '../src/actors/instances/instance-view.js';
import { createApp } from '../src/http/app.js';
import { createAuthPolicy } from '../src/http/auth.js';
import { apiRouters } from '../src/http/routers.js';
import { DomainError, type DomainErrorKind } from '../src/lib/domain-error.js';
import { fakeRouteDeps, type RouteOverrides } from './support/fake-routes.js';

describe('routes on fake services', () => {
  let overrides: RouteOverrides = {};
  let server: Server;
  let url: string;

  before(async () => {
    // The routers are built per request from the overrides of the test that runs now.
    server = createServer((req, res) => {
      const app = createApp({ logger: pino({ level: 'silent' }), auth: createAuthPolicy({ token: 't', gateCheckNetworks: [] }), routers: apiRouters(fakeRouteDeps(overrides)) });
      void app.callback()(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    overrides = {};
  });

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(url + path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  const view = (id: string) => ({ id, state: 'idle' }) as unknown as InstanceView;

  describe('instances', () => {
    it('passes the parsed query to the list, with its defaults', async () => {
      const asked: unknown[] = [];
      overrides = { instances: { list: async (q) => (asked.push(q), [view('a')]) } };
      const r = await call('GET', '/api/instances?state=working&limit=5');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { instances: [{ id: 'a', state: 'idle' }], count: 1 });
      assert.deepEqual(asked, [{ status: 'active', state: 'working', device: undefined, agentType: undefined, limit: 5 }]);
    });

    it('refuses a bad query, id or body with 400 in the error shape and never calls the service', async () => {
      // Every function throws "not expected" (a 500) if the route reaches it.
      for (const [method, path, body] of [
        ['GET', '/api/instances?limit=0'],
        ['GET', '/api/instances?colour=red'],
        ['GET', '/api/instances/has%20space'],
        ['DELETE', '/api/instances/a?x=1'],
        ['POST', '/api/instances/a/heartbeat', { extra: true }],
        ['POST', '/api/instances/register', { instance_id: 'a', agent_type: 'gpt' }],
      ] as [string, string, unknown?][]) {
        const r = await call(method, path, body);
        assert.equal(r.status, 400, `${method} ${path}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error, 'validation_failed');
        assert.ok(r.body.message.length > 0);
        assert.ok(Object.keys(r.body.fields).length > 0, `${method} ${path} names its fields`);
      }
    });

    it('answers 404 for an instance the service does not have, 201 for a new registration, 200 for a known one', async () => {
      overrides = {
        instances: {
          get: async () => null,
          heartbeat: async () => null,
          register: async (input) => ({ instance: view(input.instanceId ?? 'x'), created: input.instanceId === 'new' }),
        },
      };
      assert.deepEqual(await call('GET', '/api/instances/gone'), { status: 404, body: { error: 'not_found', message: 'no instance gone' } });
      assert.equal((await call('POST', '/api/instances/gone/heartbeat', {})).status, 404);
      const created = await call('POST', '/api/instances/register', { instance_id: 'new' });
      assert.deepEqual([created.status, created.body.instance_id, created.body.created], [201, 'new', true]);
      const known = await call('POST', '/api/instances/register', { instance_id: 'old' });
      assert.deepEqual([known.status, known.body.created], [200, false]);
    });
  });

  describe('each DomainError kind, answered once by errors.ts', () => {
    const expected: Record<DomainErrorKind, [number, string]> = {
      invalid: [400, 'validation_failed'],
      not_found: [404, 'not_found'],
      conflict: [409, 'conflict'],
      not_installed: [409, 'unavailable'],
      forbidden: [403, 'forbidden'],
      bad_gateway: [502, 'bad_gateway'],
      not_running: [503, 'unavailable'],
    };
    for (const [kind, [status, code]] of Object.entries(expected) as [DomainErrorKind, [number, string]][]) {
      it(`${kind}: ${status} ${code}`, async () => {
        overrides = { notifications: { speak: async () => Promise.reject(new DomainError(kind, `the ${kind} case`, 'voice')) } };
        const r = await call('POST', '/api/notify/tts', { message: 'hello' });
        assert.equal(r.status, status);
        assert.equal(r.body.error, code);
        assert.equal(r.body.message, `the ${kind} case`);
        // The field at fault is named, except for a part that is not running (nothing to fix in the request).
        assert.deepEqual(r.body.fields, kind === 'not_running' ? undefined : { voice: `the ${kind} case` });
      });
    }
    it('several fields at fault: each named with what is wrong with it', async () => {
      const fields = { 'metrics.max_keys': 'is 0; expected at least 1', port: 'is "x"; expected a number' };
      overrides = { notifications: { speak: async () => Promise.reject(new DomainError('invalid', 'the change would make the config file invalid', undefined, fields)) } };
      const r = await call('POST', '/api/notify/tts', { message: 'hello' });
      assert.deepEqual(r, { status: 400, body: { error: 'validation_failed', message: 'the change would make the config file invalid', fields } });
    });
  });

  describe('notifications and the mode', () => {
    it('answers a notification 202 with what the service returned, and a retry of an unknown one 404', async () => {
      const sent: unknown[] = [];
      overrides = {
        notifications: {
          send: async (req) => (sent.push(req), { id: 'n-1' }) as never,
          retry: async (id) => Promise.reject(new DomainError('not_found', `no notification ${id}`)),
        },
      };
      const r = await call('POST', '/api/notify', { message: 'hi', urgency: 'urgent' });
      assert.deepEqual([r.status, r.body], [202, { id: 'n-1' }]);
      assert.deepEqual(sent, [{ message: 'hi', urgency: 'urgent' }]);
      assert.deepEqual(await call('POST', '/api/notifications/n-9/retry'), { status: 404, body: { error: 'not_found', message: 'no notification n-9' } });
    });

    it('takes only the configured modes and answers what the update returned', async () => {
      const updates: unknown[] = [];
      overrides = { mode: { update: async (u) => (updates.push(u), { mode: 'break' }) as never } };
      assert.equal((await call('POST', '/api/mode', { mode: 'nap' })).status, 400);
      assert.equal((await call('POST', '/api/mode', { mode: 'break', minutes: 0 })).status, 400);
      assert.deepEqual(updates, [], 'refused bodies never reach the mode');
      const r = await call('POST', '/api/mode', { mode: 'break', minutes: 15 });
      assert.deepEqual([r.status, r.body], [200, { mode: 'break' }]);
      assert.deepEqual(updates, [{ mode: 'break', minutes: 15 }]);
    });
  });
});
