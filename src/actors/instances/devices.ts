// The devices people use (desktop, phone, laptop), held in memory and stored in SQLite.
// Registration resolves a source IP to a device here, without a database read. Every change
// merges: the fields it names are set (null clears one), the others are kept. At each start
// the config file's devices are added when missing and the fields the file names are applied.
import type { Logger } from 'pino';
import type { DeviceConfig } from '../../config/config.js';
import { DomainError } from '../../lib/domain-error.js';
import type { Database } from '../../db/database.js';
import { allDevices, upsertDeviceOp, type DeviceRow } from '../../db/queries/devices.js';
import type { Hub } from '../runtime/root-machines.js';

/** A device as stored and as the API shows it. */
export type Device = DeviceRow;

/** The fields a change may name (all but the id and the times). */
export type DeviceFields = Partial<Pick<Device, 'name' | 'type' | 'tailscale_ip' | 'notification_method' | 'webhook_url' | 'tts_engine'>>;
const FIELDS = ['name', 'type', 'tailscale_ip', 'notification_method', 'webhook_url', 'tts_engine'] as const;

/** created: a new device; merged: a known one, the named fields changed (`changed` lists them, maybe none). */
export interface DeviceChange {
  device: Device;
  created: boolean;
  outcome: 'created' | 'merged';
  changed: string[];
}

export class DeviceConflictError extends DomainError {
  constructor(
    message: string,
    override readonly field: string,
  ) {
    super('conflict', message, field);
    this.name = 'DeviceConflictError';
  }
}

/** IPv4-mapped IPv6 addresses ("::ffff:1.2.3.4") name the same host as "1.2.3.4". */
export function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/** `existing` with the fields `fields` names (undefined: kept), or a new device with defaults. */
export function mergeDevice(id: string, existing: Device | undefined, fields: DeviceFields, now: string): { device: Device; changed: string[] } {
  const base: Device = existing ?? {
    id,
    name: id,
    type: 'local',
    tailscale_ip: null,
    notification_method: null,
    webhook_url: null,
    tts_engine: null,
    created_at: now,
    updated_at: now,
  };
  const device: Device = { ...base };
  const changed: string[] = [];
  for (const k of FIELDS) {
    const v = fields[k];
    if (v === undefined || v === base[k]) continue;
    (device as unknown as Record<string, unknown>)[k] = v;
    changed.push(k);
  }
  if (existing && changed.length > 0) device.updated_at = now;
  return { device, changed };
}

function fieldsOfConfig(d: DeviceConfig): DeviceFields {
  const { id: _id, ...fields } = d;
  return fields;
}

export interface DeviceDirectoryDeps {
  db: Database;
  hub: Hub;
  /** The config file's devices. */
  configured: readonly DeviceConfig[];
  /** This machine's device, created (as "This computer") when neither the table nor the file has it. */
  localDevice: string;
  now: () => number;
  logger?: Logger;
}

export async function createDeviceDirectory(deps: DeviceDirectoryDeps) {
  const byId = new Map<string, Device>();
  const rows = await allDevices(deps.db);
  for (const r of rows) byId.set(r.id, r);

  function byIp(ip: string): Device | undefined {
    const want = normalizeIp(ip);
    for (const d of byId.values()) if (d.tailscale_ip && normalizeIp(d.tailscale_ip) === want) return d;
    return undefined;
  }

  /** The merged device, after checking that its IP is not another device's. */
  function merged(id: string, fields: DeviceFields, create: boolean): { device: Device; changed: string[]; existing: Device | undefined } | null {
    const existing = byId.get(id);
    if (!existing && !create) return null;
    if (fields.tailscale_ip) {
      const owner = byIp(fields.tailscale_ip);
      if (owner && owner.id !== id) throw new DeviceConflictError(`IP ${fields.tailscale_ip} already belongs to device ${owner.id}`, 'tailscale_ip');
    }
    return { ...mergeDevice(id, existing, fields, new Date(deps.now()).toISOString()), existing };
  }

  /** Writes one change (claimed in memory first, so a concurrent change sees it); resolves after commit. */
  async function commit(m: { device: Device; changed: string[]; existing: Device | undefined }, source: 'api' | 'config'): Promise<DeviceChange> {
    const { device, changed, existing } = m;
    const outcome = existing ? 'merged' : 'created';
    if (existing && changed.length === 0) return { device: existing, created: false, outcome, changed };
    byId.set(device.id, device);
    try {
      await deps.hub.record({
        ops: [upsertDeviceOp(device)],
        events: [
          {
            type: existing ? 'device.updated' : 'device.registered',
            at: deps.now(),
            deviceId: device.id,
            details: { id: device.id, name: device.name, type: device.type, source, ...(existing ? { changed } : {}) },
          },
        ],
      });
    } catch (err) {
      if (byId.get(device.id) === device) {
        if (existing) byId.set(device.id, existing);
        else byId.delete(device.id);
      }
      throw err;
    }
    return { device, created: !existing, outcome, changed };
  }

  // The config file's devices, at every start: missing ones are added, and the fields the file
  // names win over what the table holds (fields it leaves out keep what the API set).
  for (const d of deps.configured) {
    try {
      const m = merged(d.id, fieldsOfConfig(d), true);
      if (m) await commit(m, 'config');
    } catch (err) {
      if (!(err instanceof DeviceConflictError)) throw err;
      deps.logger?.warn({ device: d.id, problem: err.message }, 'a device of the config file was not applied');
    }
  }
  if (!byId.has(deps.localDevice)) {
    await commit(merged(deps.localDevice, { name: 'This computer', type: 'local', notification_method: 'tts_sound' }, true)!, 'config');
  }

  return {
    list(): Device[] {
      return [...byId.values()];
    },
    get(id: string): Device | undefined {
      return byId.get(id);
    },
    /** The device that owns this IP, or undefined. */
    byIp,
    /** POST /api/devices/register: creates a device, or merges the fields named into a known one. */
    register(input: DeviceConfig): Promise<DeviceChange> {
      return commit(merged(input.id, fieldsOfConfig(input), true)!, 'api');
    },
    /** PATCH /api/devices/{id}: changes only the fields named; null when there is no such device. */
    async update(id: string, fields: DeviceFields): Promise<DeviceChange | null> {
      const m = merged(id, fields, false);
      return m ? commit(m, 'api') : null;
    },
  };
}

export type DeviceDirectory = Awaited<ReturnType<typeof createDeviceDirectory>>;
