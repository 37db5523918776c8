// Claude and Codex line parsers, and cost from the pricing table.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrations.js';
import { claudeProjectOf, parseClaudeLine } from '../src/usage/claude-parser.js';
import { codexSessionFromPath, newCodexState, parseCodexLine } from '../src/usage/codex-parser.js';
import { costSql } from '../src/db/queries/usage.js';
import { costUnder, createPricing, normalizeModel } from '../src/usage/pricing.js';
import { MAX_RECORD_TOKENS } from '../src/protocol/usage.js';
import { tempHome } from './support/system.js';
import { join } from 'node:path';

function assistant(over: Record<string, unknown> = {}, usage: Record<string, unknown> = {}, message: Record<string, unknown> = {}) {
  return JSON.stringify({
    sessionId: 'sess-1',
    type: 'assistant',
    uuid: 'u-1',
    timestamp: '2026-11-20T10:00:00.000Z',
    requestId: 'req_1',
    message: { id: 'msg_1', model: 'claude-sonnet-4-5-20250929', usage: { input_tokens: 10, output_tokens: 20, cache_creation_input_tokens: 30, cache_read_input_tokens: 40, ...usage }, ...message },
    ...over,
  });
}

describe('Claude transcript lines', () => {
  it('reads the four token counts, the model, the session and the time of an assistant line', () => {
    const r = parseClaudeLine(assistant(), 'proj');
    assert.deepEqual(r, {
      key: 'msg_1:req_1',
      source: 'claude',
      sessionId: 'sess-1',
      project: 'proj',
      model: 'claude-sonnet-4-5-20250929',
      at: Date.parse('2026-11-20T10:00:00.000Z'),
      input: 10,
      output: 20,
      cacheCreation: 30,
      cacheRead: 40,
    });
  });

  it('keys a response by message.id and requestId, so its repeated lines are one record', () => {
    const a = parseClaudeLine(assistant({ uuid: 'u-1' }), null)!;
    const b = parseClaudeLine(assistant({ uuid: 'u-2' }, { output_tokens: 99 }), null)!;
    assert.equal(a.key, b.key);
    assert.notEqual(parseClaudeLine(assistant({ requestId: 'req_2' }), null)!.key, a.key);
  });

  it('falls back to the line uuid, then to the line itself, when ids are missing', () => {
    assert.equal(parseClaudeLine(assistant({ requestId: undefined }), null)!.key, 'uuid:u-1');
    const anon = assistant({ requestId: undefined, uuid: undefined });
    assert.match(parseClaudeLine(anon, null)!.key, /^line:[0-9a-f]{40}$/);
  });

  it('skips <synthetic> models, API error lines, bad timestamps, missing counts and non-JSON', () => {
    assert.equal(parseClaudeLine(assistant({}, {}, { model: '<synthetic>' }), null), null);
    assert.equal(parseClaudeLine(assistant({ isApiErrorMessage: true }), null), null);
    assert.equal(parseClaudeLine(assistant({ timestamp: '2026-11-20 10:00:00' }), null), null);
    assert.equal(parseClaudeLine(assistant({}, { output_tokens: 'many' }), null), null);
    assert.equal(parseClaudeLine(assistant({}, { cache_read_input_tokens: -1 }), null), null);
    assert.equal(parseClaudeLine('{"message":{"usage":{"input_tokens":1', null), null);
    assert.equal(parseClaudeLine(assistant({}, { cache_creation_input_tokens: MAX_RECORD_TOKENS + 1 }), null), null, 'a count no response reaches');
    assert.equal(parseClaudeLine(assistant({}, { output_tokens: MAX_RECORD_TOKENS }), null)!.output, MAX_RECORD_TOKENS);
    assert.equal(parseClaudeLine('{"type":"user","message":{"content":"\\"usage\\""}}', null), null);
  });

  it('counts a missing model as "unknown" and fast responses under "<model>-fast", as ccusage does', () => {
    assert.equal(parseClaudeLine(assistant({}, {}, { model: undefined }), null)!.model, 'unknown');
    assert.equal(parseClaudeLine(assistant({}, { speed: 'fast' }, { model: 'claude-opus-4-6' }), null)!.model, 'claude-opus-4-6-fast');
    assert.equal(parseClaudeLine(assistant({}, { cache_creation_input_tokens: undefined, cache_read_input_tokens: null }), null)!.cacheRead, 0);
  });

  it('names the project by the folder under projects/', () => {
    assert.equal(claudeProjectOf('/home/u/.claude/projects/-home-u-app/abc.jsonl'), '-home-u-app');
    assert.equal(claudeProjectOf('/home/u/.claude/projects/-home-u-app/abc/subagents/agent-1.jsonl'), '-home-u-app');
    assert.equal(claudeProjectOf('/tmp/x.jsonl'), null);
  });
});

