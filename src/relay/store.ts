// The relay's rooms, client tokens and audit over its own SQLite file (SQL in
// src/db/queries/relay.ts). Secrets are made here and shown once: a room's server key and a
// client token are 32 random bytes; only their sha256 is kept. Audit rows queue and are
// written by a group commit (one transaction in flight, the next batch filling behind it).
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { iso, type Clock } from '../lib/clock.js';
import { openDatabase, type Database } from '../db/database.js';
import { migrate } from '../db/migrations.js';
import * as q from '../db/queries/relay.js';
import type { RelayRole } from '../protocol/relay.js';

export type { AuditRow, ClientTokenRow, RoomRow } from '../db/queries/relay.js';

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export const RELAY_DB_FILE = 'relay.db';

export interface AuditEntry {
  what: string;
  room?: string | null;
  client?: string | null;
  method?: string | null;
  path?: string | null;
  status?: number | null;
  remote?: string | null;
  detail?: string | null;
}

export type TokenCheck =
  | { ok: true; token: q.ClientTokenRow }
  | { ok: false; why: 'unknown' | 'expired' | 'revoked'; token?: q.ClientTokenRow };

export interface RelayStore {
  readonly db: Database;
  addRoom(name: string): Promise<{ room: string; serverKey: string } | null>;
  rooms(): ReturnType<typeof q.listRooms>;
  /** The room a server key opens, if that is the key of `room`. */
  roomForKey(room: string, key: string): Promise<q.RoomRow | undefined>;
  addToken(o: { room: string; name: string; role: RelayRole; expiresInMs: number | null }): Promise<{ id: string; token: string; expiresAt: string | null }>;
  tokens(room: string | null): Promise<q.ClientTokenRow[]>;
  revokeToken(id: string): Promise<boolean>;
  checkToken(token: string): Promise<TokenCheck>;
  revokedAmong(ids: readonly string[]): Promise<string[]>;
  audit(entry: AuditEntry): void;
  /** Resolves once every audit row queued so far is committed. */
  flushAudit(): Promise<void>;
  recentAudit(room: string | null, limit: number): ReturnType<typeof q.recentAudit>;
  close(): Promise<void>;
}

export async function openRelayStore(o: { home: string; clock: Pick<Clock, 'now'>; logger?: Logger }): Promise<RelayStore> {
  const db = await openDatabase(join(o.home, RELAY_DB_FILE), { synchronous: 'NORMAL' });
  try {
    await migrate(db, q.relayMigrations);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  const now = () => iso(o.clock.now());
  let queued: q.AuditRow[] = [];
  let writing: Promise<void> | null = null;

  async function drain(): Promise<void> {
    while (queued.length > 0) {
      const batch = queued;
      queued = [];
      try {
        await q.insertAuditRows(db, batch);
      } catch (err) {
        o.logger?.error({ err, rows: batch.length }, 'could not write relay audit rows');
      }
    }
    writing = null;
  }

  return {
    db,
    async addRoom(name) {
      const serverKey = `tas_${randomBytes(32).toString('base64url')}`;
      const added = await q.insertRoom(db, { name, server_key_sha256: sha256(serverKey), created_at: now() });
      return added ? { room: name, serverKey } : null;
    },
    rooms: () => q.listRooms(db),
    async roomForKey(room, key) {
      const row = await q.roomByKey(db, sha256(key));
      return row?.name === room ? row : undefined;
    },
    async addToken({ room, name, role, expiresInMs }) {
      const token = `tar_${randomBytes(32).toString('base64url')}`;
      const id = randomBytes(5).toString('hex');
      const expiresAt = expiresInMs === null ? null : iso(o.clock.now() + expiresInMs);
      await q.insertClientToken(db, { id, room, name, role, token_sha256: sha256(token), created_at: now(), expires_at: expiresAt, revoked_at: null });
      return { id, token, expiresAt };
    },
    tokens: (room) => q.listClientTokens(db, room),
    revokeToken: (id) => q.revokeClientToken(db, id, now()),
    async checkToken(token) {
      const row = await q.clientTokenByHash(db, sha256(token));
      if (!row) return { ok: false, why: 'unknown' };
      if (row.revoked_at !== null) return { ok: false, why: 'revoked', token: row };
      if (row.expires_at !== null && Date.parse(row.expires_at) <= o.clock.now()) return { ok: false, why: 'expired', token: row };
      return { ok: true, token: row };
    },
    revokedAmong: (ids) => q.revokedAmong(db, ids),
    audit(e) {
      queued.push({ at: now(), room: e.room ?? null, client: e.client ?? null, what: e.what, method: e.method ?? null, path: e.path ?? null, status: e.status ?? null, remote: e.remote ?? null, detail: e.detail ?? null });
      writing ??= drain();
    },
    async flushAudit() {
      while (writing) await writing;
    },
    recentAudit: (room, limit) => q.recentAudit(db, room, limit),
    async close() {
      while (writing) await writing;
      await db.close();
    },
  };
}
