// Ids under attack: fast-check runs sequences of registrations with explicit instance ids chosen
// to collide with the ids token-api derives from session ids (claude-<session>, the hash form,
// the fallbacks), hook events and spool replays whose session ids hold invalid UTF-16 (lone
// surrogates, halves of pairs, U+FFFD written out), repeated event ids, and restarts in between,
// against a real server on a real SQLite file. No answer is a 5xx; a session's events all go to
// one instance and an instance's all come from one session (no merge); an instance registered
// for a session keeps it; an event id is applied exactly once, whether sent live or replayed.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { hookPayload, startTestServer, tempHome, type TestServer } from './support/system.js';
import { databaseOf } from './support/sqlite.js';

const SESSIONS = ['a', 'b', 'claude-a', 'foo', '\ud800', '\udfff', 'x\ud83d', '\ufffd', 'x\ufffd', '😀', 'A'.repeat(101), 's p a c e'];
const HOOKS = ['SessionStart', 'UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'Stop', 'SessionEnd'] as const;
const EVENT_IDS = Array.from({ length: 6 }, (_, i) => `evt-fuzz-${i}000`);

/** What token-api stores: a lone surrogate becomes U+FFFD. */
const normal = (s: string) => s.replace(/[\ud800-\udfff]/gu, '\ufffd');
const hash = (s: string) => createHash('sha256').update(normal(s)).digest('hex').slice(0, 24);

/** Ids a registration may ask for: the ones token-api derives from the sessions above, and their fallbacks. */
const EXPLICIT_IDS = [...new Set(SESSIONS.flatMap((s) => [`claude-${/^[A-Za-z0-9._:-]{1,100}$/.test(s) ? s : hash(s)}`, `claude-${hash(s)}`, `claude-${hash(s)}-2`, `codex-${hash(s)}`]))];

const sessionArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SESSIONS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }) },
);

