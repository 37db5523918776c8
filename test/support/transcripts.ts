// Generates transcript corpora in the formats Claude Code and Codex write, with the answer
// they must add up to: sessions over several days and models, responses spanning several
// lines (the first line's usage is the one that counts, as in ccusage), a resumed session
// that copies earlier lines, API error and <synthetic> lines, a torn last line, and a Codex
// rollout with cumulative token counts. Used by the tests and by bench/usage.bench.ts.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Totals {
  input: number;
  output: number;
  cacheCreation: number;
  cacheRead: number;
}

/** Expected totals: day (UTC) -> model -> tokens. */
export type Expected = Map<string, Map<string, Totals>>;

export interface CorpusOptions {
  /** A Claude config directory (transcripts go to <claudeDir>/projects/<slug>/<session>.jsonl). */
  claudeDir: string;
  /** A Codex home (rollouts go to <codexDir>/sessions/YYYY/MM/DD/rollout-*.jsonl); none when omitted. */
  codexDir?: string;
  seed?: number;
  /** Stop adding sessions once the corpus has this many bytes (the bench); otherwise `sessions`. */
  targetBytes?: number;
  sessions?: number;
  responsesPerSession?: number;
  /** Bytes of the average tool result (the bulk of a real transcript). */
  toolResultBytes?: number;
  /** Bytes of an assistant text block: [fewest, most]. */
  textBytes?: [number, number];
  /** Most lines one response spans (thinking, text, tool use...). */
  maxBlocks?: number;
  /** First day of the corpus (UTC midnight, epoch ms). */
  start?: number;
  days?: number;
}

export interface Corpus {
  files: string[];
  bytes: number;
  expected: Expected;
  /** Codex totals the rollouts must add up to: model -> tokens (input is the uncached part). */
  codexExpected: Map<string, Totals>;
  /** A Claude file whose last line is torn, and the rest of that line. */
  torn: { path: string; rest: string } | null;
  /** Record keys of every distinct Claude response (message.id:requestId, or uuid:<line uuid> without a requestId). */
  keys: Set<string>;
}

export const CLAUDE_MODELS = ['claude-sonnet-4-5-20250929', 'claude-opus-4-1-20250805', 'claude-haiku-4-5-20251001', 'claude-opus-4-6'];

/** A small deterministic generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = 'the of function return const await import export test file value error line token usage model session cache read write request response instance device'.split(' ');

export function addTotals(e: Expected, day: string, model: string, t: Totals): void {
  let m = e.get(day);
  if (!m) e.set(day, (m = new Map()));
  const cur = m.get(model) ?? { input: 0, output: 0, cacheCreation: 0, cacheRead: 0 };
  m.set(model, { input: cur.input + t.input, output: cur.output + t.output, cacheCreation: cur.cacheCreation + t.cacheCreation, cacheRead: cur.cacheRead + t.cacheRead });
}

/** Writes lines to a file in ~1 MB appends (never a whole session in one string). */
class LineSink {
  private buf: string[] = [];
  private size = 0;
  bytes = 0;
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '');
  }
  line(obj: unknown): string {
    const text = JSON.stringify(obj);
    this.raw(`${text}\n`);
    return text;
  }
  raw(text: string): void {
    this.buf.push(text);
    this.size += text.length;
    if (this.size > 1 << 20) this.flush();
  }
  flush(): void {
    if (this.buf.length === 0) return;
    const chunk = this.buf.join('');
    appendFileSync(this.path, chunk);
    this.bytes += Buffer.byteLength(chunk);
    this.buf = [];
    this.size = 0;
  }
}

