// Errors in words: a table of bad requests, each with the exact message it gets. Every
// refusal names the field, what was wrong and what is expected; the wording comes from one
// formatter (src/lib/validation-words.ts) and the schemas' own expectations, not from each route.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, tableCounts, tempHome, type TestServer } from './support/system.js';

interface Case {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  error: string;
  message: string;
  fields?: Record<string, string>;
}

const CASES: Case[] = [
  {
    name: 'a gate check without app',
    method: 'GET',
    path: '/api/check',
    status: 400,
    error: 'validation_failed',
    message: 'query parameter app is missing; expected an app name or Android package name, such as youtube',
    fields: { app: 'is missing; expected an app name or Android package name, such as youtube' },
  },
  {
    name: 'a gate check with an empty app',
    method: 'GET',
    path: '/api/check?app=',
    status: 400,
    error: 'validation_failed',
    message: 'query parameter app is empty; expected an app name or Android package name, such as youtube',
  },
  {
    name: 'a mode timer of 0 minutes',
    method: 'POST',
    path: '/api/mode',
    body: { mode: 'break', minutes: 0 },
    status: 400,
    error: 'validation_failed',
    message: 'body field minutes is 0; expected a number of minutes, more than 0 and at most 10080',
  },
  {
    name: 'a mode that does not exist',
    method: 'POST',
    path: '/api/mode',
    body: { mode: 'brek' },
    status: 400,
    error: 'validation_failed',
    message: 'body field mode is "brek"; expected one of work_silence, work_music, break, off',
  },
  {
    name: 'minutes as text',
    method: 'POST',
    path: '/api/mode',
    body: { mode: 'break', minutes: '15' },
    status: 400,
    error: 'validation_failed',
    message: 'body field minutes is text ("15"); expected a number of minutes, more than 0 and at most 10080',
  },
  {
    name: 'a mistyped field',
    method: 'POST',
    path: '/api/mode',
    body: { mode: 'break', minuts: 15 },
    status: 400,
    error: 'validation_failed',
    message: 'body field minuts is not a known field; expected one of mode, minutes (did you mean minutes?)',
  },
  {
    name: 'a state variable the config does not declare',
    method: 'POST',
    path: '/api/state',
    body: { volume: 3 },
    status: 400,
    error: 'validation_failed',
    message: 'body field volume is not a state variable: declare it under state_variables in the config file first (docs/configuration.md); none is declared',
  },
  {
    name: 'minutes without a mode',
    method: 'POST',
    path: '/api/state',
    body: { minutes: 5 },
    status: 400,
    error: 'validation_failed',
    message: 'body field minutes is given without a mode; name the mode the timer is for',
  },
  {
    name: 'a body that is not JSON',
    method: 'POST',
    path: '/api/mode',
    body: '{"mode": ',
    status: 400,
    error: 'invalid_json',
    message: 'the body is not valid JSON (Unexpected end of JSON input); expected a JSON object',
  },
  {
    name: 'a body over the limit',
    method: 'POST',
    path: '/api/notify',
    body: { message: 'x'.repeat(300 * 1024) },
    status: 413,
    error: 'payload_too_large',
    message: 'the body is larger than 256 KiB (262144 bytes), the limit (body_limit_bytes in the config file raises it)',
  },
  {
    name: 'a notification with an empty message',
    method: 'POST',
    path: '/api/notify',
    body: { message: '   ' },
    status: 400,
    error: 'validation_failed',
    message: 'body field message is empty; expected text that is not empty',
  },
  {
    name: 'a notification message that is a number',
    method: 'POST',
    path: '/api/notify',
    body: { message: 5 },
    status: 400,
    error: 'validation_failed',
    message: 'body field message is a number (5); expected text',
  },
  {
    name: 'a list limit of 0',
    method: 'GET',
    path: '/api/instances?limit=0',
    status: 400,
    error: 'validation_failed',
    message: 'query parameter limit is 0; expected an integer from 1 to 1000',
  },
  {
    name: 'an unknown query parameter',
    method: 'GET',
    path: '/api/instances?stat=active',
    status: 400,
    error: 'validation_failed',
    message: 'query parameter stat is not a known field; expected one of status, state, device, agent_type, machine, limit (did you mean state?)',
  },
  {
    name: 'a webhook that is not an http(s) URL',
    method: 'POST',
    path: '/api/devices/register',
    body: { id: 'pixel-phone', webhook_url: 'javascript:alert(1)' },
    status: 400,
    error: 'validation_failed',
    message: 'body field webhook_url is "javascript:alert(1)"; expected an http:// or https:// URL',
  },
  {
    name: 'a local origin with an SSH client',
    method: 'POST',
    path: '/api/instances/register',
    body: { origin_type: 'local', ssh_client: '100.64.0.7 52144 22' },
    status: 400,
    error: 'validation_failed',
    message: 'body field origin_type is local, but ssh_client says the session came over SSH; leave origin_type out or make it ssh',
  },
  {
    name: 'a hook without session_id',
    method: 'POST',
    path: '/api/hooks',
    body: { hook_event_name: 'Stop' },
    status: 400,
    error: 'validation_failed',
    message: 'body field session_id is missing; expected text',
  },
  {
    // The body is Claude Code's and any of its fields goes; token-api's own additions are checked.
    name: "a hook body whose token-api process id is not one",
    method: 'POST',
    path: '/api/hooks',
    body: { session_id: 's', hook_event_name: 'PreToolUse', x_token_api_pid: -1 },
    status: 400,
    error: 'validation_failed',
    message: 'body field x_token_api_pid is -1; expected a process id (a positive integer)',
    fields: { x_token_api_pid: 'is -1; expected a process id (a positive integer)' },
  },
  {
    name: 'a hook from an agent token-api does not know',
    method: 'POST',
    path: '/api/hooks?agent=gpt',
    body: { session_id: 's', hook_event_name: 'Stop' },
    status: 400,
    error: 'validation_failed',
    message: 'query parameter agent is "gpt"; expected one of claude, codex',
  },
  {
    name: 'an unknown path',
    method: 'GET',
    path: '/api/nope',
    status: 404,
    error: 'not_found',
    message: 'no route for GET /api/nope; every route is in docs/api.md and GET /api/openapi.json',
  },
  {
    name: 'a method the path does not take',
    method: 'PUT',
    path: '/api/mode',
    body: {},
    status: 405,
    error: 'method_not_allowed',
    message: 'PUT is not allowed on /api/mode; allowed: HEAD, GET, POST',
  },
  {
    name: 'a body that is not JSON by its type',
    method: 'POST',
    path: '/api/mode',
    body: 'mode=break',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
    error: 'unsupported_media_type',
    message: 'the body must be JSON (Content-Type: application/json), not "application/x-www-form-urlencoded"',
  },
];

describe('errors in words', () => {
  const home = tempHome();
  let s: TestServer;
  before(async () => {
    s = await startTestServer(home.dir);
  });
  after(async () => {
    await s.close();
    home.cleanup();
  });

  for (const c of CASES) {
    it(`${c.name}: ${c.status} "${c.message}"`, async () => {
      const before = await tableCounts(s.system);
      const r = await s.request(c.method, c.path, c.body, c.headers);
      assert.equal(r.status, c.status, r.text);
      assert.equal(r.body.error, c.error, r.text);
      assert.equal(r.body.message, c.message);
      if (c.fields) assert.deepEqual({ ...r.body.fields }, c.fields);
      // Every message names what was wrong without zod's or Node's own wording.
      assert.doesNotMatch(r.body.message, /Invalid input|received undefined|Too small|expected number to be/);
      assert.deepEqual(await tableCounts(s.system), before, 'a refused request writes nothing');
    });
  }
});
