// Crash under load: concurrent clients send mixed hook events across many sessions as fast as
// they can, and the real server process is killed with SIGKILL at a random moment, several
// times in a row, and restarted each time. Afterwards every acknowledged event is in the log
// exactly once, in order, with the state it produced; the log folds (through an independent
// model) into exactly the state the restarted server holds; the database passes
// `PRAGMA integrity_check` after every crash. FAULT_SEED=<n> replays a run's choices.
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openDatabase } from '../src/db/database.js';
import { applyModel, newModelInstance, type ModelEvent, type ModelInstance } from './support/instance-model.js';
import { createRng, type Rng } from './support/prng.js';
import { startServerProcess, type ServerProcess } from './support/process.js';
import { hookPayload, tempHome } from './support/system.js';

const SENDERS = 8;
const SESSIONS_PER_SENDER = 6;
const KILLS = 4;

interface Sent extends ModelEvent {
  seq: string;
  session: string;
}

interface HookAnswer {
  outcome: string;
  registered: boolean;
  from: string | null;
  to: string | null;
  instance: { state: string; tool_count: number; subagent_count: number; current_tool: string | null } | null;
}

interface Phase {
  url: string;
  /** Acknowledgements after which this phase ends (the kill, or the end of the run). */
  target: number;
  acks: number;
  reached: () => void;
  final: boolean;
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A random hook event, with the fields Claude Code sends for it. */
function randomEvent(rng: Rng, session: string, seq: string): { sent: Sent; body: Record<string, unknown> } {
  const r = rng.next() * 24;
  let sent: Sent;
  let extra: Record<string, unknown> = {};
  if (r < 3) sent = { name: 'UserPromptSubmit', seq, session };
  else if (r < 7) {
    sent = { name: 'PreToolUse', tool: rng.next() < 0.1 ? 'AskUserQuestion' : rng.pick(['Bash', 'Edit', 'Read', 'Grep']), seq, session };
    extra = { tool_name: sent.tool, tool_input: { command: 'x'.repeat(rng.int(0, 2000)) } };
  } else if (r < 11) {
    sent = { name: 'PostToolUse', tool: rng.pick(['Bash', 'Edit', 'Read']), seq, session };
    extra = { tool_name: sent.tool, tool_response: { stdout: 'ok' } };
  } else if (r < 13) {
    sent = { name: 'Notification', notificationType: rng.pick(['permission_prompt', 'idle_prompt']), seq, session };
    extra = { notification_type: sent.notificationType, message: 'Claude needs your permission to use Bash' };
  } else if (r < 14) {
    sent = { name: 'PermissionRequest', seq, session };
    extra = { tool_name: 'Bash' };
  } else if (r < 16) sent = { name: 'SubagentStart', seq, session };
  else if (r < 18) sent = { name: 'SubagentStop', seq, session };
  else if (r < 21) {
    sent = { name: 'Stop', seq, session };
    extra = { last_assistant_message: 'done' };
  } else if (r < 23.5) {
    sent = { name: 'SessionStart', seq, session };
    extra = { source: 'startup' };
  } else {
    sent = { name: 'SessionEnd', seq, session };
    extra = { reason: 'exit' };
  }
  return { sent, body: hookPayload(session, sent.name, { ...extra, seq }) };
}

async function integrity(file: string): Promise<string> {
  const db = await openDatabase(file, { readOnly: true });
  try {
    const rows = await db.all<{ integrity_check: string }>('PRAGMA integrity_check');
    return rows.map((r) => r.integrity_check).join('; ');
  } finally {
    await db.close();
  }
}

describe('crash under load: SIGKILL at random moments, several times in a row', () => {
  const home = tempHome('token-api-fault-crash-');
  let server: ServerProcess | undefined;
  after(async () => {
    await server?.kill();
    home.cleanup();
  });

  it('keeps every acknowledged event and the state it produced', { timeout: 180_000 }, async (t) => {
    const rng = createRng();
    const why = `(FAULT_SEED=${rng.seed})`;
    const empty = join(home.dir, 'empty');
    mkdirSync(empty);
    writeFileSync(
      join(home.dir, 'config.json'),
      JSON.stringify({
        codex: { enabled: false, home: join(home.dir, 'codex-home') },
        usage_claude_dirs: [empty],
        usage_codex_dirs: [empty],
        usage_scan_interval_minutes: 0,
        usage_live_interval_seconds: 0,
        notifications: { speech: { engine: 'none' }, sound: { player: 'none' } },
      }),
    );
    const dbFile = join(home.dir, 'token-api.db');

    const sessionsOf = (k: number) => Array.from({ length: SESSIONS_PER_SENDER }, (_, j) => `crash-${k}-${j}`);
    const acked = new Map<string, { sent: Sent; status: number; answer: HookAnswer }>();
    const unknown = new Set<string>();
    const sentBySeq = new Map<string, Sent>();
    const unexpected: string[] = [];

    let nextPhase = deferred<Phase | null>();
    let parked = 0;
    let allParked = deferred();

    async function park(): Promise<Phase | null> {
      parked += 1;
      if (parked === SENDERS) allParked.resolve();
      const p = await nextPhase.promise;
      return p;
    }

    async function sender(k: number): Promise<void> {
      const own = createRng(rng.seed + 7919 * (k + 1));
      const sessions = sessionsOf(k);
      let n = 0;
      let p = await nextPhase.promise;
      while (p) {
        const session = sessions[n % sessions.length]!;
        const seq = `s${k}-${n}`;
        n += 1;
        const { sent, body } = randomEvent(own, session, seq);
        sentBySeq.set(seq, sent);
        let status: number;
        let text: string;
        try {
          const res = await fetch(`${p.url}/api/hooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
          status = res.status;
          text = await res.text();
        } catch {
          // The server died with this request in flight (or before it): it may or may not be committed.
          unknown.add(seq);
          p = await park();
          continue;
        }
        if (status === 200 || status === 202) {
          acked.set(seq, { sent, status, answer: JSON.parse(text) as HookAnswer });
          p.acks += 1;
          if (p.acks === p.target) p.reached();
          if (p.final && p.acks >= p.target) return;
        } else {
          unexpected.push(`${seq} ${sent.name}: ${status} ${text.slice(0, 300)}`);
        }
      }
    }

    const started: ServerProcess[] = [];
    async function startPhase(target: number, final: boolean): Promise<Phase> {
      server = await startServerProcess(home.dir);
      started.push(server);
      const reached = deferred();
      const p: Phase = { url: server.url, target, acks: 0, reached: reached.resolve, final };
      parked = 0;
      allParked = deferred();
      const release = nextPhase;
      nextPhase = deferred<Phase | null>();
      release.resolve(p);
      await reached.promise;
      return p;
    }

    const senders = Array.from({ length: SENDERS }, (_, k) => sender(k));
    for (let kill = 0; kill < KILLS; kill++) {
      // Sometimes almost at once (while the first requests are in their first transactions), usually well into the load.
      const target = kill === 1 ? rng.int(1, 20) : rng.int(150, 600);
      await startPhase(target, false);
      await server!.kill('SIGKILL');
      await allParked.promise;
      assert.equal(await integrity(dbFile), 'ok', `integrity after kill ${kill + 1} ${why}`);
    }
    const finalPhase = await startPhase(rng.int(150, 400), true);
    await Promise.all(senders);
    assert.deepEqual(unexpected, [], `answers other than 200/202 ${why}`);
    for (const [i, p] of started.entries()) assert.doesNotMatch(p.stderr(), /rebuilt|retired/, `a snapshot failed its checks at start ${i + 1} ${why}`);
    assert.ok(acked.size >= 600, `only ${acked.size} events acknowledged ${why}`);
    assert.ok(unknown.size <= SENDERS * KILLS, `${unknown.size} events in doubt`);

    // ---- the committed log, read beside the running server ----
    const db = await openDatabase(dbFile, { readOnly: true });
    const rows = await db.all<{ id: number; event_type: string; instance_id: string; details: string }>(
      "SELECT id, event_type, instance_id, details FROM events WHERE event_type LIKE 'hook.%' ORDER BY id",
    );
    const lifecycle = await db.all<{ event_type: string; instance_id: string; n: number }>(
      "SELECT event_type, instance_id, COUNT(*) AS n FROM events WHERE event_type IN ('instance.registered', 'instance.revived', 'instance.stopped') GROUP BY event_type, instance_id",
    );
    const intentRows = await db.all<{ instance_id: string; n: number }>('SELECT instance_id, COUNT(*) AS n FROM notification_intents GROUP BY instance_id');
    await db.close();

    const stored: { seq: string; type: string; instanceId: string; from: string | null; to: string | null }[] = [];
    for (const r of rows) {
      const d = JSON.parse(r.details) as { from: string | null; to: string | null; payload: { seq?: string } };
      assert.ok(d.payload.seq, `event ${r.id} has no seq`);
      stored.push({ seq: d.payload.seq, type: r.event_type, instanceId: r.instance_id, from: d.from, to: d.to });
    }
    const seen = new Set<string>();
    for (const s of stored) {
      assert.ok(!seen.has(s.seq), `${s.seq} was committed twice ${why}`);
      seen.add(s.seq);
      assert.ok(acked.has(s.seq) || unknown.has(s.seq), `${s.seq} is in the log but was never sent ${why}`);
    }
    const lost = [...acked.keys()].filter((seq) => !seen.has(seq));
    assert.deepEqual(lost, [], `${lost.length} of ${acked.size} acknowledged events were lost ${why}`);

    // Fold the log, session by session, through the model; every row and every answer must agree.
    const models = new Map<string, ModelInstance>();
    const lastIndex = new Map<string, number>();
    for (const s of stored) {
      const sent = sentBySeq.get(s.seq)!;
      const index = Number(s.seq.split('-')[1]);
      assert.ok(index > (lastIndex.get(sent.session) ?? -1), `${s.seq} committed out of order ${why}`);
      lastIndex.set(sent.session, index);
      assert.equal(s.instanceId, `claude-${sent.session}`);
      let m = models.get(sent.session);
      if (!m) models.set(sent.session, (m = newModelInstance()));
      const step = applyModel(m, sent);
      assert.deepEqual({ from: s.from, to: s.to }, { from: step.from, to: step.to }, `row of ${s.seq} (${sent.name}) ${why}`);
      const a = acked.get(s.seq);
      if (a) {
        assert.equal(a.status, step.outcome === 'applied' ? 200 : 202, `${s.seq} status ${why}`);
        const got = { outcome: a.answer.outcome, registered: a.answer.registered, from: a.answer.from, to: a.answer.to };
        assert.deepEqual(got, step, `answer to ${s.seq} (${sent.name}) ${why}`);
        if (step.outcome === 'applied') {
          const i = a.answer.instance!;
          assert.deepEqual(
            { state: i.state, tool: i.current_tool, tools: i.tool_count, subagents: i.subagent_count },
            { state: m.state, tool: m.currentTool, tools: m.toolCount, subagents: m.subagentCount },
            `instance in the answer to ${s.seq} ${why}`,
          );
        }
      }
    }

    const inDoubtCommitted = stored.filter((s) => !acked.has(s.seq)).length;
    const states = [...models.values()].map((m) => m.state);
    t.diagnostic(
      `${why}: ${acked.size} acknowledged, ${unknown.size} in doubt at a kill (${inDoubtCommitted} of them committed), ${models.size} sessions ` +
        `(${['idle', 'working', 'awaiting', 'stopped'].map((st) => `${states.filter((x) => x === st).length} ${st}`).join(', ')})`,
    );

    // Lifecycle events and notify intents were committed with the transitions that made them.
    const count = (type: string, id: string) => lifecycle.find((l) => l.event_type === type && l.instance_id === id)?.n ?? 0;
    for (const [session, m] of models) {
      const id = `claude-${session}`;
      assert.equal(count('instance.registered', id) + count('instance.revived', id), m.registrations, `${id} registrations and revivals ${why}`);
      assert.equal(count('instance.stopped', id), m.stops, `${id} stops ${why}`);
      assert.equal(intentRows.find((r) => r.instance_id === id)?.n ?? 0, m.intents, `${id} notify intents ${why}`);
    }

    // ---- the restarted server holds exactly the folded state ----
    const url = finalPhase.url;
    const byState: Record<string, number> = { idle: 0, working: 0, awaiting: 0 };
    for (const [session, m] of models) {
      const res = await fetch(`${url}/api/instances/claude-${session}`);
      const v = (await res.json()) as { state: string; status: string; current_tool: string | null; tool_count: number; subagent_count: number };
      assert.deepEqual(
        { state: v.state, status: v.status, tool: v.current_tool, tools: v.tool_count, subagents: v.subagent_count },
        { state: m.state, status: m.state === 'stopped' ? 'stopped' : 'active', tool: m.currentTool, tools: m.toolCount, subagents: m.subagentCount },
        `claude-${session} after the last restart ${why}`,
      );
      if (m.state === 'stopped') continue;
      byState[m.state]! += 1;
      // The live actor (restored from its snapshot, not only the projection row) agrees too:
      // an event that changes nothing answers with its state and counts.
      const probe = await fetch(`${url}/api/hooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(hookPayload(session, 'Notification', { notification_type: 'idle_prompt', message: 'waiting', seq: 'probe' })),
      });
      const p = (await probe.json()) as HookAnswer;
      assert.deepEqual(
        { from: p.from, to: p.to, tools: p.instance?.tool_count, subagents: p.instance?.subagent_count, tool: p.instance?.current_tool },
        { from: m.state, to: m.state, tools: m.toolCount, subagents: m.subagentCount, tool: m.currentTool },
        `live actor of claude-${session} ${why}`,
      );
    }
    const health = (await (await fetch(`${url}/health`)).json()) as { status: string; actors: { instances: number; instances_by_state: Record<string, number> } };
    assert.equal(health.status, 'ok');
    assert.deepEqual(health.actors.instances_by_state, byState, why);

    // A clean stop, then the file itself.
    const code = await server!.kill('SIGTERM');
    assert.equal(code, 0, server!.stderr());
    server = undefined;
    assert.equal(await integrity(dbFile), 'ok');
    const after = await openDatabase(dbFile, { readOnly: true });
    const projections = await after.all<{ id: string; state: string; tool_count: number; subagent_count: number; current_tool: string | null }>(
      "SELECT id, state, tool_count, subagent_count, current_tool FROM claude_instances WHERE id LIKE 'claude-crash-%'",
    );
    const snapshots = await after.get<{ n: number }>("SELECT COUNT(*) AS n FROM actor_snapshots WHERE machine_id = 'instance' AND status = 'active'");
    await after.close();
    assert.equal(projections.length, models.size);
    for (const p of projections) {
      const m = models.get(p.id.slice('claude-'.length))!;
      assert.deepEqual([p.state, p.tool_count, p.subagent_count, p.current_tool], [m.state, m.toolCount, m.subagentCount, m.currentTool], `${p.id} row ${why}`);
    }
    assert.equal(snapshots!.n, byState.idle! + byState.working! + byState.awaiting!, `live snapshots ${why}`);
  });
});