describe('Codex rollout lines', () => {
  const tc = (total: [number, number, number], last: [number, number, number] | null = null, at = '2026-11-20T10:00:00.000Z') =>
    JSON.stringify({
      timestamp: at,
      type: 'event_msg',
      payload: {
        type: 'token_count',
        info: {
          total_token_usage: { input_tokens: total[0], cached_input_tokens: total[1], output_tokens: total[2], reasoning_output_tokens: 0, total_tokens: total[0] + total[2] },
          last_token_usage: last ? { input_tokens: last[0], cached_input_tokens: last[1], output_tokens: last[2], total_tokens: last[0] + last[2] } : null,
        },
      },
    });

  it('takes differences of the cumulative totals, never sums, and ignores a repeated count', () => {
    const s = newCodexState();
    parseCodexLine(JSON.stringify({ timestamp: '2026-11-20T09:59:00.000Z', type: 'session_meta', payload: { id: 'sid-9', cwd: '/w' } }), s, 'fallback');
    parseCodexLine(JSON.stringify({ timestamp: '2026-11-20T09:59:00.000Z', type: 'turn_context', payload: { model: 'gpt-5-codex' } }), s, 'fallback');
    const a = parseCodexLine(tc([1000, 400, 100]), s, 'fallback')!;
    assert.deepEqual([a.input, a.cacheRead, a.output, a.model, a.sessionId, a.project], [600, 400, 100, 'gpt-5-codex', 'sid-9', '/w']);
    assert.equal(parseCodexLine(tc([1000, 400, 100]), s, 'fallback'), null, 'same totals again add nothing');
    parseCodexLine(JSON.stringify({ timestamp: '2026-11-20T10:00:00.000Z', type: 'turn_context', payload: { model: 'gpt-5' } }), s, 'fallback');
    const b = parseCodexLine(tc([3000, 1400, 250]), s, 'fallback')!;
    assert.deepEqual([b.input, b.cacheRead, b.output, b.model], [1000, 1000, 150, 'gpt-5']);
    assert.notEqual(a.key, b.key);
  });

  it('after totals go down (a new session in the same file), counts the last step, not a negative difference', () => {
    const s = newCodexState();
    parseCodexLine(tc([5000, 0, 500]), s, 'f');
    const r = parseCodexLine(tc([300, 100, 30], [300, 100, 30]), s, 'f')!;
    assert.deepEqual([r.input, r.cacheRead, r.output], [200, 100, 30]);
  });

  it('skips a step with a count no response reaches, and counts the next step from its totals', () => {
    const s = newCodexState();
    parseCodexLine(tc([1000, 0, 100]), s, 'f');
    assert.equal(parseCodexLine(tc([1000 + MAX_RECORD_TOKENS + 1, 0, 200]), s, 'f'), null);
    const r = parseCodexLine(tc([1000 + MAX_RECORD_TOKENS + 1_501, 500, 250]), s, 'f')!;
    assert.deepEqual([r.input, r.cacheRead, r.output], [1000, 500, 50]);
  });

  it('uses last_token_usage when there are no totals, and the file name for a missing session id', () => {
    const s = newCodexState();
    const line = JSON.stringify({ timestamp: '2026-11-20T10:00:00.000Z', type: 'event_msg', payload: { type: 'token_count', info: { last_token_usage: { input_tokens: 50, cached_input_tokens: 0, output_tokens: 5 } } } });
    const sid = codexSessionFromPath('/c/sessions/2026/11/20/rollout-2026-11-20T10-00-00-0199a0b1-2c3d-4e5f-8a9b-0c1d2e3f4a5b.jsonl');
    assert.equal(sid, '0199a0b1-2c3d-4e5f-8a9b-0c1d2e3f4a5b');
    const r = parseCodexLine(line, s, sid)!;
    assert.deepEqual([r.input, r.output, r.sessionId, r.model], [50, 5, sid, 'unknown']);
    assert.equal(parseCodexLine('{"type":"event_msg","payload":{"type":"token_count","info":null}}', s, sid), null);
  });
});

