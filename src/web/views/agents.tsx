// Agents: every instance live, those waiting for the person first and unmistakable (an amber
// card that says what it waits for), then working, idle; stopped ones folded away. A card
// shows project, device, state and its time, the current tool and the tokens spent. On a hub
// (another machine reports here) each card names its machine, an offline machine's agents are
// greyed with the reason, and a filter keeps one machine's.
import { useSignal } from '@preact/signals';
import { lastPart, since, tokens, words } from '../format.js';
import { useLoad } from '../load.js';
import { loadMachines, machineFilter, machineName, machinesShown, matchesMachine, offlineReason, presenceKey } from '../machines.js';
import { href } from '../router.js';
import type { FeedInstance, MachineView } from '../shared.js';
import { instanceKey, now, sortedInstances, stale, usageByInstance } from '../store.js';

function waitsFor(i: FeedInstance): string {
  return i.current_tool ? `needs you: ${i.current_tool}` : 'needs you';
}

function Card({ i, machines, showMachine }: { i: FeedInstance; machines: readonly MachineView[] | null; showMachine: boolean }) {
  // Usage on the feed is this server's own; another machine's agent shows none here.
  const used = i.machine ? undefined : usageByInstance.value[i.id];
  const project = i.project ?? lastPart(i.working_dir) ?? 'no project';
  const machine = showMachine ? machineName(i, machines) : null;
  const offline = i.machine?.online === false;
  return (
    <li class={`card state-${i.state}${offline ? ' offline' : ''}`} data-id={i.id} data-state={i.state} data-machine={machine ?? undefined} data-offline={offline ? 'true' : undefined}>
      <a href={href('agents', instanceKey(i))}>
        <span class="card-head">
          <strong class="name">{i.display_name}</strong>
          <span class={`state state-${i.state}`}>{offline ? 'offline' : i.state === 'awaiting' ? waitsFor(i) : words(i.state)}</span>
        </span>
        <span class="meta">
          {machine ? <span class="machine">{machine} · </span> : null}
          {project} · {i.device_id} · {since(i.state_since, now.value)}
          {i.state === 'working' && i.current_tool ? ` · ${i.current_tool}` : ''}
          {i.subagent_count > 0 ? ` · ${i.subagent_count} subagent${i.subagent_count === 1 ? '' : 's'}` : ''}
          {used ? ` · ${tokens(used.total_tokens)} tokens` : ''}
        </span>
        {offline ? (
          <span class="meta offline-reason">
            {offlineReason(i.machine!.name, machines?.find((m) => m.id === i.machine!.id))}; last known {words(i.state)}
          </span>
        ) : null}
      </a>
    </li>
  );
}

/** The machine filter: every machine, this one, or one of those reporting here. */
function MachineFilter({ machines }: { machines: readonly MachineView[] | null }) {
  const seen = new Map<string, { name: string; online: boolean }>();
  for (const m of machines ?? []) if (!m.local) seen.set(m.id, { name: m.name, online: m.online });
  for (const i of sortedInstances.value) if (i.machine) seen.set(i.machine.id, { name: i.machine.name, online: i.machine.online });
  const local = machines?.find((m) => m.local)?.name ?? 'this machine';
  return (
    <p class="filters">
      <label for="machine-filter">Machine</label>{' '}
      <select id="machine-filter" value={machineFilter.value} onChange={(e) => (machineFilter.value = (e.target as HTMLSelectElement).value)}>
        <option value="">every machine</option>
        <option value="local">{local} (this hub)</option>
        {[...seen].map(([id, m]) => (
          <option key={id} value={id}>
            {m.name}
            {m.online ? '' : ' (offline)'}
          </option>
        ))}
      </select>
    </p>
  );
}

export function Agents() {
  const showStopped = useSignal(false);
  const shown = machinesShown.value;
  // Read again whenever a machine comes or goes (names, and why one is offline).
  const list = useLoad(() => (shown ? loadMachines() : Promise.resolve(null)), `${shown}|${presenceKey.value}`);
  const machines = shown ? (list.data?.machines ?? null) : null;
  const filter = shown ? machineFilter.value : '';
  const all = sortedInstances.value.filter((i) => matchesMachine(i, filter));
  const live = all.filter((i) => i.state !== 'stopped');
  const stopped = all.filter((i) => i.state === 'stopped');
  return (
    <section aria-labelledby="agents-title">
      <h2 id="agents-title">Agents</h2>
      {shown ? <MachineFilter machines={machines} /> : null}
      {live.length === 0 ? (
        <p class="empty">
          {stale.value ? 'Waiting for token-api…' : filter ? 'No agent is running on this machine.' : 'No agent is running. Start Claude Code or Codex with token-api’s hooks installed (token-api hooks install).'}
        </p>
      ) : (
        <ul class="cards" data-testid="agents">
          {live.map((i) => (
            <Card key={instanceKey(i)} i={i} machines={machines} showMachine={shown} />
          ))}
        </ul>
      )}
      {stopped.length > 0 ? (
        <>
          <button type="button" class="secondary" aria-expanded={showStopped.value} onClick={() => (showStopped.value = !showStopped.value)}>
            {showStopped.value ? 'Hide' : 'Show'} {stopped.length} stopped
          </button>
          {showStopped.value ? (
            <ul class="cards stopped" data-testid="stopped">
              {stopped.map((i) => (
                <Card key={instanceKey(i)} i={i} machines={machines} showMachine={shown} />
              ))}
            </ul>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
