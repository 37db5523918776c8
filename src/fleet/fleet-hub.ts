// The hub side of machines: tokens, registration and the two versioned documents (compare and
// set: an update names the version it expects, a mismatch answers with the current document),
// the connected machines and their calls, and presence. Rows are written through the runtime
// hub's writer (`record`), so every change is committed before it is answered.
import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import type { EventDraft } from '../db/queries/events.js';
import {
  applyChangesOps,
  getMachine,
  listMachines,
  listRemoteInstances,
  pruneRemoteEventsOp,
  machineByName,
  registerMachineOps,
  remoteInstancesById,
  remoteInstanceStates,
  resetMachineOps,
  revokedAmong,
  tokenByHash,
  updateDocOp,
  type DocKind,
  type FleetMachineRow,
  type FleetTokenRow,
  type RemoteEventDraft,
  type RemoteInstanceDraft,
  type RemoteInstanceFilter,
} from '../db/queries/fleet.js';
import type { WriteOp } from '../db/writer.js';
import { iso, type Clock, type TimerHandle } from '../lib/clock.js';
import { DomainError } from '../lib/domain-error.js';
import type { DaemonState, MachineFrame, MachineMetadata, MachineView } from '../protocol/fleet.js';
import { CLOSE } from '../protocol/fleet.js';
import { createCalls, type CallAnswer } from './calls.js';
import { hashToken } from './tokens.js';

/** What the hub needs of a machine's socket. */
export interface MachineConnection {
  send(frame: object): void;
  close(code: number, reason: string): void;
}

export interface FleetHubDeps {
  db: Database;
  record(extra: { ops?: WriteOp[]; events?: EventDraft[] }): Promise<unknown>;
  clock: Clock;
  logger: Logger;
  heartbeatMs: number;
  callTimeoutMs: number;
  /** Machines' events older than this are deleted, as the hub's own are (event_retention_days; 0: kept). */
  retentionMs: number;
  /** This server as a machine (listed with `local: true`). */
  local: () => { id: string; name: string; metadata: MachineMetadata; daemonState: DaemonState; startedAt: number };
  /**
   * Rows of the hub's own to commit with a frame of a machine's changes (the notifications of
   * the intents it forwarded: src/system joins them); `after` runs once the frame commits.
   */
  withChanges?: (machine: { id: string; name: string }, events: readonly RemoteEventDraft[]) => Promise<{ ops: WriteOp[]; events: EventDraft[]; after: () => void } | null>;
}

/** An instance as a machine reported it, with its machine. */
export type RemoteInstance = Record<string, unknown> & { id: string; state: string; status: string; machine: { id: string; name: string; online: boolean } };

export type UpdateResult = { ok: true; machine: MachineView } | { ok: false; current: MachineView };

type Changes = Extract<MachineFrame, { t: 'changes' }>;

const PRUNE_EVERY_MS = 60 * 60_000;

