// Sessions: the managed sessions token-api started (GET /api/sessions, kept live by the feed's
// `session_changed`), each opening its chat (#/sessions/<id>), and a form to start one in a configured repository (GET /api/repos,
// POST /api/sessions) with an optional name and first prompt.
import { useSignal } from '@preact/signals';
import { failureText, getJson, postJson, readOnly } from '../api.js';
import { dayTime, words } from '../format.js';
import { useLoad } from '../load.js';
import { href } from '../router.js';
import { withSessionChanges, type FeedSession, type RepoList, type SessionList, type SessionView } from '../shared.js';
import { sessionChanges, sessionsRead } from '../store.js';
import { firstPrompts } from './session-chat.js';

function StartForm({ repos }: { repos: RepoList['repos'] }) {
  const repo = useSignal(repos[0]?.name ?? '');
  const name = useSignal('');
  const prompt = useSignal('');
  const busy = useSignal(false);
  const said = useSignal<string | null>(null);
  const start = async (e: Event) => {
    e.preventDefault();
    busy.value = true;
    said.value = null;
    try {
      const body: Record<string, string> = { repo: repo.value };
      if (name.value.trim()) body.name = name.value.trim();
      if (prompt.value.trim()) body.prompt = prompt.value;
      const started = await postJson<SessionView>('/api/sessions', body);
      if (body.prompt) firstPrompts.set(started.id, body.prompt);
      location.hash = href('sessions', started.id);
    } catch (err) {
      said.value = failureText(err);
    } finally {
      busy.value = false;
    }
  };
  if (repos.length === 0) return <p class="empty">No repository is configured: add one under `repos` in the config file to start sessions here.</p>;
  return (
    <form class="panel inline-form" onSubmit={start} aria-labelledby="start-title">
      <h3 id="start-title">Start a session</h3>
      <label for="start-repo">Repository</label>
      <select id="start-repo" value={repo.value} onChange={(e) => (repo.value = e.currentTarget.value)}>
        {repos.map((r) => (
          <option key={r.name} value={r.name}>
            {r.name} ({r.agent})
          </option>
        ))}
      </select>
      <label for="start-name">Name (optional)</label>
      <input id="start-name" type="text" value={name.value} onInput={(e) => (name.value = e.currentTarget.value)} />
      <label for="start-prompt">First prompt (optional)</label>
      <textarea id="start-prompt" rows={3} value={prompt.value} onInput={(e) => (prompt.value = e.currentTarget.value)} />
      <button type="submit" disabled={busy.value || !repo.value || readOnly.value !== null} title={readOnly.value ?? undefined}>
        Start
      </button>
      {said.value ? <p role="alert">{said.value}</p> : null}
    </form>
  );
}

export function Sessions() {
  // Read again after each new snapshot (the page may have missed changes while it was away) and cleanup.
  const list = useLoad(() => getJson<SessionList>('/api/sessions'), `sessions:${sessionsRead.value}`);
  const repos = useLoad(() => getJson<RepoList>('/api/repos'), 'repos');
  // Newest first.
  const sessions = withSessionChanges<FeedSession>(list.data?.sessions ?? [], sessionChanges.value.values()).sort((a, b) =>
    a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1,
  );
  return (
    <section aria-labelledby="sessions-title" aria-busy={list.loading && !list.data}>
      <h2 id="sessions-title">Sessions</h2>
      {repos.data ? <StartForm repos={repos.data.repos} /> : null}
      {list.error ? <p role="alert">{list.error}</p> : null}
      {list.data && sessions.length === 0 ? <p class="empty">No managed session yet.</p> : null}
      <ul class="cards" data-testid="sessions">
        {sessions.map((x) => (
          <li key={x.id} class={`card state-${x.state === 'exited' ? 'stopped' : x.state}`} data-id={x.id}>
            <a href={href('sessions', x.id)}>
              <div class="card-head">
                <strong class="name">{x.name}</strong>
                <span class="state">{words(x.state)}</span>
              </div>
              <span class="meta">
                {x.repo} · {x.agent} {x.kind} · {dayTime(x.created_at)}
              </span>
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}
