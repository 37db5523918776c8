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
import { approvalListSchema, approvalParamsSchema, approvalSchema, approvalsQuerySchema, decisionBodySchema, hookDecisionSchema, linkQuerySchema } from './approvals.js';

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
  tag: 'hooks' | 'instances' | 'devices' | 'events' | 'notifications' | 'mode and gate' | 'usage' | 'service' | 'approvals';
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
      method: 'post',
      path: '/api/approvals/wait',
      tag: 'approvals',
      summary: "The PermissionRequest hook, held until a decision (Claude Code reads the answer), the approval's end, or the hook going away",
      description:
        'The body is the hook JSON (hook_event_name PermissionRequest), the query what the hook script adds; event_id names the approval, so a hook that calls again after a restart is held on the same one. A policy may answer at once.',
      query: hookQuerySchema,
      body: { schema: hookBodySchema },
      answers: { 200: ok('the decision, as Claude Code reads it', hookDecisionSchema), 204: { description: 'no decision (expired, answered elsewhere, approvals off): Claude Code asks as usual' } },
    },
    {
      method: 'get',
      path: '/api/approvals',
      tag: 'approvals',
      summary: 'Permission requests, newest first: pending ones, and how the others ended',
      query: approvalsQuerySchema,
      answers: { 200: ok('the approvals', approvalListSchema) },
    },
    {
      method: 'get',
      path: '/api/approvals/{id}',
      tag: 'approvals',
      summary: 'One permission request; while pending, with its one-time approve and deny links',
      params: approvalParamsSchema,
      query: emptyQuerySchema,
      answers: { 200: ok('the approval', approvalSchema) },
      errors: [404],
    },
    {
      method: 'post',
      path: '/api/approvals/{id}',
      tag: 'approvals',
      summary: 'Decide: allow or deny (with a message for the model); the waiting hook is answered at once',
      params: approvalParamsSchema,
      query: emptyQuerySchema,
      body: { schema: decisionBodySchema },
      answers: { 200: ok('the approval, decided', approvalSchema) },
      errors: [404, 409, 410],
    },
    {
      method: 'get',
      path: '/api/approvals/{id}/approve',
      tag: 'approvals',
      summary: 'A one-time link that allows: signed, single use, expiring; no token needed. A prefetch or HEAD only looks',
      params: approvalParamsSchema,
      query: linkQuerySchema,
      answers: { 200: ok('the approval, decided (or as it is, for a prefetch)', approvalSchema) },
      errors: [404, 409, 410],
    },
    {
      method: 'get',
      path: '/api/approvals/{id}/deny',
      tag: 'approvals',
      summary: 'A one-time link that denies: signed, single use, expiring; no token needed. A prefetch or HEAD only looks',
      params: approvalParamsSchema,
      query: linkQuerySchema,
      answers: { 200: ok('the approval, decided (or as it is, for a prefetch)', approvalSchema) },
      errors: [404, 409, 410],
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
      path: '/api/openapi.json',
      tag: 'service',
      summary: 'This API as an OpenAPI 3.1 document, built from the schemas that validate requests',
      query: emptyQuerySchema,
      answers: { 200: ok('the document', A.openApiSchema) },
    },
  ];
}
