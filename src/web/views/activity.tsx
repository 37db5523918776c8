// Activity: the event feed in words (the terminal dashboard's words), newest first, filtered
// by agent, kind of event and device; routine events (each tool call, allowed gate checks)
// only when asked. The feed's events are joined to the last 200 from GET /api/events.
import { useSignal } from '@preact/signals';
import { getJson } from '../api.js';
import { clockTime } from '../format.js';
import { useLoad } from '../load.js';
import { describeEvent, type EventList } from '../shared.js';
import { events, instances, nameOf, type KeyedEvent } from '../store.js';

const KINDS: Record<string, string> = { hook: 'Hooks', instance: 'Agents', notification: 'Notifications', mode: 'Mode', focus: 'Mode', state: 'Mode', gate: 'Gate', usage: 'Usage', codex: 'Codex', device: 'Devices', actor: 'Problems' };
const kindOf = (type: string) => KINDS[type.split('.')[0] ?? ''] ?? 'Other';
const SHOWN = 200;

function Select({ id, label, value, options, onChange }: { id: string; label: string; value: string; options: [string, string][]; onChange: (v: string) => void }) {
  return (
    <span class="filter">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        <option value="">All</option>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </span>
  );
}

export function Activity() {
  const instance = useSignal('');
  const kind = useSignal('');
  const device = useSignal('');
  const routine = useSignal(false);
  const older = useLoad(() => getJson<EventList>('/api/events', { limit: SHOWN }), 'activity');
  const live = events.value;
  const oldest = live.at(-1)?.created_at ?? '';
  const earlier: KeyedEvent[] = (older.data?.events ?? []).filter((e) => !oldest || e.created_at < oldest).map((e) => ({ ...e, key: -e.id }));
  const all = [...live, ...earlier];
  const described = all.map((e) => ({ e, said: describeEvent(e, nameOf) }));
  const shown = described
    .filter(({ e, said }) => (routine.value || !said.routine) && (!instance.value || e.instance_id === instance.value) && (!kind.value || kindOf(e.type) === kind.value) && (!device.value || e.device_id === device.value))
    .slice(0, SHOWN);
  const devices = [...new Set(all.map((e) => e.device_id).filter((d): d is string => !!d))].sort();
  const agents = [...instances.value.values()].map((i): [string, string] => [i.id, i.display_name]);
  const kinds = [...new Set(Object.values(KINDS)), 'Other'].map((k): [string, string] => [k, k]);
  return (
    <section aria-labelledby="activity-title">
      <h2 id="activity-title">Activity</h2>
      <div class="filters">
        <Select id="f-agent" label="Agent" value={instance.value} options={agents} onChange={(v) => (instance.value = v)} />
        <Select id="f-kind" label="Kind" value={kind.value} options={kinds} onChange={(v) => (kind.value = v)} />
        <Select id="f-device" label="Device" value={device.value} options={devices.map((d) => [d, d])} onChange={(v) => (device.value = v)} />
        <label class="switch">
          <input type="checkbox" checked={routine.value} onChange={(e) => (routine.value = (e.target as HTMLInputElement).checked)} />
          Every tool call
        </label>
      </div>
      {older.error ? <p role="alert">{older.error}</p> : null}
      {shown.length === 0 ? (
        <p class="empty">Nothing {all.length > 0 ? 'matches these filters' : 'yet'}.</p>
      ) : (
        <ol class="feed" data-testid="activity">
          {shown.map(({ e, said }) => (
            <li key={e.key} class={said.alert ? 'alert' : ''} data-type={e.type}>
              <time dateTime={e.created_at}>{clockTime(e.created_at)}</time> <span>{said.text}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
