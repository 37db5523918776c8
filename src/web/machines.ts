// The machines on a hub, for the Agents tab: whether any other machine reports here (the page
// then shows a machine on every agent, this hub's own too), the machines' list from
// GET /v1/machines (names, and why one is offline), the filter by machine, and reads run on
// an agent's own machine through the hub (POST /v1/machines/{id}/api) for what it keeps there.
import { computed, signal } from '@preact/signals';
import { ApiFailure, getJson, postJson } from './api.js';
import { clockTime } from './format.js';
import type { FeedInstance, MachineList, MachineView, RemoteAnswer } from './shared.js';
import { instances } from './store.js';

/** Whether another machine reports to this server (else the page shows no machine at all). */
export const machinesShown = computed(() => {
  for (const i of instances.value.values()) if (i.machine) return true;
  return false;
});

/** Which machines are online, as the feed last said: the list is read again when it changes. */
export const presenceKey = computed(() => {
  const seen = new Map<string, boolean>();
  for (const i of instances.value.values()) if (i.machine) seen.set(i.machine.id, i.machine.online);
  return [...seen].sort().map(([id, on]) => `${id}:${on ? 1 : 0}`).join(',');
});

/** The filter of the Agents tab: '' every machine, 'local' this server's own, or a machine id. */
export const machineFilter = signal('');

export const loadMachines = () => getJson<MachineList>('/v1/machines');

export const matchesMachine = (i: FeedInstance, filter: string): boolean => filter === '' || (filter === 'local' ? !i.machine : i.machine?.id === filter);

/** The machine an agent runs on, by name: this server's own name (from the list) for its own. */
export function machineName(i: FeedInstance, list: readonly MachineView[] | null): string {
  if (i.machine) return i.machine.name;
  return list?.find((m) => m.local)?.name ?? 'this machine';
}

/** Why a machine is offline, in words: stopped, stopping, or not heard from since a time. */
export function offlineReason(name: string, m: MachineView | undefined): string {
  const status = (m?.daemon_state as { status?: string } | undefined)?.status;
  if (status === 'offline') return `${name} is offline: its token-api was stopped`;
  if (status === 'shutting-down') return `${name} is offline: its token-api is stopping`;
  return m?.last_seen_at ? `${name} is offline: not heard from since ${clockTime(m.last_seen_at)}` : `${name} is offline: not heard from for three heartbeats`;
}

/**
 * A read run on another machine through the hub; its answer as that machine gave it (a refusal
 * there becomes an ApiFailure in its words).
 */
export async function readOn<T>(machine: string, path: string): Promise<T> {
  const r = await postJson<RemoteAnswer>(`/v1/machines/${encodeURIComponent(machine)}/api`, { method: 'GET', path });
  if (r.status >= 400) {
    const e = (r.body ?? {}) as { error?: string; message?: string; fields?: Record<string, string> };
    throw new ApiFailure(r.status, e.error ?? 'http_error', e.message ?? `the machine answered ${r.status}`, e.fields ?? {});
  }
  return r.body as T;
}