describe('cost from the pricing table', () => {
  const t = (input: number, output: number, cacheCreation: number, cacheRead: number) => ({ input, output, cacheCreation, cacheRead });

  it('prices each kind of token per million, finds dated and prefixed model names, and has no price for unknown models', () => {
    const p = createPricing();
    // claude-opus-4-1: 15 in, 75 out, 18.75 cache write, 1.5 cache read per million.
    assert.equal(p.cost('claude-opus-4-1-20250805', t(1_000_000, 0, 0, 0)), 15);
    assert.equal(p.cost('anthropic/claude-opus-4-1', t(0, 1_000_000, 0, 0)), 75);
    assert.ok(Math.abs(p.cost('claude-opus-4-1', t(100, 200, 300, 400))! - (100 * 15 + 200 * 75 + 300 * 18.75 + 400 * 1.5) / 1e6) < 1e-12);
    // gpt-5-codex: 1.25 in, 10 out, 0.125 cached.
    assert.equal(p.cost('gpt-5-codex', t(1_000_000, 1_000_000, 0, 1_000_000)), 1.25 + 10 + 0.125);
    assert.equal(p.cost('some-new-model', t(1, 1, 1, 1)), null);
    assert.equal(p.cost('claude-opus-4-6-fast', t(1, 1, 1, 1)), null);
    assert.equal(normalizeModel('claude-sonnet-4-5-20250929'), 'claude-sonnet-4-5');
  });

  it('charges the long-context price beyond 200,000 tokens of a kind in one response', () => {
    const p = createPricing();
    // claude-sonnet-4-5: 3 per million up to 200k input, 6 beyond.
    assert.equal(p.cost('claude-sonnet-4-5', t(300_000, 0, 0, 0)), (200_000 * 3 + 100_000 * 6) / 1e6);
    assert.equal(p.cost('claude-sonnet-4-5', t(200_000, 0, 0, 0)), 0.6);
  });

  it('takes overrides from the configuration, which change the fingerprint', () => {
    const base = createPricing();
    const custom = createPricing({ 'my-model': { input: 2, output: 4 }, 'claude-opus-4-1': { input: 1, output: 1, cache_write: 1, cache_read: 1 } });
    assert.equal(custom.cost('my-model', t(1_000_000, 500_000, 7, 7)), 4);
    assert.equal(custom.cost('claude-opus-4-1-20250805', t(1_000_000, 0, 0, 0)), 1);
    assert.notEqual(custom.fingerprint, base.fingerprint);
    assert.equal(createPricing().fingerprint, base.fingerprint);
  });

  it('computes the same cost in SQL as in JavaScript (stored costs are recomputed in SQL)', async () => {
    const home = tempHome();
    const db = await openDatabase(join(home.dir, 'p.db'));
    await migrate(db);
    const p = createPricing();
    const cases = [t(3, 1234, 45_678, 901_234), t(250_000, 210_000, 300_000, 0), t(0, 0, 0, 0), t(199_999, 200_001, 1, 1)];
    for (const model of ['claude-sonnet-4-5', 'claude-haiku-4-5', 'gpt-5.4-mini', 'o4-mini']) {
      for (const c of cases) {
        const row = await db.get<{ c: number }>(
          `SELECT ${costSql(p.priceOf(model)!)} AS c FROM (SELECT ? AS input_tokens, ? AS output_tokens, ? AS cache_creation_tokens, ? AS cache_read_tokens)`,
          [c.input, c.output, c.cacheCreation, c.cacheRead],
        );
        assert.equal(row!.c, costUnder(p.priceOf(model)!, c), `${model} ${JSON.stringify(c)}`);
      }
    }
    await db.close();
    home.cleanup();
  });
});

