// A hub and three machines as separate `token-api serve` processes on loopback, each with its
// own data directory, 20 agents per machine driven by real hook sequences, while a seeded
// chaos loop kills a machine or the hub with SIGKILL at random moments and restarts it; then a
// machine is stopped (SIGSTOP) for over three heartbeats and must show offline with its agents
// kept. After the load stops, the hub must converge to every machine's true state: the same
// instances (by content) and the same events, none lost, none twice. Last, the hub stops one
// machine (stop-daemon): it exits with 0 and shows offline. FAULT_SEED=<n> replays.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createRng } from './support/prng.js';
import { CLI, runCli } from './support/process.js';
import { readRows } from './support/sqlite.js';
import { hookPayload, tempHome } from './support/system.js';

const TSX = new URL('../node_modules/tsx/dist/esm/index.mjs', import.meta.url).href;
const AGENTS = 20;
const CHAOS_MS = 20_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A `serve` child that can be killed and started again on the same home (and port, if given). */
class Node {
  child: ChildProcess | null = null;
  url = '';
  log = '';
  constructor(
    readonly name: string,
    readonly home: string,
    readonly port: number,
  ) {}

  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--import', TSX, CLI, 'serve', '--home', this.home, '--port', String(this.port), '--log-level', 'warn'], {
      env: { ...process.env, CODEX_HOME: join(this.home, 'codex-home'), TOKEN_API_HUB_TOKEN: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    let err = '';
    this.url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not start:\n${err}`)), 60_000);
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        this.log = (this.log + d.toString()).slice(-20_000);
        const m = /listening on (http:\/\/\S+)/.exec(err);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code ?? signal}) before listening:\n${err}`));
      });
    });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  async get(path: string): Promise<any> {
    const res = await fetch(this.url + path, { signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200, `${this.name} GET ${path}: ${res.status}`);
    return res.json();
  }
}

const essence = (i: any) => ({ id: i.id, session_id: i.session_id, state: i.state, status: i.status, tool_count: i.tool_count, subagent_count: i.subagent_count, last_activity: i.last_activity, stop_reason: i.stop_reason });
const byId = (a: any[]) => [...a].sort((x, y) => x.id.localeCompare(y.id)).map(essence);

/** One agent's hooks, in an order Claude Code sends them, round and round. */
const CYCLE: [string, Record<string, unknown>][] = [
  ['UserPromptSubmit', { prompt: 'go on' }],
  ['PreToolUse', { tool_name: 'Bash', tool_input: { command: 'npm test' } }],
  ['PostToolUse', { tool_name: 'Bash', tool_response: { stdout: 'ok' } }],
  ['Notification', { notification_type: 'permission_prompt', message: 'Claude needs your permission to use Bash' }],
  ['PreToolUse', { tool_name: 'Edit', tool_input: {} }],
  ['Stop', {}],
];