export function createFleetHub(deps: FleetHubDeps) {
  const { db, clock, logger } = deps;
  const startedAt = clock.now();
  const calls = createCalls(clock);
  /** Connected machines: the newest socket of each, its token, and the calls waiting on it. */
  const conns = new Map<string, { conn: MachineConnection; tokenId: number; calls: Set<string> }>();
  /** When each machine was last heard (hub receive time); the hub's start time until then. */
  const lastSeen = new Map<string, number>();
  /** Machines that said they are stopping (daemon state offline): offline at once. */
  const stopped = new Set<string>();
  /** Presence as last announced on the feed. */
  const shown = new Map<string, boolean>();
  /** Each reported instance: since when it waits for the person (its machine's clock), or null. */
  const waits = new Map<string, number | null>();
  const noteWait = (id: string, state: string, since: string | null | undefined) => waits.set(id, state === 'awaiting' && since ? Date.parse(since) : null);

  /** Who hears of remote instances that changed (the feed). */
  const listeners = new Set<(items: RemoteInstance[]) => void>();
  function emit(items: RemoteInstance[]): void {
    if (items.length === 0) return;
    for (const l of listeners) {
      try {
        l(items);
      } catch (err) {
        logger.error({ err }, 'a listener of remote instances failed');
      }
    }
  }
  const withMachine = (view: string, machine: string, name: string): RemoteInstance =>
    ({ ...(JSON.parse(view) as Record<string, unknown>), machine: { id: machine, name, online: isOnline(machine) } }) as RemoteInstance;

  const isOnline = (id: string) => !stopped.has(id) && clock.now() - (lastSeen.get(id) ?? startedAt) < 3 * deps.heartbeatMs;

  function view(row: FleetMachineRow): MachineView {
    return {
      id: row.id,
      name: row.name,
      local: false,
      online: isOnline(row.id),
      connected: conns.has(row.id),
      last_seen_at: lastSeen.has(row.id) ? iso(lastSeen.get(row.id)!) : row.last_seen_at,
      metadata: JSON.parse(row.metadata) as unknown,
      metadata_version: row.metadata_version,
      daemon_state: JSON.parse(row.daemon_state) as unknown,
      daemon_state_version: row.daemon_state_version,
      sync: { acked: row.acked_seq, epoch: row.epoch },
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }

  function localView(): MachineView {
    const l = deps.local();
    const at = iso(l.startedAt);
    return {
      id: l.id,
      name: l.name,
      local: true,
      online: true,
      connected: true,
      last_seen_at: iso(clock.now()),
      metadata: l.metadata,
      metadata_version: 1,
      daemon_state: l.daemonState,
      daemon_state_version: 1,
      sync: { acked: 0, epoch: null },
      created_at: at,
      updated_at: at,
    };
  }

  /** A reporting machine by id or name. */
  async function find(idOrName: string): Promise<FleetMachineRow | undefined> {
    return (await getMachine(db, idOrName)) ?? (await machineByName(db, idOrName));
  }

  async function mustFind(idOrName: string): Promise<FleetMachineRow> {
    const row = await find(idOrName);
    if (!row) throw new DomainError('not_found', `no machine ${idOrName} reports to this hub (token-api machines list shows the tokens)`);
    return row;
  }

  function presence(id: string, name: string, online: boolean): void {
    if (shown.get(id) === online) return;
    shown.set(id, online);
    logger.info({ machine: id, name }, online ? 'machine connected' : 'machine offline');
    // Its instances as they are, marked on- or offline (greyed on a dashboard, never removed).
    if (listeners.size > 0) {
      listRemoteInstances(db, { machine: id, status: 'all', limit: 10_000 })
        .then((rows) => emit(rows.map((r) => withMachine(r.view, id, name))))
        .catch((err: unknown) => logger.warn({ err }, 'could not read a machine\'s instances'));
    }
    deps.record({ events: [{ type: online ? 'device_connected' : 'device_disconnected', at: clock.now(), details: { machine: id, name } }] }).catch((err: unknown) => logger.error({ err }, 'could not record a machine presence change'));
  }

  function seen(id: string): void {
    lastSeen.set(id, clock.now());
    stopped.delete(id);
  }

  let sweepTimer: TimerHandle | undefined;
  /** When the machines' old events were last pruned (the first sweep prunes). */
  let prunedAt = -Infinity;
  let closed = false;
  /** Every heartbeat: presence changes onto the feed, and sockets of revoked tokens closed. */
  async function sweep(): Promise<void> {
    try {
      for (const row of await listMachines(db)) presence(row.id, row.name, isOnline(row.id));
      const revoked = new Set(await revokedAmong(db, [...conns.values()].map((c) => c.tokenId)));
      for (const c of conns.values()) if (revoked.has(c.tokenId)) c.conn.close(CLOSE.unauthorized, 'the machine token was revoked');
      if (deps.retentionMs > 0 && clock.now() - prunedAt >= PRUNE_EVERY_MS) {
        prunedAt = clock.now();
        await deps.record({ ops: [pruneRemoteEventsOp(iso(clock.now() - deps.retentionMs), 50_000)] });
      }
    } catch (err) {
      logger.warn({ err }, 'machine presence sweep failed');
    }
    if (!closed) sweepTimer = clock.setTimeout(() => void sweep(), Math.max(250, deps.heartbeatMs / 2));
  }

  return {
    /** Starts the presence sweep (the hub's start time counts as each machine's last sighting). */
    async start(): Promise<void> {
      for (const row of await listMachines(db)) shown.set(row.id, true);
      for (const i of await remoteInstanceStates(db)) noteWait(i.id, i.state, i.state_since);
      sweepTimer = clock.setTimeout(() => void sweep(), Math.max(250, deps.heartbeatMs / 2));
    },
    /** Runs one presence sweep now (tests on the injected clock). */
    sweep,

    /** The token's row if it is a live machine token. */
    async authenticate(token: string): Promise<FleetTokenRow | null> {
      const row = await tokenByHash(db, hashToken(token));
      return row && !row.revoked_at ? row : null;
    },

    /** POST /v1/machines: idempotent; never overwrites a document (updates name a version). */
    async register(token: FleetTokenRow, body: { id: string; metadata: MachineMetadata; daemon_state: DaemonState }): Promise<{ created: boolean; machine: MachineView }> {
      if (token.machine && token.machine !== body.id) throw new DomainError('conflict', `this token belongs to machine ${token.machine}; each machine needs its own token (token-api machines add NAME on the hub)`, 'id');
      const existing = await getMachine(db, body.id);
      if (existing) {
        if (existing.token_id !== token.id) throw new DomainError('conflict', `machine ${body.id} is registered with another token`, 'id');
        return { created: false, machine: view(existing) };
      }
      if (body.id === deps.local().id) throw new DomainError('conflict', 'that id is this hub\'s own; a machine cannot report to itself', 'id');
      const at = iso(clock.now());
      const row: FleetMachineRow = {
        id: body.id,
        name: token.name,
        token_id: token.id,
        metadata: JSON.stringify(body.metadata),
        metadata_version: 1,
        daemon_state: JSON.stringify(body.daemon_state),
        daemon_state_version: 1,
        epoch: null,
        acked_seq: 0,
        last_seen_at: at,
        created_at: at,
        updated_at: at,
      };
      await deps.record({ ops: registerMachineOps(row) });
      seen(body.id);
      return { created: true, machine: view((await getMachine(db, body.id))!) };
    },

    /** PUT a document: written only if `expected` is its version (past or future: the current one is answered). */
    async updateDoc(token: FleetTokenRow | null, id: string, kind: DocKind, doc: MachineMetadata | DaemonState, expected: number): Promise<UpdateResult> {
      const row = await getMachine(db, id);
      if (!row) throw new DomainError('not_found', `no machine ${id} is registered with this hub; register first (POST /v1/machines)`);
      if (token && row.token_id !== token.id) throw new DomainError('conflict', `this token belongs to another machine than ${id}`, 'id');
      const version = kind === 'metadata' ? row.metadata_version : row.daemon_state_version;
      if (expected !== version) return { ok: false, current: view(row) };
      await deps.record({ ops: [updateDocOp(id, kind, JSON.stringify(doc), expected, iso(clock.now()))] });
      const after = (await getMachine(db, id))!;
      const now = kind === 'metadata' ? after.metadata_version : after.daemon_state_version;
      if (now !== expected + 1) return { ok: false, current: view(after) };
      if (token) seen(id);
      if (kind === 'daemon_state' && (doc as DaemonState).status === 'offline') {
        stopped.add(id);
        presence(id, row.name, false);
      }
      return { ok: true, machine: view(after) };
    },

    async list(): Promise<MachineView[]> {
      return [localView(), ...(await listMachines(db)).map(view)];
    },

    async get(idOrName: string): Promise<MachineView> {
      const l = deps.local();
      if (idOrName === l.id || idOrName === l.name || idOrName === 'local') return localView();
      return view(await mustFind(idOrName));
    },

    /** Whether an id or name is this server itself. */
    isLocal(idOrName: string): boolean {
      const l = deps.local();
      return idOrName === l.id || idOrName === l.name || idOrName === 'local';
    },

    /** The instances a machine reported, as it reported them, each with its machine. */
    async instances(f: RemoteInstanceFilter): Promise<RemoteInstance[]> {
      const target = f.machine ? await mustFind(f.machine) : undefined;
      const names = new Map((await listMachines(db)).map((m) => [m.id, m.name]));
      const rows = await listRemoteInstances(db, { ...f, machine: target?.id });
      return rows.map((r) => withMachine(r.view, r.machine, names.get(r.machine) ?? r.machine));
    },

    async instance(id: string): Promise<RemoteInstance[]> {
      const rows = await remoteInstancesById(db, id);
      const names = new Map((await listMachines(db)).map((m) => [m.id, m.name]));
      return rows.map((r) => withMachine(r.view, r.machine, names.get(r.machine) ?? r.machine));
    },

    /** Whether an instance another machine reported waits for the person: since when (its clock), null if not, undefined if unknown. */
    waitOf(id: string): number | null | undefined {
      return waits.get(id);
    },

    /** Hears instances of other machines as they change (after commit); returns what unsubscribes. */
    onRemote(fn: (items: RemoteInstance[]) => void): () => void {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },

    // ---- the socket (src/fleet/hub-socket.ts) ----

    /** A hello: checks the binding, resets a machine whose database is new, answers the cursor. */
    async hello(token: FleetTokenRow, conn: MachineConnection, h: Extract<MachineFrame, { t: 'hello' }>): Promise<{ have: number; heartbeat_s: number } | { close: number; reason: string }> {
      if (token.machine && token.machine !== h.machine) return { close: CLOSE.otherMachine, reason: 'this token belongs to another machine' };
      const row = await getMachine(db, h.machine);
      if (!row) return { close: CLOSE.registerFirst, reason: 'register first (POST /v1/machines)' };
      if (row.token_id !== token.id) return { close: CLOSE.otherMachine, reason: 'this machine is registered with another token' };
      let have = row.acked_seq;
      if (row.epoch !== h.epoch || row.acked_seq > h.head) {
        // A new database on that machine (first connection, replaced, or restored): take everything again.
        if (row.epoch !== null) logger.warn({ machine: h.machine, was: row.epoch, now: h.epoch, head: h.head, had: row.acked_seq }, 'machine database changed; taking its changes again from the start');
        await deps.record({ ops: resetMachineOps(h.machine, h.epoch) });
        have = 0;
      }
      const before = conns.get(h.machine);
      if (before && before.conn !== conn) {
        calls.fail(before.calls, `machine ${h.machine} reconnected before answering`);
        before.conn.close(CLOSE.replaced, 'replaced by a newer connection');
      }
      conns.set(h.machine, { conn, tokenId: token.id, calls: new Set() });
      seen(h.machine);
      presence(h.machine, row.name, true);
      return { have, heartbeat_s: deps.heartbeatMs / 1000 };
    },

    /** A changes frame: applied with the cursor in one transaction; the answer is the new cursor, or a gap. */
    async changes(machine: string, f: Changes): Promise<{ upto: number } | { gap: number }> {
      const row = (await getMachine(db, machine))!;
      if (f.from !== row.acked_seq) return { gap: row.acked_seq };
      const instances: RemoteInstanceDraft[] = f.instances.map((i) => ({
        id: i.instance.id,
        view: JSON.stringify(i.instance),
        state: i.instance.state,
        status: i.instance.status,
        registered_at: i.instance.registered_at,
        change_seq: i.change_seq,
      }));
      const events: RemoteEventDraft[] = f.events.map((e) => ({ remote_id: e.id, event_type: e.type, instance_id: e.instance_id, device_id: e.device_id, details: e.details, created_at: e.created_at }));
      seen(machine);
      const joined = (await deps.withChanges?.({ id: machine, name: row.name }, events)) ?? null;
      await deps.record({ ops: [...applyChangesOps(machine, f.upto, instances, events, iso(clock.now())), ...(joined?.ops ?? [])], events: joined?.events });
      for (const i of f.instances) noteWait(i.instance.id, i.instance.state, (i.instance as { state_since?: string }).state_since);
      joined?.after();
      // The last view of each instance in the frame (a catch-up carries many changes of one).
      const last = new Map(instances.map((i) => [i.id, i.view]));
      emit([...last.values()].map((v) => withMachine(v, machine, row.name)));
      return { upto: f.upto };
    },

    alive(machine: string): void {
      seen(machine);
    },

    result(machine: string, r: Extract<MachineFrame, { t: 'result' }>): void {
      conns.get(machine)?.calls.delete(r.id);
      if (!calls.settle(r.id, { status: r.status, headers: r.headers, body: r.body })) logger.info({ machine, call: r.id }, 'a call result came after its deadline; dropped');
    },

    /** The socket closed: calls waiting on it fail at once. Presence follows heartbeats, not the socket. */
    disconnected(machine: string, conn: MachineConnection): void {
      const c = conns.get(machine);
      if (!c || c.conn !== conn) return;
      conns.delete(machine);
      calls.fail(c.calls, `machine ${machine} disconnected before answering`);
    },

    /** A call to a machine: 404 unknown, 503 at once when not connected, a timeout past the deadline. */
    async call(idOrName: string, method: 'api' | 'stop_daemon', params: Record<string, unknown>, timeoutMs = deps.callTimeoutMs): Promise<CallAnswer> {
      const row = await mustFind(idOrName);
      const c = conns.get(row.id);
      if (!c) throw new DomainError('not_running', `machine ${row.name} is not connected to this hub${isOnline(row.id) ? '' : ' (offline)'}`);
      return calls.start(row.name, timeoutMs, (id) => {
        c.calls.add(id);
        c.conn.send({ t: 'call', id, method, params, deadline_ms: timeoutMs });
      });
    },

    /** Closes every machine socket (the hub is stopping: code 1001) and stops the sweep. */
    close(): void {
      closed = true;
      clock.clearTimeout(sweepTimer);
      for (const [id, c] of conns) {
        calls.fail(c.calls, `the hub is stopping`);
        c.conn.close(1001, 'the hub is stopping');
        conns.delete(id);
      }
    },
  };
}

export type FleetHub = ReturnType<typeof createFleetHub>;
