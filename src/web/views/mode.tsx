// Mode and gate: the work mode with its timer (a break for 15, 30 or 60 minutes, or any mode
// until changed), focus, the productivity gate's answer and why, a check of any app, and the
// recent gate checks. Changes go through POST /api/mode and /api/state; what they did comes
// back over the feed.
import { useSignal } from '@preact/signals';
import { failureText, getJson, postJson, readOnly } from '../api.js';
import { clockTime, countdown, words } from '../format.js';
import { useLoad } from '../load.js';
import type { CheckAnswer, EventList, FeedGate, FeedMode } from '../shared.js';
import { events, gate, mode, nameOf, now } from '../store.js';

const BREAKS = [15, 30, 60];

function gateWords(g: FeedGate, m: FeedMode | null): string {
  const who = g.working_instances.map((id) => nameOf(id) ?? id);
  const working = g.working > 0 ? `${g.working} agent${g.working === 1 ? ' is' : 's are'} working${who.length ? ` (${who.slice(0, 3).join(', ')}${who.length > 3 ? '…' : ''})` : ''}` : 'no agent is working';
  const grace = g.grace_until && Date.parse(g.grace_until) > now.value ? `; grace for ${countdown(Date.parse(g.grace_until) - now.value)} more` : '';
  const open = m?.policy === 'open';
  const blocks = !open && (!g.productive || m?.focus);
  const policy = m ? `; ${words(m.mode)} ${open ? 'allows every app' : blocks ? 'blocks distracting apps' : 'allows distracting apps while agents work'}` : '';
  return `${working}${grace}${policy}${m?.focus ? '; focus is on' : ''}.`;
}

function Checks() {
  const older = useLoad(() => getJson<EventList>('/api/events', { type: 'gate.check', limit: 20 }), 'checks');
  const live = events.value.filter((e) => e.type === 'gate.check');
  const seen = new Set(live.map((e) => e.created_at));
  const all = [...live, ...(older.data?.events ?? []).filter((e) => !seen.has(e.created_at))].slice(0, 20);
  if (all.length === 0) return <p class="empty">{older.loading ? 'Loading…' : 'No app has asked the gate yet.'}</p>;
  return (
    <ul class="rows" data-testid="gate-checks">
      {all.map((e) => {
        const d = (e.details ?? {}) as { app?: string; allowed?: boolean; reason?: string; source?: string };
        return (
          <li key={`${e.created_at}-${d.app}`} class={d.allowed ? '' : 'alert'}>
            <time dateTime={e.created_at}>{clockTime(e.created_at)}</time> <strong>{d.app ?? '?'}</strong> {d.allowed ? 'allowed' : 'blocked'}
            {d.reason ? <span class="meta"> · {d.reason}</span> : null}
          </li>
        );
      })}
    </ul>
  );
}

function TryApp() {
  const app = useSignal('');
  const answer = useSignal<CheckAnswer | null>(null);
  const error = useSignal<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      answer.value = await getJson<CheckAnswer>('/api/check', { app: app.value.trim() });
      error.value = null;
    } catch (err) {
      error.value = failureText(err);
    }
  };
  return (
    <form class="inline-form" onSubmit={submit}>
      <label for="check-app">Would an app be allowed now?</label>
      <div class="row">
        <input id="check-app" value={app.value} onInput={(e) => (app.value = (e.target as HTMLInputElement).value)} placeholder="youtube" autocomplete="off" required />
        <button type="submit" disabled={readOnly.value !== null} title={readOnly.value ?? undefined}>
          Ask the gate
        </button>
      </div>
      {answer.value ? (
        <p role="status" class={answer.value.allowed ? 'ok-text' : 'alert-text'}>
          {answer.value.app}: {answer.value.allowed ? 'allowed' : 'blocked'} ({answer.value.reason})
        </p>
      ) : null}
      {error.value ? <p role="alert">{error.value}</p> : null}
    </form>
  );
}

export function ModeGate() {
  const m = mode.value;
  const g = gate.value;
  const busy = useSignal(false);
  const problem = useSignal<string | null>(null);
  const act = async (path: string, body: unknown) => {
    busy.value = true;
    problem.value = null;
    try {
      await postJson(path, body);
    } catch (err) {
      problem.value = failureText(err);
    } finally {
      busy.value = false;
    }
  };
  const left = m?.deadline ? Date.parse(m.deadline) - now.value : null;
  return (
    <section aria-labelledby="mode-title" class="mode-gate">
      <h2 id="mode-title">Mode and gate</h2>
      <div class="panel">
        <p class="big" data-testid="current-mode">
          {m ? words(m.mode) : '…'}
          {left !== null ? (
            <span class="countdown" data-testid="countdown" role="timer" aria-label={`time left ${countdown(Math.max(0, left))}`}>
              {' '}
              {countdown(Math.max(0, left))}
            </span>
          ) : null}
        </p>
        {m?.deadline ? <p class="meta">Then back to {words(m.return_to ?? 'the mode before')}.</p> : null}
        <h3>Take a break</h3>
        <div class="row">
          {BREAKS.map((n) => (
            <button type="button" key={n} disabled={busy.value || readOnly.value !== null} title={readOnly.value ?? undefined} onClick={() => act('/api/mode', { mode: 'break', minutes: n })}>
              {n} min
            </button>
          ))}
        </div>
        <h3>Set the mode</h3>
        <div class="row">
          {(m?.modes ?? []).map((name) => (
            <button type="button" class={m?.mode === name ? 'secondary current' : 'secondary'} aria-pressed={m?.mode === name} key={name} disabled={busy.value || readOnly.value !== null} title={readOnly.value ?? undefined} onClick={() => act('/api/mode', { mode: name, minutes: null })}>
              {words(name)}
            </button>
          ))}
        </div>
        <label class="switch">
          <input type="checkbox" checked={m?.focus ?? false} disabled={busy.value || !m || readOnly.value !== null} title={readOnly.value ?? undefined} onChange={(e) => act('/api/state', { focus: (e.target as HTMLInputElement).checked })} />
          Focus (distracting apps stay blocked even while agents work)
        </label>
        {problem.value ? <p role="alert">{problem.value}</p> : null}
      </div>
      <div class="panel">
        <h3>The gate</h3>
        {g ? (
          <>
            <p class="big">{g.productive ? 'Productive' : 'Idle'}</p>
            <p data-testid="gate-why">{gateWords(g, m)}</p>
          </>
        ) : (
          <p class="empty">…</p>
        )}
        <TryApp />
        <h3>Recent checks</h3>
        <Checks />
      </div>
    </section>
  );
}
