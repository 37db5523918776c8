// Every route of the HTTP API, one entry each: what it takes (path, query, body: the same zod
// schemas that validate requests) and what it answers. The OpenAPI document is built from
// this list (openapi.ts), and test/openapi.test.ts fails when a route of the app is missing
// here: adding a route is adding its entry. Mode names and state variables come from the
// configuration, as in the routes themselves.
import type { z } from 'zod';
import type { Config } from '../config/config.js';
import * as A from './answers.js';
import { codexNotifySchema } from './codex.js';
import { checkQuerySchema, modeBodySchema, rootQuerySchema, stateBodySchema } from './mode-gate.js';
import { notificationParamsSchema, notificationsQuerySchema, notifyBodySchema, soundBodySchema, ttsBodySchema } from './notifications.js';
import {
  dashboardQuerySchema,
  deviceIdParamsSchema,
  devicePatchSchema,
  deviceRegisterSchema,
  emptyBodySchema,
  emptyQuerySchema,
  eventsQuerySchema,
  hookBodySchema,
  hookQuerySchema,
  idParamsSchema,
  instancesQuerySchema,
  registerBodySchema,
} from './api.js';
import { deviceParamsSchema, deviceUsageQuerySchema, pushBodySchema, usageQuerySchema } from './usage.js';
import * as F from './fleet.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface Answer {
  description: string;
  /** A JSON answer's schema. */
  schema?: z.ZodType;
  /** A non-JSON answer: its media type and an example. */
  text?: { type: string; example: string };
}

export interface ApiRoute {
  method: Method;
  /** OpenAPI form: /api/instances/{id}. */
  path: string;
  tag: 'hooks' | 'instances' | 'devices' | 'events' | 'notifications' | 'mode and gate' | 'usage' | 'service' | 'machines';
  summary: string;
  description?: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** A JSON body (`optional`: may be left out), or another media type described in words. */
  body?: { schema: z.ZodType; optional?: boolean } | { type: string; description: string };
  answers: Record<number, Answer>;
  /** Error statuses this route gives besides the ones every route may (400, 401, 403, 413, 415, 503). */
  errors?: number[];
}

const ok = (description: string, schema: z.ZodType): Answer => ({ description, schema });

