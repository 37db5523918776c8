// Agents: every instance live, those waiting for the person first and unmistakable (an amber
// card that says what it waits for), then working, idle; stopped ones folded away. A card
// shows project, device, state and its time, the current tool and the tokens spent.
import { useSignal } from '@preact/signals';
import { lastPart, since, tokens, words } from '../format.js';
import { href } from '../router.js';
import type { FeedInstance } from '../shared.js';
import { now, sortedInstances, stale, usageByInstance } from '../store.js';

function waitsFor(i: FeedInstance): string {
  return i.current_tool ? `needs you: ${i.current_tool}` : 'needs you';
}

function Card({ i }: { i: FeedInstance }) {
  const used = usageByInstance.value[i.id];
  const project = i.project ?? lastPart(i.working_dir) ?? 'no project';
  return (
    <li class={`card state-${i.state}`} data-id={i.id} data-state={i.state}>
      <a href={href('agents', i.id)}>
        <span class="card-head">
          <strong class="name">{i.display_name}</strong>
          <span class={`state state-${i.state}`}>{i.state === 'awaiting' ? waitsFor(i) : words(i.state)}</span>
        </span>
        <span class="meta">
          {project} · {i.device_id} · {since(i.state_since, now.value)}
          {i.state === 'working' && i.current_tool ? ` · ${i.current_tool}` : ''}
          {i.subagent_count > 0 ? ` · ${i.subagent_count} subagent${i.subagent_count === 1 ? '' : 's'}` : ''}
          {used ? ` · ${tokens(used.total_tokens)} tokens` : ''}
        </span>
      </a>
    </li>
  );
}

export function Agents() {
  const showStopped = useSignal(false);
  const all = sortedInstances.value;
  const live = all.filter((i) => i.state !== 'stopped');
  const stopped = all.filter((i) => i.state === 'stopped');
  return (
    <section aria-labelledby="agents-title">
      <h2 id="agents-title">Agents</h2>
      {live.length === 0 ? (
        <p class="empty">{stale.value ? 'Waiting for token-api…' : 'No agent is running. Start Claude Code or Codex with token-api’s hooks installed (token-api hooks install).'}</p>
      ) : (
        <ul class="cards" data-testid="agents">
          {live.map((i) => (
            <Card key={i.id} i={i} />
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
                <Card key={i.id} i={i} />
              ))}
            </ul>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
