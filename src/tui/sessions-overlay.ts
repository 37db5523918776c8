// The dashboard's managed sessions (key o): the list of sessions with their state, and from
// there: n a new session (pick a repository, type a first prompt or none), p a prompt to the
// selected session, c cancel its turn, x stop it, enter its output (the last lines of text it
// printed, then what it prints next). Everything goes through the HTTP API; the list, once
// read, follows the feed's `session_changed`, and the output its `session_output`
// (`subscribe_session`; src/tui/store.ts applies both). The overlay's state lives in the store
// and this file turns keys into the next overlay and the overlay into lines.
import { fit, line, seg } from './format.js';
import type { SessionItem } from './session-data.js';

type Result<T> = { ok: true; value: T } | { ok: false; error: string };

/** The HTTP calls the overlay makes (src/tui/api.ts). */
export interface SessionsApi {
  sessions(): Promise<Result<SessionItem[]>>;
  repos(): Promise<Result<string[]>>;
  startSession(repo: string, prompt?: string): Promise<Result<unknown>>;
  sendPrompt(id: string, prompt: string): Promise<Result<unknown>>;
  cancelSession(id: string): Promise<Result<unknown>>;
  stopSession(id: string): Promise<Result<unknown>>;
  sessionOutput(id: string): Promise<Result<{ lines: string[]; after: number }>>;
}

export interface SessionsOverlay {
  kind: 'sessions';
  step: 'list' | 'repos' | 'prompt' | 'output';
  sessions: SessionItem[] | null;
  index: number;
  repos: string[] | null;
  repoIndex: number;
  /** The prompt being typed; for a new session, its repository. */
  text: string;
  repo: string | null;
  output: string[] | null;
  /** The session whose output is shown, followed on the feed from after the last message shown. */
  following: { id: string; after: number; exited?: boolean } | null;
  error: string | null;
}

export const openSessions = (): SessionsOverlay => ({ kind: 'sessions', step: 'list', sessions: null, index: 0, repos: null, repoIndex: 0, text: '', repo: null, output: null, following: null, error: null });

export interface SessionsKeyDeps {
  api: SessionsApi;
  /** The overlay as it is now (null when closed), and a way to replace it. */
  current(): SessionsOverlay | null;
  set(o: SessionsOverlay | null): void;
  notice(text: string, kind?: 'info' | 'error'): void;
  /** Follows a session's output on the feed (`subscribe_session`) from after `after`, and stops. */
  follow(id: string, after: number): void;
  unfollow(id: string): void;
}

/** Loads the list into the overlay (if it is still open). */
export function loadSessions(deps: SessionsKeyDeps): void {
  void deps.api.sessions().then((r) => {
    const o = deps.current();
    if (!o) return;
    deps.set(r.ok ? { ...o, sessions: r.value, index: Math.min(o.index, Math.max(0, r.value.length - 1)), error: null } : { ...o, error: r.error });
  });
}

function done(deps: SessionsKeyDeps, r: Promise<Result<unknown>>, ok: string, failed: string): void {
  void r.then((res) => {
    if (res.ok) deps.notice(ok);
    else deps.notice(`${failed}: ${res.error}`, 'error');
    loadSessions(deps);
  });
}

