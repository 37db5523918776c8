// The devices people use (devices): read whole at start, then written one change at a time.
import type { Database } from '../database.js';
import type { WriteOp } from '../writer.js';

export type DeviceRow = {
  id: string;
  name: string;
  type: string;
  tailscale_ip: string | null;
  notification_method: string | null;
  webhook_url: string | null;
  tts_engine: string | null;
  created_at: string;
  updated_at: string;
};

export function allDevices(db: Database): Promise<DeviceRow[]> {
  return db.all<DeviceRow>('SELECT * FROM devices ORDER BY created_at, id');
}

export function upsertDeviceOp(row: DeviceRow): WriteOp {
  return { kind: 'upsert', table: 'devices', key: ['id'], row: { ...row } };
}
