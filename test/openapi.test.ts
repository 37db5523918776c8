// The OpenAPI document and docs/api.md against the running app: every route of every router
// is in the document (and nothing else is), GET /api/openapi.json serves it, every schema in
// it compiles as JSON Schema 2020-12, every route has its section in docs/api.md, every JSON
// example there validates against the document, and every event type the server writes is
// documented. Adding a route without its entry in src/protocol/api-routes.ts fails here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import * as formats from 'ajv-formats';
import { apiRouters } from '../src/http/routers.js';
import { fakeRouteDeps } from './support/fake-routes.js';
import { FakeClock } from './support/clock.js';
import { startPhone, type Phone } from './support/phone.js';
import { everyKindOfEvent } from './support/scenario.js';
import { startTestServer, tempHome, type TestServer } from './support/system.js';

const DOC = readFileSync(new URL('../docs/api.md', import.meta.url), 'utf8');
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
// ajv-formats is CommonJS: its plugin is the default export's default.
const addFormats = formats.default as unknown as (ajv: Ajv2020) => Ajv2020;

type Doc = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { $ref?: string; content?: Record<string, { schema: object }> }>; requestBody?: { content: Record<string, { schema: object }> } }>>; components: { responses: Record<string, { content: Record<string, { schema: object }> }> } };

/** The fenced JSON examples of docs/api.md: "```json POST /api/mode" (a request body) or "```json 200 POST /api/mode" (an answer). */
function examples(): { status: number | null; method: string; path: string; json: string; line: number }[] {
  const out: { status: number | null; method: string; path: string; json: string; line: number }[] = [];
  const re = /^```json[ \t]+(?:(\d{3})[ \t]+)?(GET|POST|PUT|PATCH|DELETE)[ \t]+(\S+)[ \t]*\n([\s\S]*?)^```/gm;
  for (let m = re.exec(DOC); m; m = re.exec(DOC)) {
    out.push({ status: m[1] ? Number(m[1]) : null, method: m[2]!.toLowerCase(), path: m[3]!, json: m[4]!, line: DOC.slice(0, m.index).split('\n').length });
  }
  return out;
}

describe('the OpenAPI document and docs/api.md', () => {
  const home = tempHome();
  let s: TestServer;
  let doc: Doc;
  let phone: Phone;
  const clock = new FakeClock();
  before(async () => {
    phone = await startPhone();
    s = await startTestServer(
      home.dir,
      {
        state_variables: { volume: { type: 'number', default: 3, min: 0, max: 10 } },
        notifications: { speech: { engine: 'none' }, sound: { player: 'none' }, webhook: { answered_update: true } },
      },
      { clock },
    );
    const r = await s.request('GET', '/api/openapi.json');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    doc = r.body as Doc;
  });
  after(async () => {
    await s.close();
    await phone.down();
    home.cleanup();
  });

  it('is OpenAPI 3.1 and lists every route of every router, and no route the app does not have', () => {
    assert.equal(doc.openapi, '3.1.0');
    const inApp = new Set<string>();
    for (const router of apiRouters(fakeRouteDeps())) {
      for (const layer of router.stack) {
        const path = String(layer.path).replace(/:([A-Za-z_]+)/g, '{$1}') || '/';
        for (const method of layer.methods.map((m) => m.toLowerCase()).filter((m) => m !== 'head')) inApp.add(`${method} ${path}`);
      }
    }
    const inDoc = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).filter((m) => METHODS.includes(m)).map((m) => `${m} ${path}`)));
    assert.deepEqual([...inApp].filter((r) => !inDoc.has(r)), [], 'routes missing from src/protocol/api-routes.ts');
    assert.deepEqual([...inDoc].filter((r) => !inApp.has(r)), [], 'routes in the document the app does not have');
    assert.ok(inApp.size >= 30, `${inApp.size} routes`);
  });

  it('has schemas that compile as JSON Schema 2020-12, built from the request schemas (the configured modes and state variables included)', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    let compiled = 0;
    for (const ops of Object.values(doc.paths)) {
      for (const op of Object.values(ops)) {
        for (const c of Object.values(op.requestBody?.content ?? {})) (ajv.compile(c.schema), compiled++);
        for (const r of Object.values(op.responses)) for (const c of Object.values(r.content ?? {})) (ajv.compile(c.schema), compiled++);
      }
    }
    assert.ok(compiled > 40, `${compiled} schemas`);
    const mode = doc.paths['/api/mode']!.post!.requestBody!.content['application/json']!.schema as { properties: { mode: { enum: string[] } } };
    assert.deepEqual(mode.properties.mode.enum, ['work_silence', 'work_music', 'break', 'off']);
    const state = doc.paths['/api/state']!.post!.requestBody!.content['application/json']!.schema as { properties: Record<string, unknown> };
    assert.ok('volume' in state.properties, 'the declared state variable');
  });

  it('docs/api.md has a section for every route', () => {
    const missing = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => METHODS.includes(m))
        .filter((m) => !DOC.includes(`### \`${m.toUpperCase()} ${path}\``))
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
    assert.deepEqual(missing, []);
  });

  it('every JSON example in docs/api.md validates against the document', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    const all = examples();
    assert.ok(all.length >= 40, `${all.length} examples`);
    for (const e of all) {
      const where = `docs/api.md line ${e.line}: ${e.status ?? 'request'} ${e.method.toUpperCase()} ${e.path}`;
      const op = doc.paths[e.path]?.[e.method];
      assert.ok(op, `${where}: no such route`);
      let value: unknown;
      assert.doesNotThrow(() => (value = JSON.parse(e.json)), `${where}: not JSON`);
      let schema: object | undefined;
      if (e.status === null) schema = op.requestBody?.content['application/json']?.schema;
      else {
        const answer = op.responses[String(e.status)];
        assert.ok(answer, `${where}: the route has no ${e.status} answer`);
        const ref = answer.$ref?.replace('#/components/responses/', '');
        schema = (ref ? doc.components.responses[ref] : answer)?.content?.['application/json']?.schema;
      }
      assert.ok(schema, `${where}: no JSON schema`);
      const validate = ajv.compile(schema);
      assert.ok(validate(value), `${where}: ${ajv.errorsText(validate.errors)}`);
    }
    // Requests and answers of the main routes are shown.
    for (const [status, method, path] of [
      [null, 'post', '/api/hooks'],
      [200, 'post', '/api/hooks'],
      [200, 'get', '/api/dashboard'],
      [200, 'post', '/api/mode'],
      [200, 'get', '/api/check'],
      [200, 'post', '/api/hooks/spool'],
      [200, 'post', '/api/codex/notify'],
      [202, 'post', '/api/notify'],
      [400, 'get', '/api/check'],
    ] as const) {
      assert.ok(all.some((e) => e.status === status && e.method === method && e.path === path), `an example of ${status ?? 'the request of'} ${method.toUpperCase()} ${path}`);
    }
  });

  it('documents every event type the server writes', async () => {
    const types = new Set((await everyKindOfEvent(s, { phone, clock })).map((e) => e.type));
    assert.ok(types.size >= 20);
    // Among them the revival of a stopped instance and the urgent notices' follow-ups.
    for (const t of ['instance.revived', 'notification.superseded', 'notification.answered']) assert.ok(types.has(t), `the scenario writes ${t}`);
    const undocumented = [...types].filter((t) => !DOC.includes(`\`${t}\``));
    assert.deepEqual(undocumented, []);
  });
});
