// Machines and the hub, in SQL. On every machine: its identity and change counter (fleet_meta)
// and the catch-up read of its numbered changes. On a hub: machine tokens, the machines with
// their versioned documents and sync cursor, and their instances and events as last reported.
import type { Database, SqlValue } from '../database.js';
import type { WriteOp } from '../writer.js';
import type { EventRecordRow } from './events.js';
import type { InstanceRow } from './instances.js';

// ---- this machine ----

export interface FleetIdentity {
  machine: string;
  epoch: string;
  /** The number of the last change committed. */
  head: number;
}

export async function fleetIdentity(db: Database): Promise<FleetIdentity> {
  const rows = await db.all<{ k: string; v: string }>('SELECT k, v FROM fleet_meta');
  const m = new Map(rows.map((r) => [r.k, r.v]));
  return { machine: m.get('machine')!, epoch: m.get('epoch')!, head: Number(m.get('seq') ?? 0) };
}

export interface ChangeBatch {
  /** The number of the last change in the batch (the hub's cursor once applied). */
  upto: number;
  instances: (InstanceRow & { change_seq: number })[];
  events: (EventRecordRow & { change_seq: number })[];
}

/**
 * The next changes after `from`, at most `limit`, or null when there are none. Which changes
 * and `upto` come from ONE statement (one read snapshot): two reads could straddle a commit and
 * let `upto` pass a change the first never saw. The rows are then read as they are now; an
 * instance read newer than `upto` carries its own higher change_seq, which the hub keeps.
 */
export async function readChanges(db: Database, from: number, limit: number): Promise<ChangeBatch | null> {
  const keys = await db.all<{ k: string; key: string; change_seq: number }>(
    `SELECT 'i' AS k, id AS key, change_seq FROM claude_instances WHERE change_seq > ?1
     UNION ALL SELECT 'e', CAST(id AS TEXT), change_seq FROM events WHERE change_seq > ?1
     ORDER BY change_seq LIMIT ?2`,
    [from, limit],
  );
  if (keys.length === 0) return null;
  const ids = keys.filter((k) => k.k === 'i').map((k) => k.key);
  const eventIds = keys.filter((k) => k.k === 'e').map((k) => Number(k.key));
  const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');
  const instances = ids.length ? await db.all<InstanceRow & { change_seq: number }>(`SELECT * FROM claude_instances WHERE id IN (${marks(ids.length)})`, ids) : [];
  // Events are never changed, only pruned: one pruned meanwhile is simply absent.
  const events = eventIds.length ? await db.all<EventRecordRow & { change_seq: number }>(`SELECT * FROM events WHERE id IN (${marks(eventIds.length)}) ORDER BY id`, eventIds) : [];
  return { upto: keys[keys.length - 1]!.change_seq, instances, events };
}

// ---- a hub: tokens ----

export interface FleetTokenRow {
  id: number;
  name: string;
  token_sha256: string;
  prefix: string;
  machine: string | null;
  created_at: string;
  revoked_at: string | null;
}

export function tokenByHash(db: Database, sha256: string): Promise<FleetTokenRow | undefined> {
  return db.get<FleetTokenRow>('SELECT * FROM fleet_tokens WHERE token_sha256 = ?', [sha256]);
}

export function listTokens(db: Database): Promise<FleetTokenRow[]> {
  return db.all<FleetTokenRow>('SELECT * FROM fleet_tokens ORDER BY created_at, id');
}

export function activeTokenByName(db: Database, name: string): Promise<FleetTokenRow | undefined> {
  return db.get<FleetTokenRow>('SELECT * FROM fleet_tokens WHERE name = ? AND revoked_at IS NULL', [name]);
}

export function insertToken(db: Database, t: Omit<FleetTokenRow, 'id' | 'machine' | 'revoked_at'>): Promise<unknown> {
  return db.run('INSERT INTO fleet_tokens (name, token_sha256, prefix, created_at) VALUES (?, ?, ?, ?)', [t.name, t.token_sha256, t.prefix, t.created_at]);
}

export async function revokeToken(db: Database, name: string, at: string): Promise<boolean> {
  const r = await db.run('UPDATE fleet_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL', [at, name]);
  return r.changes > 0;
}

/** Of the given token ids, those revoked. */
export async function revokedAmong(db: Database, ids: readonly number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await db.all<{ id: number }>(`SELECT id FROM fleet_tokens WHERE revoked_at IS NOT NULL AND id IN (${ids.map(() => '?').join(', ')})`, [...ids]);
  return rows.map((r) => r.id);
}

// ---- a hub: machines ----

export interface FleetMachineRow {
  id: string;
  name: string;
  token_id: number;
  metadata: string;
  metadata_version: number;
  daemon_state: string;
  daemon_state_version: number;
  epoch: string | null;
  acked_seq: number;
  last_seen_at: string | null;
  created_at: string;
  updated_at: string;
}

export function getMachine(db: Database, id: string): Promise<FleetMachineRow | undefined> {
  return db.get<FleetMachineRow>('SELECT * FROM fleet_machines WHERE id = ?', [id]);
}

export function machineByName(db: Database, name: string): Promise<FleetMachineRow | undefined> {
  return db.get<FleetMachineRow>('SELECT * FROM fleet_machines WHERE name = ? ORDER BY updated_at DESC LIMIT 1', [name]);
}