export function sessionsKey(o: SessionsOverlay, key: string, ch: string | undefined, deps: SessionsKeyDeps): void {
  const selected = o.sessions?.[o.index];
  if (o.step === 'prompt') {
    if (key === 'escape') return deps.set({ ...o, step: 'list', text: '', repo: null });
    if (key === 'backspace') return deps.set({ ...o, text: Array.from(o.text).slice(0, -1).join('') });
    if (key === 'enter') {
      const prompt = o.text.trim();
      if (o.repo !== null) {
        done(deps, deps.api.startSession(o.repo, prompt === '' ? undefined : prompt), `session started in ${o.repo}`, 'could not start a session');
      } else if (selected) {
        if (prompt === '') return deps.notice('type a prompt first', 'error');
        done(deps, deps.api.sendPrompt(selected.id, prompt), `prompt sent to ${selected.name}`, 'could not send the prompt');
      }
      return deps.set({ ...o, step: 'list', text: '', repo: null });
    }
    if (ch && ch >= ' ' && key !== 'escape') return deps.set({ ...o, text: (o.text + ch).slice(0, 2000) });
    return;
  }
  if (o.step === 'repos') {
    const n = o.repos?.length ?? 0;
    if (key === 'escape') return deps.set({ ...o, step: 'list' });
    if ((key === 'up' || key === 'k') && n) return deps.set({ ...o, repoIndex: (o.repoIndex + n - 1) % n });
    if ((key === 'down' || key === 'j') && n) return deps.set({ ...o, repoIndex: (o.repoIndex + 1) % n });
    if (key === 'enter' && o.repos?.[o.repoIndex]) return deps.set({ ...o, step: 'prompt', repo: o.repos[o.repoIndex]!, text: '' });
    return;
  }
  if (o.step === 'output') {
    if (key === 'escape' || key === 'enter') {
      if (o.following) deps.unfollow(o.following.id);
      deps.set({ ...o, step: 'list', output: null, following: null });
    }
    return;
  }
  const n = o.sessions?.length ?? 0;
  switch (key) {
    case 'escape':
      return deps.set(null);
    case 'up':
    case 'k':
      if (n) deps.set({ ...o, index: (o.index + n - 1) % n });
      return;
    case 'down':
    case 'j':
      if (n) deps.set({ ...o, index: (o.index + 1) % n });
      return;
    case 'n':
      deps.set({ ...o, step: 'repos', repos: null, repoIndex: 0 });
      void deps.api.repos().then((r) => {
        const now = deps.current();
        if (now?.step !== 'repos') return;
        if (!r.ok) return deps.set({ ...now, step: 'list', error: r.error });
        if (r.value.length === 0) return deps.set({ ...now, step: 'list', error: 'no repositories are configured (repos in the config file)' });
        deps.set({ ...now, repos: r.value });
      });
      return;
    case 'p':
      if (!selected) return deps.notice('no session selected', 'error');
      return deps.set({ ...o, step: 'prompt', repo: null, text: '' });
    case 'c':
      if (!selected) return deps.notice('no session selected', 'error');
      return done(deps, deps.api.cancelSession(selected.id), `${selected.name}: turn cancelled`, 'could not cancel');
    case 'x':
      if (!selected) return deps.notice('no session selected', 'error');
      return done(deps, deps.api.stopSession(selected.id), `${selected.name} stopped`, 'could not stop the session');
    case 'enter':
      if (!selected) return;
      deps.set({ ...o, step: 'output', output: null, following: null });
      void deps.api.sessionOutput(selected.id).then((r) => {
        const now = deps.current();
        // Still this session's output, not followed yet (esc and enter on another may have come between).
        if (now?.step !== 'output' || now.following || now.sessions?.[now.index]?.id !== selected.id) return;
        if (!r.ok) return deps.set({ ...now, output: [`could not read the output: ${r.error}`] });
        // What was stored meanwhile comes first on the feed, then what the session prints next.
        deps.set({ ...now, output: r.value.lines, following: { id: selected.id, after: r.value.after } });
        deps.follow(selected.id, r.value.after);
      });
      return;
    default:
      return;
  }
}

export function sessionsFrame(o: SessionsOverlay, width: number): { title: string; lines: string[]; width: number; height: number } {
  const inner = Math.max(20, Math.min(90, width - 4));
  const text = (s: string) => line([seg(s)], inner);
  const lines: string[] = [];
  if (o.step === 'repos') {
    if (!o.repos) lines.push('{gray-fg}loading…{/}');
    for (const [i, r] of (o.repos ?? []).entries()) lines.push(i === o.repoIndex ? `{inverse}${text(r)}{/}` : text(r));
    lines.push('', '{gray-fg}↑↓ choose, enter next, esc back{/}');
    return { title: ' New session: repository ', lines, width: inner + 2, height: lines.length + 2 };
  }
  if (o.step === 'prompt') {
    lines.push(text(o.repo !== null ? `first prompt in ${o.repo} (may be empty):` : `prompt for ${o.sessions?.[o.index]?.name ?? 'the session'}:`));
    lines.push(text(`> ${Array.from(o.text).slice(-(inner - 3)).join('')}_`));
    lines.push('', '{gray-fg}enter sends, esc back{/}');
    return { title: ' Prompt ', lines, width: inner + 2, height: lines.length + 2 };
  }
  if (o.step === 'output') {
    const shown = o.output ?? ['loading…'];
    for (const l of shown.slice(-20)) lines.push(text(l));
    lines.push('', '{gray-fg}esc or enter back{/}');
    return { title: ` ${line([seg(o.sessions?.[o.index]?.name ?? 'output')], 40).trimEnd()} `, lines, width: inner + 2, height: lines.length + 2 };
  }
  if (!o.sessions) lines.push('{gray-fg}loading…{/}');
  else if (o.sessions.length === 0) lines.push('{gray-fg}no managed sessions yet: n starts one{/}');
  for (const [i, s] of (o.sessions ?? []).entries()) {
    const row = text(`${fit(s.name, 24)} ${fit(s.repo, 14)} ${fit(`${s.agent}/${s.kind}`, 16)} ${s.state}`);
    lines.push(i === o.index ? `{inverse}${row}{/}` : row);
  }
  if (o.error) lines.push('', `{red-fg}${text(o.error)}{/}`);
  lines.push('', '{gray-fg}↑↓ choose  n new  p prompt  c cancel  x stop  enter output  esc close{/}');
  return { title: ' Sessions ', lines, width: inner + 2, height: lines.length + 2 };
}