export function apiRoutes(config: Pick<Config, 'modes' | 'stateVariables'>): ApiRoute[] {
  const modes = Object.keys(config.modes);
  return [
    {
      method: 'post',
      path: '/api/hooks',
      tag: 'hooks',
      summary: 'A Claude Code hook event, as Claude Code hands it to a hook',
      description:
        'The body is read as JSON whatever its Content-Type. An unknown session registers an instance; the answer comes after the change is committed. Query parameters: what the hook script adds.',
      query: hookQuerySchema,
      body: { schema: hookBodySchema },
      answers: { 200: ok('the instance took the event (or it was a replay of one it took)', A.hookOutcomeSchema), 202: ok('recorded only (an unknown hook, a stopped instance)', A.hookOutcomeSchema), 204: { description: 'reply=none: no body' } },
    },
    {
      method: 'post',
      path: '/api/hooks/spool',
      tag: 'hooks',
      summary: 'Hook events the hook script spooled while token-api was down, replayed in the order the hooks ran, each once',
      description: 'A piece of a spool (at most hook_spool_max_bytes; a larger spool comes in several). Lines are replayed in seq order, uploads one after another; a malformed line is refused alone, with its reason.',
      query: emptyQuerySchema,
      body: { type: 'application/x-ndjson', description: 'one spooled event a line: {"event_id", "seq", "spooled_at", "query", "body"}' },
      answers: { 200: ok('what was replayed, skipped as already seen, and refused by line', A.spoolReportSchema) },
    },
    {
      method: 'post',
      path: '/api/codex/notify',
      tag: 'hooks',
      summary: "Codex's notify payload (token-api codex-notify forwards it)",
      query: emptyQuerySchema,
      body: { schema: codexNotifySchema },
      answers: { 200: ok('the session was read now, or its turn ended', A.codexNotifyOutcomeSchema), 202: ok('recorded only', A.codexNotifyOutcomeSchema) },
    },
    {
      method: 'post',
      path: '/api/instances/register',
      tag: 'instances',
      summary: 'Register an instance explicitly',
      query: emptyQuerySchema,
      body: { schema: registerBodySchema, optional: true },
      answers: { 200: ok('already live: answered as it is', A.registeredSchema), 201: ok('registered', A.registeredSchema) },
      errors: [409],
    },
    {
      method: 'get',
      path: '/api/instances',
      tag: 'instances',
      summary: 'Instances, awaiting first, then working, then idle',
      query: instancesQuerySchema,
      answers: { 200: ok('the instances', A.instanceListSchema) },
    },
    {
      method: 'get',
      path: '/api/instances/{id}',
      tag: 'instances',
      summary: 'One instance (stopped ones too), with its token usage',
      params: idParamsSchema,
      query: emptyQuerySchema,
      answers: { 200: ok('the instance', A.instanceDetailsSchema) },
      errors: [404],
    },
    {
      method: 'delete',
      path: '/api/instances/{id}',
      tag: 'instances',
      summary: 'Mark an instance stopped (reason deregistered); its profile is freed',
      params: idParamsSchema,
      query: emptyQuerySchema,
      answers: { 200: ok('the instance, stopped', A.instanceViewSchema) },
      errors: [404],
    },
    {
      method: 'post',
      path: '/api/instances/{id}/heartbeat',
      tag: 'instances',
      summary: 'Activity: moves the expiry deadline',
      params: idParamsSchema,
      query: emptyQuerySchema,
      body: { schema: emptyBodySchema, optional: true },
      answers: { 200: ok('the instance', A.instanceViewSchema) },
      errors: [404, 409],
    },
    {
      method: 'get',
      path: '/api/devices',
      tag: 'devices',
      summary: 'Devices: this computer, the phone, a laptop',
      query: emptyQuerySchema,
      answers: { 200: ok('the devices', A.deviceListSchema) },
    },
    {
      method: 'post',
      path: '/api/devices/register',
      tag: 'devices',
      summary: 'Create a device, or merge the fields named into a known one',
      query: emptyQuerySchema,
      body: { schema: deviceRegisterSchema },
      answers: { 200: ok('a known device, merged', A.deviceChangeSchema), 201: ok('created', A.deviceChangeSchema) },
      errors: [409],
    },
    {
      method: 'get',
      path: '/api/devices/{id}',
      tag: 'devices',
      summary: 'One device',
      params: deviceIdParamsSchema,
      query: emptyQuerySchema,
      answers: { 200: ok('the device', A.deviceSchema) },
      errors: [404],
    },
    {
      method: 'patch',
      path: '/api/devices/{id}',
      tag: 'devices',
      summary: 'Change only the fields named (null clears one)',
      params: deviceIdParamsSchema,
      query: emptyQuerySchema,
      body: { schema: devicePatchSchema },
      answers: { 200: ok('the device, merged', A.deviceChangeSchema) },
      errors: [404, 409],
    },
    {
      method: 'get',
      path: '/api/events',
      tag: 'events',
      summary: 'The event log, newest first',
      query: eventsQuerySchema,
      answers: { 200: ok('the events', A.eventListSchema) },
    },
    {
      method: 'get',
      path: '/api/dashboard',
      tag: 'events',
      summary: 'What the terminal dashboard shows, in one answer',
      query: dashboardQuerySchema,
      answers: { 200: ok('instances, counts, recent events, mode, focus, gate and usage', A.dashboardSchema) },
    },
    {
      method: 'post',
      path: '/api/notify',
      tag: 'notifications',
      summary: 'Send a notification, routed like an agent\'s (the mode applies unless urgent)',
      query: emptyQuerySchema,
      body: { schema: notifyBodySchema },
      answers: { 202: ok('committed; delivery follows', A.notificationSchema) },
      errors: [404],
    },
    {
      method: 'post',
      path: '/api/notify/tts',
      tag: 'notifications',
      summary: 'Speak on this machine now, whatever the mode',
      query: emptyQuerySchema,
      body: { schema: ttsBodySchema },
      answers: { 202: ok('committed; speech follows', A.notificationSchema) },
      errors: [409],
    },
    {
      method: 'post',
      path: '/api/notify/sound',
      tag: 'notifications',
      summary: 'Play a sound on this machine now, whatever the mode',
      query: emptyQuerySchema,
      body: { schema: soundBodySchema, optional: true },
      answers: { 202: ok('committed; the sound follows', A.notificationSchema) },
      errors: [409],
    },
    {
      method: 'get',
      path: '/api/notifications',
      tag: 'notifications',
      summary: 'The notification history, newest first, with each delivery',
      query: notificationsQuerySchema,
      answers: { 200: ok('the notifications', A.notificationListSchema) },
    },
    {
      method: 'get',
      path: '/api/notifications/{id}',
      tag: 'notifications',
      summary: 'One notification, with the intents it was made of',
      params: notificationParamsSchema,
      query: emptyQuerySchema,
      answers: { 200: ok('the notification', A.notificationSchema) },
      errors: [404],
    },
    {
      method: 'post',
      path: '/api/notifications/{id}/retry',
      tag: 'notifications',
      summary: 'Send again what failed, expired or was unavailable',
      params: notificationParamsSchema,
      query: emptyQuerySchema,
      answers: { 202: ok('the retried deliveries are pending again', A.notificationSchema) },
      errors: [404, 409],
    },
    {
      method: 'get',
      path: '/api/mode',
      tag: 'mode and gate',
      summary: 'The work mode, its timer and focus',
      query: emptyQuerySchema,
      answers: { 200: ok('the mode', A.modeViewSchema) },
    },
    {
      method: 'post',
      path: '/api/mode',
      tag: 'mode and gate',
      summary: 'Set the work mode, for a number of minutes or until changed',
      query: emptyQuerySchema,
      body: { schema: modeBodySchema(modes) },
      answers: { 200: ok('the mode, committed', A.modeViewSchema) },
    },
    {
      method: 'get',
      path: '/api/state',
      tag: 'mode and gate',
      summary: 'The mode, focus, state variables, the gate and instances by state',
      query: emptyQuerySchema,
      answers: { 200: ok('the state', A.stateViewSchema) },
    },
    {
      method: 'post',
      path: '/api/state',
      tag: 'mode and gate',
      summary: 'Set any of mode (with minutes), focus and the state variables the config declares',
      query: emptyQuerySchema,
      body: { schema: stateBodySchema(modes, config.stateVariables) },
      answers: { 200: ok('the state, committed', A.stateViewSchema) },
    },
    {
      method: 'get',
      path: '/api/productivity',
      tag: 'mode and gate',
      summary: 'The productivity gate: is an agent working, and since when',
      query: emptyQuerySchema,
      answers: { 200: ok('the gate', A.productivitySchema) },
    },
    {
      method: 'get',
      path: '/api/check',
      tag: 'mode and gate',
      summary: 'May this app be opened now? With the reason',
      query: checkQuerySchema,
      answers: { 200: ok('the decision', A.checkAnswerSchema) },
    },
    {
      method: 'get',
      path: '/',
      tag: 'mode and gate',
      summary: 'The service; with ?app=, the legacy gate check for MacroDroid (text: allowed or blocked)',
      query: rootQuerySchema,
      answers: { 200: { description: 'without app: the service as JSON; with app: allowed or blocked, as text', schema: A.serviceSchema, text: { type: 'text/plain', example: 'blocked' } } },
    },
    {
      method: 'get',
      path: '/api/usage',
      tag: 'usage',
      summary: 'Token usage totals, grouped',
      query: usageQuerySchema,
      answers: { 200: ok('the report', A.usageReportSchema) },
    },
    {
      method: 'put',
      path: '/api/usage/sync',
      tag: 'usage',
      summary: "Read this machine's transcripts now",
      query: emptyQuerySchema,
      body: { schema: emptyBodySchema, optional: true },
      answers: { 200: ok('what the scan read', A.usageSyncSchema) },
    },
    {
      method: 'get',
      path: '/api/usage/{deviceId}',
      tag: 'usage',
      summary: "One device's usage (by day by default) and today's",
      params: deviceParamsSchema,
      query: deviceUsageQuerySchema,
      answers: { 200: ok('the report', A.deviceUsageSchema) },
      errors: [404, 405],
    },
    {
      method: 'post',
      path: '/api/usage/{deviceId}',
      tag: 'usage',
      summary: 'Usage records from another machine (token-api usage push); idempotent by record key',
      params: deviceParamsSchema,
      query: emptyQuerySchema,
      body: { schema: pushBodySchema },
      answers: { 200: ok('what was new', A.usagePushResultSchema) },
      errors: [405],
    },
    {
      method: 'get',
      path: '/health',
      tag: 'service',
      summary: 'Up? The database, actors, speech and sound, the live feed',
      query: emptyQuerySchema,
      answers: { 200: ok('the health', A.healthSchema) },
    },
    {
      method: 'get',
      path: '/ws',
      tag: 'service',
      summary: 'The live feed: a WebSocket (docs/websocket.md); a plain GET is told so',
      answers: { 101: { description: 'the WebSocket upgrade' } },
      errors: [426],
    },
    {
      method: 'get',
      path: '/v1/machine',
      tag: 'machines',
      summary: 'This server as a machine: its id, its change head, and its connection to its hub',
      query: emptyQuerySchema,
      answers: { 200: ok('this machine', F.machineSelfSchema) },
    },
    {
      method: 'get',
      path: '/v1/machines',
      tag: 'machines',
      summary: 'The machines on this hub: this server first (local: true), then every machine that registered',
      query: emptyQuerySchema,
      answers: { 200: ok('the machines', F.machineListSchema) },
    },
    {
      method: 'post',
      path: '/v1/machines',
      tag: 'machines',
      summary: "A machine registers with its own token (Authorization: Bearer tam_...); idempotent, never overwrites a document",
      query: emptyQuerySchema,
      body: { schema: F.machineRegisterSchema },
      answers: { 201: ok('registered now', F.machineRegisteredSchema), 200: ok('already registered: the machine as the hub holds it', F.machineRegisteredSchema) },
      errors: [409],
    },
    {
      method: 'get',
      path: '/v1/machines/connect',
      tag: 'machines',
      summary: "A machine's WebSocket (its token required, even from loopback); a plain GET is told so",
      answers: { 101: { description: 'the WebSocket upgrade' } },
      errors: [426],
    },
    {
      method: 'get',
      path: '/v1/machines/{id}',
      tag: 'machines',
      summary: 'One machine, by id or name',
      params: F.machineParamsSchema,
      query: emptyQuerySchema,
      answers: { 200: ok('the machine', F.machineAnswerSchema) },
      errors: [404],
    },
    {
      method: 'put',
      path: '/v1/machines/{id}/metadata',
      tag: 'machines',
      summary: "A machine's metadata, if its version is still expected_version",
      params: F.machineParamsSchema,
      query: emptyQuerySchema,
      body: { schema: F.metadataUpdateSchema },
      answers: { 200: ok('written; the version is one more', F.machineAnswerSchema), 409: ok('another version: the current document', F.docConflictSchema) },
      errors: [404],
    },
    {
      method: 'put',
      path: '/v1/machines/{id}/daemon-state',
      tag: 'machines',
      summary: "A machine's daemon state, if its version is still expected_version",
      params: F.machineParamsSchema,
      query: emptyQuerySchema,
      body: { schema: F.daemonStateUpdateSchema },
      answers: { 200: ok('written; the version is one more', F.machineAnswerSchema), 409: ok('another version: the current document', F.docConflictSchema) },
      errors: [404],
    },
    {
      method: 'post',
      path: '/v1/machines/{id}/api',
      tag: 'machines',
      summary: "A request of this API run on a connected machine; answers the machine's status and body",
      params: F.machineParamsSchema,
      query: emptyQuerySchema,
      body: { schema: F.remoteApiCallSchema },
      answers: { 200: ok("the machine's answer", F.remoteAnswerSchema) },
      errors: [404, 504],
    },
    {
      method: 'post',
      path: '/v1/machines/{id}/stop',
      tag: 'machines',
      summary: 'Stop the token-api of a connected machine (it acknowledges, reports shutting-down, then stops cleanly)',
      params: F.machineParamsSchema,
      query: emptyQuerySchema,
      body: { schema: emptyBodySchema, optional: true },
      answers: { 202: ok('the machine is stopping', F.stoppingSchema) },
      errors: [404, 504],
    },
    {
      method: 'get',
      path: '/api/openapi.json',
      tag: 'service',
      summary: 'This API as an OpenAPI 3.1 document, built from the schemas that validate requests',
      query: emptyQuerySchema,
      answers: { 200: ok('the document', A.openApiSchema) },
    },
  ];
}