export function listMachines(db: Database): Promise<FleetMachineRow[]> {
  return db.all<FleetMachineRow>('SELECT * FROM fleet_machines ORDER BY name, id');
}

/** The first registration: the machine's row, and its token bound to it. */
export function registerMachineOps(row: FleetMachineRow): WriteOp[] {
  return [
    { kind: 'insert', table: 'fleet_machines', row: { ...row }, orIgnore: true },
    { kind: 'sql', sql: 'UPDATE fleet_tokens SET machine = ? WHERE id = ? AND machine IS NULL', params: [row.id, row.token_id] },
  ];
}

export type DocKind = 'metadata' | 'daemon_state';

/** Compare-and-set of one document: written only if its version is still `expected`. */
export function updateDocOp(id: string, kind: DocKind, json: string, expected: number, at: string): WriteOp {
  // The column names come from the DocKind union, never from input.
  return { kind: 'sql', sql: `UPDATE fleet_machines SET ${kind} = ?, ${kind}_version = ${kind}_version + 1, updated_at = ? WHERE id = ? AND ${kind}_version = ?`, params: [json, at, id, expected] };
}

/** A machine whose database is new to the hub (another epoch, or behind the cursor): forget what it reported. */
export function resetMachineOps(id: string, epoch: string): WriteOp[] {
  return [
    { kind: 'sql', sql: 'DELETE FROM remote_instances WHERE machine = ?', params: [id] },
    { kind: 'sql', sql: 'DELETE FROM remote_events WHERE machine = ?', params: [id] },
    { kind: 'sql', sql: 'UPDATE fleet_machines SET epoch = ?, acked_seq = 0 WHERE id = ?', params: [epoch, id] },
  ];
}

export interface RemoteInstanceDraft {
  id: string;
  view: string;
  state: string;
  status: string;
  registered_at: string;
  change_seq: number;
}

export interface RemoteEventDraft {
  remote_id: number;
  event_type: string;
  instance_id: string | null;
  device_id: string | null;
  details: string | null;
  created_at: string;
}

/**
 * One frame of a machine's changes, applied in one transaction with the cursor: an instance is
 * replaced only by a newer change, an event kept once, the cursor moved to `upto`.
 */
export function applyChangesOps(machine: string, upto: number, instances: readonly RemoteInstanceDraft[], events: readonly RemoteEventDraft[], at: string): WriteOp[] {
  const ops: WriteOp[] = [];
  for (const i of instances) {
    ops.push({
      kind: 'sql',
      sql: `INSERT INTO remote_instances (machine, id, view, state, status, registered_at, change_seq) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(machine, id) DO UPDATE SET view = excluded.view, state = excluded.state, status = excluded.status,
        registered_at = excluded.registered_at, change_seq = excluded.change_seq WHERE excluded.change_seq > remote_instances.change_seq`,
      params: [machine, i.id, i.view, i.state, i.status, i.registered_at, i.change_seq],
    });
  }
  for (const e of events) ops.push({ kind: 'insert', table: 'remote_events', orIgnore: true, row: { machine, ...e } });
  ops.push({ kind: 'sql', sql: 'UPDATE fleet_machines SET acked_seq = MAX(acked_seq, ?), last_seen_at = ? WHERE id = ?', params: [upto, at, machine] });
  return ops;
}

export interface RemoteInstanceFilter {
  machine?: string;
  status?: 'active' | 'stopped' | 'all';
  state?: string;
  device?: string;
  agentType?: string;
  limit: number;
}

/** Deletes up to `limit` of the machines' events older than `before` (the hub keeps them as long as its own). */
export function pruneRemoteEventsOp(before: string, limit: number): WriteOp {
  return { kind: 'sql', sql: 'DELETE FROM remote_events WHERE rowid IN (SELECT rowid FROM remote_events WHERE created_at < ? LIMIT ?)', params: [before, limit] };
}

/** Every instance machines reported, with its state and since when (what the hub keeps in memory of their waits). */
export function remoteInstanceStates(db: Database): Promise<{ id: string; state: string; state_since: string | null }[]> {
  return db.all("SELECT id, state, json_extract(view, '$.state_since') AS state_since FROM remote_instances");
}

export function listRemoteInstances(db: Database, f: RemoteInstanceFilter): Promise<{ machine: string; view: string }[]> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (f.device) {
    where.push("json_extract(view, '$.device_id') = ?");
    params.push(f.device);
  }
  if (f.agentType) {
    where.push("json_extract(view, '$.agent_type') = ?");
    params.push(f.agentType);
  }
  if (f.machine) {
    where.push('machine = ?');
    params.push(f.machine);
  }
  if (f.status && f.status !== 'all') {
    where.push('status = ?');
    params.push(f.status);
  }
  if (f.state) {
    where.push('state = ?');
    params.push(f.state);
  }
  params.push(f.limit);
  return db.all(
    `SELECT machine, view FROM remote_instances ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY CASE state WHEN 'awaiting' THEN 0 WHEN 'working' THEN 1 WHEN 'idle' THEN 2 ELSE 3 END, registered_at DESC LIMIT ?`,
    params,
  );
}

export function remoteInstancesById(db: Database, id: string): Promise<{ machine: string; view: string }[]> {
  return db.all('SELECT machine, view FROM remote_instances WHERE id = ?', [id]);
}
