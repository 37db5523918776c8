// The relay's own database (relay.db, a file of its own, never token-api.db): rooms with the
// sha256 of their server key, client tokens (sha256 at rest, role, expiry, revocation) and the
// audit log. Its schema has its own migration list, applied by the same `migrate`.
import type { Database } from '../database.js';
import type { Migration } from '../migrations.js';

export const relayMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'relay rooms, client tokens, audit',
    sql: `
      CREATE TABLE relay_rooms (
        name TEXT PRIMARY KEY,
        server_key_sha256 TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
      );
      CREATE TABLE relay_client_tokens (
        id TEXT PRIMARY KEY,
        room TEXT NOT NULL REFERENCES relay_rooms(name),
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('read-only', 'admin')),
        token_sha256 TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        expires_at TEXT,
        revoked_at TEXT
      );
      CREATE INDEX idx_relay_tokens_room ON relay_client_tokens(room);
      CREATE TABLE relay_audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        room TEXT,
        client TEXT,
        what TEXT NOT NULL,
        method TEXT,
        path TEXT,
        status INTEGER,
        remote TEXT,
        detail TEXT
      );
      CREATE INDEX idx_relay_audit_room ON relay_audit(room, id);
    `,
  },
];

export interface RoomRow {
  name: string;
  server_key_sha256: string;
  created_at: string;
}

export interface ClientTokenRow {
  id: string;
  room: string;
  name: string;
  role: 'read-only' | 'admin';
  token_sha256: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

export interface AuditRow {
  at: string;
  room: string | null;
  client: string | null;
  what: string;
  method: string | null;
  path: string | null;
  status: number | null;
  remote: string | null;
  detail: string | null;
}

export async function insertRoom(db: Database, row: RoomRow): Promise<boolean> {
  const r = await db.run('INSERT INTO relay_rooms (name, server_key_sha256, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [row.name, row.server_key_sha256, row.created_at]);
  return r.changes === 1;
}

export function roomByName(db: Database, name: string): Promise<RoomRow | undefined> {
  return db.get<RoomRow>('SELECT * FROM relay_rooms WHERE name = ?', [name]);
}

export function roomByKey(db: Database, keySha256: string): Promise<RoomRow | undefined> {
  return db.get<RoomRow>('SELECT * FROM relay_rooms WHERE server_key_sha256 = ?', [keySha256]);
}

export function listRooms(db: Database): Promise<(RoomRow & { tokens: number })[]> {
  return db.all<RoomRow & { tokens: number }>(
    'SELECT r.*, (SELECT count(*) FROM relay_client_tokens t WHERE t.room = r.name AND t.revoked_at IS NULL) AS tokens FROM relay_rooms r ORDER BY r.name',
  );
}

export async function insertClientToken(db: Database, row: ClientTokenRow): Promise<void> {
  await db.run('INSERT INTO relay_client_tokens (id, room, name, role, token_sha256, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
    row.id,
    row.room,
    row.name,
    row.role,
    row.token_sha256,
    row.created_at,
    row.expires_at,
    row.revoked_at,
  ]);
}

export function clientTokenByHash(db: Database, sha256: string): Promise<ClientTokenRow | undefined> {
  return db.get<ClientTokenRow>('SELECT * FROM relay_client_tokens WHERE token_sha256 = ?', [sha256]);
}

export function listClientTokens(db: Database, room: string | null): Promise<ClientTokenRow[]> {
  return room === null
    ? db.all<ClientTokenRow>('SELECT * FROM relay_client_tokens ORDER BY room, created_at, id')
    : db.all<ClientTokenRow>('SELECT * FROM relay_client_tokens WHERE room = ? ORDER BY created_at, id', [room]);
}

/** Revokes a token by id; false when there is none or it was revoked already. */
export async function revokeClientToken(db: Database, id: string, at: string): Promise<boolean> {
  const r = await db.run('UPDATE relay_client_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [at, id]);
  return r.changes === 1;
}

/** Of the given token ids, those revoked now (what the relay polls for its live connections). */
export async function revokedAmong(db: Database, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.all<{ id: string }>(`SELECT id FROM relay_client_tokens WHERE revoked_at IS NOT NULL AND id IN (${ids.map(() => '?').join(', ')})`, ids);
  return rows.map((r) => r.id);
}

const AUDIT_COLUMNS = ['at', 'room', 'client', 'what', 'method', 'path', 'status', 'remote', 'detail'] as const;

/** Writes a batch of audit rows in one transaction (the relay's group commit). */
export async function insertAuditRows(db: Database, rows: readonly AuditRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.exec('BEGIN IMMEDIATE');
  try {
    // At most 100 rows (900 parameters) a statement, under SQLite's parameter limit.
    for (let i = 0; i < rows.length; i += 100) {
      const chunk = rows.slice(i, i + 100);
      await db.run(
        `INSERT INTO relay_audit (${AUDIT_COLUMNS.join(', ')}) VALUES ${chunk.map(() => `(${AUDIT_COLUMNS.map(() => '?').join(', ')})`).join(', ')}`,
        chunk.flatMap((r) => AUDIT_COLUMNS.map((c) => r[c])),
      );
    }
    await db.exec('COMMIT');
  } catch (err) {
    await db.exec('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

export function recentAudit(db: Database, room: string | null, limit: number): Promise<(AuditRow & { id: number })[]> {
  return room === null
    ? db.all<AuditRow & { id: number }>('SELECT * FROM relay_audit ORDER BY id DESC LIMIT ?', [limit])
    : db.all<AuditRow & { id: number }>('SELECT * FROM relay_audit WHERE room = ? ORDER BY id DESC LIMIT ?', [room, limit]);
}
