// The devices people use (desktop, phone, laptop), held in memory and stored in SQLite.
// Registration resolves a source IP to a device here, without a database read. Devices from
// the config file are inserted on start when missing; after that the table is the truth.
import type { DeviceConfig } from '../config.js';
import type { Database } from '../db/database.js';
import type { WriteOp } from '../db/writer.js';
import type { Hub } from './hub.js';

export interface Device {
  id: string;
  name: string;
  type: string;
  tailscale_ip: string | null;
  notification_method: string | null;
  webhook_url: string | null;
  tts_engine: string | null;
  created_at: string;
  updated_at: string;
}

export class DeviceConflictError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'DeviceConflictError';
  }
}

function toDevice(d: DeviceConfig, now: string): Device {
  return {
    id: d.id,
    name: d.name ?? d.id,
    type: d.type,
    tailscale_ip: d.tailscale_ip ?? null,
    notification_method: d.notification_method ?? null,
    webhook_url: d.webhook_url ?? null,
    tts_engine: d.tts_engine ?? null,
    created_at: now,
    updated_at: now,
  };
}

function upsertOp(d: Device): WriteOp {
  return { kind: 'upsert', table: 'devices', key: ['id'], row: { ...d } };
}

/** IPv4-mapped IPv6 addresses ("::ffff:1.2.3.4") name the same host as "1.2.3.4". */
export function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

export async function createDeviceDirectory(deps: { db: Database; hub: Hub; configured: readonly DeviceConfig[]; now: () => number }) {
  const byId = new Map<string, Device>();
  const rows = await deps.db.all<Device>('SELECT * FROM devices ORDER BY created_at, id');
  for (const r of rows) byId.set(r.id, r);

  const stamp = new Date(deps.now()).toISOString();
  const missing = deps.configured.filter((d) => !byId.has(d.id)).map((d) => toDevice(d, stamp));
  const seeded: Device[] = [];
  for (const d of missing) {
    const clash = d.tailscale_ip ? [...byId.values()].find((x) => x.tailscale_ip === d.tailscale_ip) : undefined;
    if (clash) continue; // the table already gives that IP to another device; the table wins
    byId.set(d.id, d);
    seeded.push(d);
  }
  if (seeded.length > 0) {
    await deps.hub.record({
      ops: seeded.map((d) => ({ kind: 'insert', table: 'devices', row: { ...d }, orIgnore: true }) as WriteOp),
      events: seeded.map((d) => ({ type: 'device.registered', at: deps.now(), deviceId: d.id, details: { source: 'config', name: d.name } })),
    });
  }

  return {
    list(): Device[] {
      return [...byId.values()];
    },
    get(id: string): Device | undefined {
      return byId.get(id);
    },
    /** The device that owns this IP, or undefined. */
    byIp(ip: string): Device | undefined {
      const want = normalizeIp(ip);
      for (const d of byId.values()) if (d.tailscale_ip && normalizeIp(d.tailscale_ip) === want) return d;
      return undefined;
    },
    /** Creates or updates a device; resolves with it and whether it is new, after commit. */
    async register(input: DeviceConfig): Promise<{ device: Device; created: boolean }> {
      const existing = byId.get(input.id);
      if (input.tailscale_ip) {
        const owner = this.byIp(input.tailscale_ip);
        if (owner && owner.id !== input.id) {
          throw new DeviceConflictError(`IP ${input.tailscale_ip} already belongs to device ${owner.id}`, 'tailscale_ip');
        }
      }
      const now = new Date(deps.now()).toISOString();
      const device: Device = {
        ...toDevice(input, now),
        name: input.name ?? existing?.name ?? input.id,
        created_at: existing?.created_at ?? now,
      };
      // Claim the id and IP in memory first, so a concurrent registration sees them.
      byId.set(device.id, device);
      try {
        await deps.hub.record({
          ops: [upsertOp(device)],
          events: [{ type: existing ? 'device.updated' : 'device.registered', at: deps.now(), deviceId: device.id, details: { name: device.name, type: device.type } }],
        });
      } catch (err) {
        if (byId.get(device.id) === device) {
          if (existing) byId.set(device.id, existing);
          else byId.delete(device.id);
        }
        throw err;
      }
      return { device, created: !existing };
    },
  };
}

export type DeviceDirectory = Awaited<ReturnType<typeof createDeviceDirectory>>;