describe('a hub and three machines under SIGKILL converge', () => {
  const rng = createRng();
  const hubHome = tempHome('token-api-hub-');
  const homes = [tempHome('token-api-m0-'), tempHome('token-api-m1-'), tempHome('token-api-m2-')];
  const nodes: Node[] = [];
  after(async () => {
    for (const n of nodes) {
      n.signal('SIGCONT');
      await n.kill();
    }
    hubHome.cleanup();
    for (const h of homes) h.cleanup();
  });

  it(`converges with nothing lost or twice (FAULT_SEED=${rng.seed})`, async () => {
    // Tokens on the hub, one per machine; a 1 s heartbeat so that offline shows within seconds.
    // One after another: the first creates the hub's database.
    const tokens: string[] = [];
    for (let i = 0; i < homes.length; i++) {
      const r = await runCli(['machines', 'add', `m${i}`, '--home', hubHome.dir]);
      assert.equal(r.code, 0, r.stderr);
      tokens.push(r.stdout.trim());
    }
    for (const t of tokens) assert.match(t, /^tam_/);
    writeFileSync(join(hubHome.dir, 'config.json'), JSON.stringify({ hub: { heartbeat_seconds: 1 }, codex: { enabled: false } }));
    const hub = new Node('hub', hubHome.dir, await freePort());
    nodes.push(hub);
    await hub.start();
    const machines = homes.map((h, i) => {
      writeFileSync(join(h.dir, 'hub-token'), `${tokens[i]}\n`, { mode: 0o600 });
      writeFileSync(join(h.dir, 'config.json'), JSON.stringify({ hub: { url: hub.url, heartbeat_seconds: 1 }, codex: { enabled: false } }));
      return new Node(`m${i}`, h.dir, 0);
    });
    nodes.push(...machines);
    await Promise.all(machines.map((m) => m.start()));

    // Load: each machine's 20 agents start, then send their cycle, a hook every 40-120 ms per machine.
    let loading = true;
    let acknowledged = 0;
    const hook = async (m: Node, sid: string, name: string, extra: Record<string, unknown>) => {
      try {
        const res = await fetch(`${m.url}/api/hooks?pid=${process.pid}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(hookPayload(sid, name, extra)), signal: AbortSignal.timeout(5000) });
        if (res.ok) acknowledged++;
        await res.arrayBuffer();
      } catch {
        // the machine was killed: its database is the truth either way
      }
    };
    const loads = machines.map(async (m, mi) => {
      const step = new Array<number>(AGENTS).fill(0);
      for (let a = 0; a < AGENTS; a++) await hook(m, `m${mi}-agent-${a}`, 'SessionStart', { source: 'startup' });
      while (loading) {
        const a = rng.int(0, AGENTS - 1);
        const [name, extra] = CYCLE[step[a]! % CYCLE.length]!;
        step[a]!++;
        await hook(m, `m${mi}-agent-${a}`, name, extra);
        await new Promise((r) => setTimeout(r, rng.int(40, 120)));
      }
    });

    // Chaos: SIGKILL a machine (70 %) or the hub (30 %) every 1.5-3.5 s, restart after 100-800 ms.
    const kills: string[] = [];
    const end = Date.now() + CHAOS_MS;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, rng.int(1500, 3500)));
      const victim = rng.next() < 0.3 ? hub : rng.pick(machines);
      kills.push(victim.name);
      await victim.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, rng.int(100, 800)));
      await victim.start();
    }
    // The hub once more, under load.
    kills.push('hub');
    await hub.kill('SIGKILL');
    await hub.start();

    // A machine that goes silent (SIGSTOP: its socket stays open) is offline after three heartbeats.
    const stopped = rng.pick(machines);
    const stoppedId = (await stopped.get('/v1/machine')).id as string;
    await until('the hub to hear from the machine to be stopped', async () => (await hub.get(`/v1/machines/${stoppedId}`)).machine.online === true);
    const eventsBefore = (await hub.get('/api/events?type=device_disconnected&limit=1000')).events.length;
    stopped.signal('SIGSTOP');
    const offline = await until('the stopped machine to show offline', async () => {
      const m = (await hub.get(`/v1/machines/${stoppedId}`)).machine;
      return m.online === false && m;
    });
    assert.equal(offline.online, false);
    const kept = (await hub.get(`/api/instances?status=all&limit=1000&machine=${stoppedId}`)).instances;
    assert.equal(kept.length, AGENTS, 'its agents are still listed');
    for (const i of kept) assert.equal(i.machine.online, false);
    // The presence sweep (every half heartbeat) records it.
    await until('device_disconnected on the hub', async () => {
      const disconnected = (await hub.get('/api/events?type=device_disconnected&limit=1000')).events;
      return disconnected.length > eventsBefore && disconnected.some((e: any) => e.details.machine === stoppedId);
    });
    stopped.signal('SIGCONT');

    loading = false;
    await Promise.all(loads);

    // Quiescence: every machine's head is the hub's cursor for it.
    const ids = await Promise.all(machines.map(async (m) => (await m.get('/v1/machine')).id as string));
    await until(
      'the hub to hold every change of every machine',
      async () => {
        for (let i = 0; i < machines.length; i++) {
          const head = (await machines[i]!.get('/v1/machine')).sync.head;
          const held = (await hub.get(`/v1/machines/${ids[i]}`)).machine;
          if (held.sync.acked !== head || !held.online) return false;
        }
        return true;
      },
      30_000,
    );

    // Content, not cursors: the same instances and the same events on both sides.
    for (let i = 0; i < machines.length; i++) {
      const m = machines[i]!;
      const truth = (await m.get('/api/instances?status=all&limit=1000')).instances;
      assert.equal(truth.length, AGENTS);
      const held = (await hub.get(`/api/instances?status=all&limit=1000&machine=${ids[i]}`)).instances;
      assert.deepEqual(byId(held), byId(truth), `${m.name}'s instances on the hub`);
      const events = await readRows(m.home, 'SELECT id, event_type FROM events ORDER BY id');
      const heldEvents = await readRows(hub.home, 'SELECT remote_id AS id, event_type FROM remote_events WHERE machine = ? ORDER BY remote_id', [ids[i]!]);
      assert.deepEqual(heldEvents, events, `${m.name}'s events on the hub, each once`);
    }
    assert.ok(acknowledged > 300, `${acknowledged} hooks acknowledged`);
    assert.ok(kills.includes('hub'), 'the hub was killed at least once');

    // Stop-daemon from the hub: acknowledged, the process exits cleanly (code 0), the hub shows it offline at once.
    const target = machines[0]!;
    const exited = new Promise<number | null>((resolve) => target.child!.once('exit', (code) => resolve(code)));
    const res = await fetch(`${hub.url}/v1/machines/${ids[0]}/stop`, { method: 'POST' });
    assert.equal(res.status, 202, await res.text());
    assert.equal(await exited, 0, target.log.slice(-2000));
    const gone = (await hub.get(`/v1/machines/${ids[0]}`)).machine;
    assert.equal(gone.daemon_state.status, 'offline');
    assert.equal(gone.daemon_state.shutdown_source, 'hub');
    assert.equal(gone.online, false);
  });

  /** Waits for a condition the processes reach on their own, checking every 100 ms. */
  async function until<T>(what: string, probe: () => Promise<T | false>, ms = 20_000): Promise<T> {
    const deadline = Date.now() + ms;
    let last: unknown;
    for (;;) {
      try {
        const v = await probe();
        if (v) return v;
      } catch (err) {
        last = err;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (FAULT_SEED=${rng.seed})${last ? `: ${String(last)}` : ''}\n${nodes.map((n) => `--- ${n.name}\n${n.log.slice(-3000)}`).join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});