type Op =
  | { kind: 'register'; instanceId: string | undefined; session: string | undefined }
  | { kind: 'hook'; session: string; name: (typeof HOOKS)[number]; eventId: string | undefined }
  | { kind: 'replay'; session: string; name: (typeof HOOKS)[number]; eventId: string }
  | { kind: 'restart' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('register' as const), instanceId: fc.option(fc.constantFrom(...EXPLICIT_IDS), { nil: undefined }), session: fc.option(sessionArb, { nil: undefined }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('hook' as const), session: sessionArb, name: fc.constantFrom(...HOOKS), eventId: fc.option(fc.constantFrom(...EVENT_IDS), { nil: undefined }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('replay' as const), session: sessionArb, name: fc.constantFrom(...HOOKS), eventId: fc.constantFrom(...EVENT_IDS) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

function body(session: string, name: (typeof HOOKS)[number]): Record<string, unknown> {
  const extra: Record<string, unknown> = name === 'SessionStart' ? { source: 'startup' } : name.endsWith('ToolUse') ? { tool_name: 'Bash' } : {};
  return hookPayload(session, name, extra);
}

async function runOps(ops: Op[]): Promise<void> {
  const home = tempHome('token-api-fault-ids-');
  let s: TestServer = await startTestServer(home.dir);
  const registered = new Map<string, string>();
  const accepted = new Set<string>();
  let withoutId = 0;
  const problems: string[] = [];
  try {
    for (const op of ops) {
      if (op.kind === 'restart') {
        await s.close();
        s = await startTestServer(home.dir);
        continue;
      }
      if (op.kind === 'register') {
        const r = await s.request('POST', '/api/instances/register', { ...(op.instanceId ? { instance_id: op.instanceId } : {}), ...(op.session ? { session_id: op.session } : {}) });
        if (r.status >= 500) problems.push(`register ${JSON.stringify(op)} -> ${r.status} ${r.text}`);
        if (r.status === 201) registered.set(r.body.id, r.body.session_id);
        continue;
      }
      if (op.kind === 'hook') {
        const r = await s.hook(body(op.session, op.name), op.eventId ? `?event_id=${op.eventId}` : '');
        if (r.status >= 500) problems.push(`hook ${JSON.stringify(op)} -> ${r.status} ${JSON.stringify(r.body)}`);
        if (r.status < 300) {
          if (op.eventId === undefined) withoutId += 1;
          else accepted.add(op.eventId);
        }
        continue;
      }
      const line = JSON.stringify({ event_id: op.eventId, seq: 1, spooled_at: Date.now(), query: `event_id=${op.eventId}`, body: body(op.session, op.name) });
      const r = await s.request('POST', '/api/hooks/spool', `${line}\n`, { 'content-type': 'application/x-ndjson' });
      if (r.status >= 500) problems.push(`replay ${JSON.stringify(op)} -> ${r.status} ${r.text}`);
      if (r.status === 200) accepted.add(op.eventId);
    }
    assert.deepEqual(problems, [], 'no answer is a 5xx');

    const rows = await databaseOf(s.system).all<{ instance_id: string | null; details: string }>("SELECT instance_id, details FROM events WHERE event_type LIKE 'hook.%' ORDER BY id");
    const bySession = new Map<string, Set<string>>();
    const byInstance = new Map<string, Set<string>>();
    for (const row of rows) {
      const session = normal(String(JSON.parse(row.details).payload.session_id));
      const id = String(row.instance_id);
      if (!bySession.has(session)) bySession.set(session, new Set());
      bySession.get(session)!.add(id);
      if (!byInstance.has(id)) byInstance.set(id, new Set());
      byInstance.get(id)!.add(session);
    }
    for (const [session, ids] of bySession) assert.equal(ids.size, 1, `session ${JSON.stringify(session)} went to ${[...ids].join(', ')}`);
    for (const [id, sessions] of byInstance) assert.equal(sessions.size, 1, `instance ${id} took sessions ${JSON.stringify([...sessions])}`);
    for (const [id, session] of registered) {
      const inst = await s.request('GET', `/api/instances/${encodeURIComponent(id)}`);
      assert.equal(inst.status, 200);
      assert.equal(inst.body.session_id, session, `instance ${id} registered for ${JSON.stringify(session)} still has it`);
      for (const other of byInstance.get(id) ?? []) assert.equal(other, session, `instance ${id} took the events of ${JSON.stringify(other)}`);
    }
    const ids = (await databaseOf(s.system).all<{ event_id: string }>('SELECT event_id FROM hook_event_ids')).map((r) => r.event_id).sort();
    assert.deepEqual(ids, [...accepted].sort(), 'the ids applied are the ids accepted');
    assert.equal(rows.length, withoutId + accepted.size, 'each accepted event id applied exactly once');
  } finally {
    await s.close();
    home.cleanup();
  }
}

describe('ids under attack: collisions with derived instance ids, invalid UTF-16 in session ids, restarts', () => {
  it('never answers 5xx, never merges sessions, applies each event id once', { timeout: 240_000 }, async () => {
    await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 4, maxLength: 24 }), runOps), { numRuns: 40 });
  });

  it('the cases from the report: claude-foo registered for bar, then a hook of foo; a lone surrogate across a restart', async () => {
    await runOps([
      { kind: 'register', instanceId: 'claude-foo', session: 'bar' },
      { kind: 'hook', session: 'foo', name: 'UserPromptSubmit', eventId: 'evt-fuzz-0000' },
      { kind: 'replay', session: 'foo', name: 'UserPromptSubmit', eventId: 'evt-fuzz-0000' },
      { kind: 'hook', session: '\ud800', name: 'SessionStart', eventId: undefined },
      { kind: 'restart' },
      { kind: 'hook', session: '\ud800', name: 'Stop', eventId: 'evt-fuzz-1000' },
    ]);
  });
});