describe('reading fields from the bytes agrees with JSON.parse', () => {
  /** The plain reading: JSON.parse the whole line, then the same rules. */
  function reference(line: string) {
    let v: Record<string, any>;
    try {
      v = JSON.parse(line);
    } catch {
      return null;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
    const m = v.message;
    if (typeof m !== 'object' || m === null || Array.isArray(m) || typeof m.usage !== 'object' || m.usage === null || Array.isArray(m.usage)) return null;
    const u = m.usage;
    const count = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0 && Math.round(x) <= MAX_RECORD_TOKENS;
    if (!count(u.input_tokens) || !count(u.output_tokens)) return null;
    for (const k of ['cache_creation_input_tokens', 'cache_read_input_tokens']) if (u[k] !== undefined && u[k] !== null && !count(u[k])) return null;
    if (typeof v.timestamp !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z$/.test(v.timestamp)) return null;
    if (v.isApiErrorMessage === true) return null;
    let model = typeof m.model === 'string' && m.model ? m.model : 'unknown';
    if (model === '<synthetic>') return null;
    if (u.speed === 'fast') model += '-fast';
    return { model, sessionId: typeof v.sessionId === 'string' && v.sessionId ? v.sessionId : null, input: u.input_tokens, output: u.output_tokens, id: m.id, requestId: v.requestId };
  }

  it('on random lines with nested content, escapes, unicode, other key orders and spacing, and on every torn prefix', async () => {
    const fc = (await import('fast-check')).default;
    const text = fc.string({ unit: fc.constantFrom('a', '"', '\\', '{', '}', '[', ']', ',', ':', 'é', '😀', '\n', ' ', 'usage', '"usage":', 'x') });
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, text, fc.integer(), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
      array: fc.array(tie('value'), { maxLength: 3 }),
      object: fc.dictionary(fc.constantFrom('text', 'model', 'usage', 'id', 'input', 'type', 'message'), tie('value'), { maxKeys: 3 }),
    })).value;
    const line = fc.record(
      {
        parentUuid: fc.oneof(fc.constant(null), fc.uuid()),
        sessionId: fc.oneof(fc.uuid(), fc.constant(''), fc.integer()),
        timestamp: fc.oneof(fc.constant('2026-11-20T10:00:00.000Z'), fc.constant('2026-11-20T10:00:00Z'), fc.constant('yesterday')),
        requestId: fc.string({ maxLength: 8 }),
        isApiErrorMessage: fc.boolean(),
        message: fc.record(
          {
            id: fc.string({ maxLength: 8 }),
            model: fc.oneof(fc.constant('claude-opus-4-6'), fc.constant('<synthetic>'), fc.constant(''), text),
            content: fc.array(json, { maxLength: 3 }),
            usage: fc.record(
              {
                input_tokens: fc.oneof(fc.nat(), fc.constant(-1), fc.constant('7')),
                output_tokens: fc.nat(),
                cache_read_input_tokens: fc.oneof(fc.nat(), fc.constant(null)),
                speed: fc.constantFrom('standard', 'fast'),
                nested: json,
              },
              { requiredKeys: ['output_tokens'] },
            ),
          },
          { requiredKeys: [] },
        ),
        extra: json,
      },
      { requiredKeys: ['message'] },
    );
    fc.assert(
      fc.property(line, fc.boolean(), fc.nat(), (obj, spaced, cutAt) => {
        const text = spaced ? JSON.stringify(obj, null, 1).replace(/\n/g, ' ') : JSON.stringify(obj);
        const want = reference(text);
        const got = parseClaudeLine(text, null);
        if (want === null) assert.equal(got, null, text);
        else {
          assert.ok(got, text);
          assert.deepEqual({ model: got.model, sessionId: got.sessionId, input: got.input, output: got.output }, { model: want.model, sessionId: want.sessionId, input: want.input, output: want.output }, text);
          if (typeof want.id === 'string' && want.id && typeof want.requestId === 'string' && want.requestId) assert.equal(got.key, `${want.id}:${want.requestId}`);
        }
        const cut = cutAt % Math.max(1, text.length - 1);
        assert.equal(parseClaudeLine(text.slice(0, cut), null), null, `prefix of ${cut}: ${text.slice(0, cut)}`);
      }),
      { numRuns: 1500 },
    );
  });
});

describe('attribution', () => {
  it('asks the live instances first, so a session that starts during a long scan is found; then the tables; then this machine', async () => {
    const { loadAttributor } = await import('../src/usage/attribution.js');
    const h = tempHome();
    const db = await openDatabase(join(h.dir, 'a.db'));
    await migrate(db);
    await db.run(
      `INSERT INTO claude_instances (id, session_id, display_name, origin_type, device_id, transcript_path, state, registered_at, last_activity, state_since)
       VALUES ('claude-old', 'old', 'Claude #1', 'ssh', 'laptop', '/t/old.jsonl', 'stopped', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')`,
    );
    const live = (sessionId: string) => (sessionId === 'new' ? { instanceId: 'claude-new', deviceId: 'pixel-phone' } : null);
    const attribute = await loadAttributor(db, 'desktop', live);
    assert.deepEqual(attribute('/t/new.jsonl', 'new'), { instanceId: 'claude-new', deviceId: 'pixel-phone' });
    assert.deepEqual(attribute('/t/old.jsonl', 'old'), { instanceId: 'claude-old', deviceId: 'laptop' });
    assert.deepEqual(attribute('/t/other.jsonl', 'nobody'), { instanceId: null, deviceId: 'desktop' });
    await db.close();
    h.cleanup();
  });
});
