// One agent: what it is (project, device, folder, state and for how long, tools, subagents),
// its token usage (GET /api/instances/{id}) and its timeline (GET /api/events?instance=, with
// the feed's newer events joined as they come): prompts, tools with their durations,
// notifications, permission requests and stops. Another machine's agent (on a hub) names its
// machine, and its usage and timeline are read on that machine through the hub.
import { getJson, withQuery } from '../api.js';
import { dayTime, duration, since, tokens, usd, words } from '../format.js';
import { Icon } from '../icons.js';
import { useLoad } from '../load.js';
import { loadMachines, machineName, machinesShown, offlineReason, readOn } from '../machines.js';
import { href } from '../router.js';
import type { EventList, FeedInstance, InstanceDetails } from '../shared.js';
import { events, instances, now, usageByInstance } from '../store.js';
import { timeline } from './timeline.js';

/** Reads where the agent keeps its records: this server, or its machine through the hub. */
type Read = <T>(path: string) => Promise<T>;
const readerFor = (i: FeedInstance | undefined): Read => (i?.machine ? (path) => readOn(i.machine!.id, path) : (path) => getJson(path));

function Usage({ id, read, remote }: { id: string; read: Read; remote: boolean }) {
  // Loaded again whenever the feed says the agent spent more (the feed carries this server's usage only).
  const details = useLoad(() => read<InstanceDetails>(`/api/instances/${encodeURIComponent(id)}`), `${remote}:${id}:${usageByInstance.value[id]?.total_tokens ?? 0}`);
  const u = details.data?.usage;
  if (details.error) return <p role="alert">{details.error}</p>;
  if (!u) return <p aria-busy="true">Loading usage…</p>;
  if (u.records === 0) return <p class="empty">No tokens recorded for this agent yet.</p>;
  return (
    <dl class="facts">
      <dt>Tokens</dt>
      <dd>{tokens(u.total_tokens)}</dd>
      <dt>Input / output</dt>
      <dd>
        {tokens(u.input_tokens)} / {tokens(u.output_tokens)}
      </dd>
      <dt>Cache (write / read)</dt>
      <dd>
        {tokens(u.cache_creation_tokens)} / {tokens(u.cache_read_tokens)}
      </dd>
      <dt>Cost</dt>
      <dd>{usd(u.cost_usd)}</dd>
      <dt>Models</dt>
      <dd>{u.models.join(', ') || '—'}</dd>
    </dl>
  );
}

function Timeline({ id, read, remote }: { id: string; read: Read; remote: boolean }) {
  const older = useLoad(() => read<EventList>(withQuery('/api/events', { instance: id, limit: 300 })), `${remote}:${id}`);
  // The feed's events are this server's own.
  const live = remote ? [] : events.value.filter((e) => e.instance_id === id);
  const seen = new Set(live.map((e) => `${e.type}@${e.created_at}`));
  // Oldest first (the log's, then the feed's): events of the same millisecond keep their order.
  const logged = (older.data?.events ?? []).filter((e) => !seen.has(`${e.type}@${e.created_at}`)).sort((a, b) => a.id - b.id);
  const merged = [...logged.map((e) => ({ ...e, key: `db-${e.id}` })), ...[...live].reverse()];
  const items = timeline(merged).reverse();
  if (older.error) return <p role="alert">{older.error}</p>;
  if (items.length === 0) return <p class="empty">{older.loading ? 'Loading…' : 'Nothing yet.'}</p>;
  return (
    <ol class="timeline" data-testid="timeline">
      {items.map((t) => (
        <li key={t.key} class={`tl-${t.kind}${t.failed ? ' failed' : ''}`}>
          <time dateTime={t.at}>{dayTime(t.at)}</time>
          <span class="tl-text">{t.text}</span>
          {t.kind === 'tool' ? <span class="tl-duration">{t.durationMs === null ? 'running' : duration(t.durationMs)}</span> : null}
        </li>
      ))}
    </ol>
  );
}

/** Which machine the agent runs on, and whether it is offline (then why). */
function MachineFact({ i }: { i: FeedInstance }) {
  const list = useLoad(() => loadMachines(), `${i.machine?.id ?? 'local'}:${i.machine?.online ?? true}`);
  const machines = list.data?.machines ?? null;
  const name = machineName(i, machines);
  return (
    <>
      <dt>Machine</dt>
      <dd data-testid="agent-machine">
        {name}
        {i.machine ? '' : ' (this hub)'}
        {i.machine?.online === false ? ` (${offlineReason(name, machines?.find((m) => m.id === i.machine!.id))})` : ''}
      </dd>
    </>
  );
}

/** `key`: the instance's key in the store (an id, or machine/id for another machine's agent). */
export function AgentDetail({ id: key }: { id: string }) {
  const i = instances.value.get(key);
  const id = i?.id ?? key;
  const read = readerFor(i);
  const remote = Boolean(i?.machine);
  return (
    <section aria-labelledby="agent-title" class="detail">
      <a class="back" href={href('agents')}>
        <Icon name="back" size={18} /> All agents
      </a>
      {!i ? (
        <>
          <h2 id="agent-title">{id}</h2>
          <p class="empty">token-api does not list this agent now (it may have stopped long ago).</p>
        </>
      ) : (
        <>
          <h2 id="agent-title">
            {i.display_name} <span class={`state state-${i.state}`}>{words(i.state)}</span>
          </h2>
          <dl class="facts">
            {machinesShown.value ? <MachineFact i={i} /> : null}
            <dt>Project</dt>
            <dd>{i.project ?? '—'}</dd>
            <dt>Device</dt>
            <dd>
              {i.device_id} ({words(i.origin.type)})
            </dd>
            <dt>State</dt>
            <dd>
              {words(i.state)} for {since(i.state_since, now.value)}
              {i.current_tool ? `, ${i.current_tool}` : ''}
            </dd>
            <dt>Folder</dt>
            <dd class="path">{i.working_dir ?? '—'}</dd>
            <dt>Tools run</dt>
            <dd>{i.tool_count}</dd>
            <dt>Subagents</dt>
            <dd>{i.subagent_count}</dd>
            <dt>Agent</dt>
            <dd>
              {i.agent_type}
              {i.agent_name ? ` (${i.agent_name})` : ''}
            </dd>
            <dt>Started</dt>
            <dd>{dayTime(i.registered_at)}</dd>
          </dl>
        </>
      )}
      <h3>Usage</h3>
      <Usage id={id} read={read} remote={remote} />
      <h3>Timeline</h3>
      <Timeline id={id} read={read} remote={remote} />
    </section>
  );
}
