// Which devices the person used lately: an agent's hook from it (a session started there, or
// over SSH from it) or a gate check it made. Learnt from the event rows of each commit (and, at
// start, from the event log), so notifications of no instance (a mode's timer ending) can go
// to every device in use, not only this one. `afterCommit` is subscribed by src/system/wiring.ts.
import type { Database } from '../../db/database.js';
import type { Clock } from '../../lib/clock.js';
import { recentDeviceEvents, type EventDraft } from '../../db/queries/events.js';
import type { Committed } from '../runtime/root-machines.js';

/** Rows that mean the person was at the device: their agents' hooks, Codex's rollouts, the gate checks it asked. */
function isUse(e: Pick<EventDraft, 'type'>): boolean {
  return e.type.startsWith('hook.') || e.type.startsWith('codex.') || e.type === 'gate.check';
}

export async function createDeviceActivity(deps: { db: Database; clock: Clock; windowMs: number }) {
  const lastSeen = new Map<string, number>();
  const seen = (deviceId: string, at: number) => {
    if (at > (lastSeen.get(deviceId) ?? -Infinity)) lastSeen.set(deviceId, at);
  };
  const since = new Date(deps.clock.now() - deps.windowMs).toISOString();
  const rows = await recentDeviceEvents(deps.db, since);
  for (const r of rows) if (isUse(r)) seen(r.device_id, Date.parse(r.at));
  return {
    /** A commit's event rows: who used which device. */
    afterCommit(notice: Committed): void {
      for (const e of notice.events) if (e.deviceId && isUse(e)) seen(e.deviceId, e.at);
    },
    /** Devices used within the window, most recent first. */
    recent(): string[] {
      const from = deps.clock.now() - deps.windowMs;
      return [...lastSeen.entries()]
        .filter(([, at]) => at >= from)
        .sort((a, b) => b[1] - a[1])
        .map(([id]) => id);
    },
  };
}

export type DeviceActivity = Awaited<ReturnType<typeof createDeviceActivity>>;