export function generateCorpus(o: CorpusOptions): Corpus {
  const rand = rng(o.seed ?? 7);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(rand() * 16)]).join('');
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
  const text = (bytes: number) => {
    const out: string[] = [];
    let n = 0;
    while (n < bytes) {
      const w = pick(WORDS);
      out.push(w);
      n += w.length + 1;
    }
    return out.join(' ');
  };
  // A pool of text to slice tool results from, so generating 1 GB stays quick.
  const pool = text(256 * 1024) + ' {"usage": "a file that mentions usage", "model": "not-a-model"} ';

  const start = o.start ?? Date.UTC(2026, 10, 18);
  const days = o.days ?? 5;
  const perSession = o.responsesPerSession ?? 12;
  const toolBytes = o.toolResultBytes ?? 2000;
  const [fewestBytes, mostBytes] = o.textBytes ?? [40, 600];
  const maxBlocks = o.maxBlocks ?? 3;
  const expected: Expected = new Map();
  const keys = new Set<string>();
  const files: string[] = [];
  let bytes = 0;
  let torn: Corpus['torn'] = null;
  /** Lines of finished sessions that a resumed session may copy. */
  let copyable: { line: string }[] = [];

  const sessionCount = o.sessions ?? 6;
  for (let s = 0; o.targetBytes !== undefined ? bytes < o.targetBytes : s < sessionCount; s += 1) {
    const sessionId = uuid();
    const project = `-home-dev-project-${s % 3}`;
    const path = join(o.claudeDir, 'projects', project, `${sessionId}.jsonl`);
    const sink = new LineSink(path);
    const day = s % days;
    let t = start + day * 86_400_000 + int(0, 20) * 3_600_000 + int(0, 3599) * 1000;
    const model = CLAUDE_MODELS[s % CLAUDE_MODELS.length]!;
    const base = { isSidechain: false, userType: 'external', cwd: `/home/dev/project-${s % 3}`, sessionId, version: '2.0.31', gitBranch: 'main' };
    let parent: string | null = null;
    const stamp = () => new Date(t).toISOString();

    // A resumed session starts with lines copied from an earlier one (same message ids).
    if (s % 4 === 3 && copyable.length > 0) {
      for (const c of copyable.slice(0, 6)) sink.raw(`${c.line}\n`);
    }
    const mine: { line: string }[] = [];
    sink.line({ type: 'summary', summary: 'Refactor the reader', leafUuid: uuid() });

    for (let r = 0; r < perSession; r += 1) {
      t += int(5, 400) * 1000;
      const userUuid = uuid();
      sink.line({ parentUuid: parent, ...base, type: 'user', message: { role: 'user', content: text(int(20, 200)) }, uuid: userUuid, timestamp: stamp() });
      parent = userUuid;
      const m = r % 7 === 5 ? pick(CLAUDE_MODELS) : model;
      const usage = { input: int(1, 40), output: int(20, 3000), cacheCreation: int(0, 30_000), cacheRead: int(0, 250_000) };
      const fast = m === 'claude-opus-4-6' && r % 5 === 1;
      const msgId = `msg_01${hex(22)}`;
      const reqId = `req_011C${hex(20)}`;
      const blocks = int(1, maxBlocks);
      for (let b = 0; b < blocks; b += 1) {
        t += int(1, 20) * 1000;
        const uid = uuid();
        // Later lines of one response repeat its usage with a growing output count, as the
        // stream goes on; the first line is the one counted (ccusage's rule).
        const line = sink.line({
          parentUuid: parent,
          ...base,
          message: {
            id: msgId,
            type: 'message',
            role: 'assistant',
            model: m,
            content: b === blocks - 1 && r % 2 === 0 ? [{ type: 'tool_use', id: `toolu_${hex(20)}`, name: 'Read', input: { file_path: '/home/dev/x.ts' } }] : [{ type: 'text', text: text(int(fewestBytes, mostBytes)) }],
            stop_reason: null,
            stop_sequence: null,
            usage: {
              input_tokens: usage.input,
              cache_creation_input_tokens: usage.cacheCreation,
              cache_read_input_tokens: usage.cacheRead,
              cache_creation: { ephemeral_5m_input_tokens: usage.cacheCreation, ephemeral_1h_input_tokens: 0 },
              output_tokens: usage.output + b * 7,
              service_tier: 'standard',
              ...(fast ? { speed: 'fast' } : {}),
            },
          },
          requestId: reqId,
          type: 'assistant',
          uuid: uid,
          timestamp: stamp(),
        });
        if (b === 0) {
          addTotals(expected, stamp().slice(0, 10), fast ? `${m}-fast` : m, usage);
          keys.add(`${msgId}:${reqId}`);
          if (mine.length < 6) mine.push({ line });
        }
        parent = uid;
      }
      if (r % 2 === 0) {
        t += int(1, 30) * 1000;
        const off = int(0, pool.length - toolBytes * 2 - 1);
        const content = pool.slice(off, off + int(toolBytes / 2, toolBytes * 2));
        const uid = uuid();
        sink.line({ parentUuid: parent, ...base, type: 'user', message: { role: 'user', content: [{ tool_use_id: `toolu_${hex(20)}`, type: 'tool_result', content }] }, uuid: uid, timestamp: stamp(), toolUseResult: { type: 'text', file: { filePath: '/home/dev/x.ts', numLines: 120 } } });
        parent = uid;
      }
      // An API error (synthetic, no real usage) now and then.
      if (r === 3 && s % 2 === 0) {
        t += 1000;
        sink.line({ parentUuid: parent, ...base, type: 'assistant', isApiErrorMessage: true, message: { id: uuid(), type: 'message', role: 'assistant', model: '<synthetic>', content: [{ type: 'text', text: 'API Error: 529 overloaded' }], usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } }, uuid: uuid(), timestamp: stamp() });
      }
    }
    // One response of an older format, without a requestId: counted once, as it is unique.
    if (s === 1) {
      t += 2000;
      const usage = { input: 11, output: 222, cacheCreation: 333, cacheRead: 4444 };
      const lineUuid = uuid();
      sink.line({ parentUuid: parent, ...base, type: 'assistant', message: { id: `msg_01${hex(22)}`, role: 'assistant', model, content: [], usage: { input_tokens: 11, output_tokens: 222, cache_creation_input_tokens: 333, cache_read_input_tokens: 4444 } }, uuid: lineUuid, timestamp: stamp() });
      keys.add(`uuid:${lineUuid}`);
      addTotals(expected, stamp().slice(0, 10), model, usage);
    }
    // The second session's file ends with a torn line: a response still being written.
    if (s === 2) {
      t += 3000;
      const usage = { input: 5, output: 77, cacheCreation: 0, cacheRead: 1000 };
      const msgId = `msg_01${hex(22)}`;
      const reqId = `req_011C${hex(20)}`;
      const full = JSON.stringify({ parentUuid: parent, ...base, message: { id: msgId, type: 'message', role: 'assistant', model, content: [{ type: 'text', text: 'almost done' }], usage: { input_tokens: 5, output_tokens: 77, cache_creation_input_tokens: 0, cache_read_input_tokens: 1000 } }, requestId: reqId, type: 'assistant', uuid: uuid(), timestamp: stamp() });
      const cut = Math.floor(full.length * 0.6);
      sink.raw(full.slice(0, cut));
      torn = { path, rest: `${full.slice(cut)}\n` };
      // Not in `expected`: it counts only once the rest is written.
      void usage;
    }
    sink.flush();
    files.push(path);
    bytes += sink.bytes;
    if (s % 4 !== 3) copyable = mine;
  }

  const codexExpected = new Map<string, Totals>();
  if (o.codexDir) {
    const d = new Date(start + 86_400_000);
    const ymd = [String(d.getUTCFullYear()), String(d.getUTCMonth() + 1).padStart(2, '0'), String(d.getUTCDate()).padStart(2, '0')];
    const id = uuid();
    const path = join(o.codexDir, 'sessions', ...ymd, `rollout-${ymd.join('-')}T10-00-00-${id}.jsonl`);
    const sink = new LineSink(path);
    let t = start + 86_400_000 + 10 * 3_600_000;
    const stamp = () => new Date(t).toISOString();
    sink.line({ timestamp: stamp(), type: 'session_meta', payload: { id, timestamp: stamp(), cwd: '/home/dev/project-0', originator: 'codex_cli_rs', cli_version: '0.46.0', instructions: null } });
    const total = { input_tokens: 0, cached_input_tokens: 0, output_tokens: 0, reasoning_output_tokens: 0, total_tokens: 0 };
    for (let turn = 0; turn < 8; turn += 1) {
      const model = turn < 5 ? 'gpt-5-codex' : 'gpt-5';
      t += 60_000;
      sink.line({ timestamp: stamp(), type: 'turn_context', payload: { cwd: '/home/dev/project-0', approval_policy: 'on-request', model, effort: 'medium', summary: 'auto' } });
      sink.line({ timestamp: stamp(), type: 'response_item', payload: { type: 'message', role: 'user', content: [{ type: 'input_text', text: text(200) }] } });
      const last = { input_tokens: int(2000, 40_000), cached_input_tokens: 0, output_tokens: int(50, 4000), reasoning_output_tokens: 0, total_tokens: 0 };
      last.cached_input_tokens = int(0, last.input_tokens);
      last.reasoning_output_tokens = int(0, last.output_tokens);
      last.total_tokens = last.input_tokens + last.output_tokens;
      for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += last[k];
      t += 30_000;
      const event = { timestamp: stamp(), type: 'event_msg', payload: { type: 'token_count', info: { total_token_usage: { ...total }, last_token_usage: last, model_context_window: 272_000 }, rate_limits: null } };
      sink.line(event);
      // Codex repeats a token_count with unchanged totals: it adds nothing.
      if (turn % 3 === 0) sink.line({ ...event, timestamp: new Date(t + 500).toISOString() });
      const cur = codexExpected.get(model) ?? { input: 0, output: 0, cacheCreation: 0, cacheRead: 0 };
      codexExpected.set(model, {
        input: cur.input + last.input_tokens - last.cached_input_tokens,
        output: cur.output + last.output_tokens,
        cacheCreation: 0,
        cacheRead: cur.cacheRead + last.cached_input_tokens,
      });
    }
    sink.flush();
    files.push(path);
    bytes += sink.bytes;
  }
  return { files, bytes, expected, codexExpected, torn, keys };
}
