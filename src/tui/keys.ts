// What each key does: moves and overlays are store events; actions (mode, focus, stop, y/n on a permission request) are
// HTTP calls whose outcome shows as a notice on the footer. An open overlay takes the keys
// first (the mode picker and its duration step their arrows and digits, the confirmation its
// y/n); q and Ctrl-C always quit.
import type { Clock } from '../lib/clock.js';
import type { ApiClient, ApiResult } from './api.js';
import { DURATIONS, orderedInstances, selectedIndex, type DashboardStore, type Overlay } from './store.js';
import { loadSessions, openSessions, sessionsKey, type SessionsKeyDeps } from './sessions-overlay.js';

export interface KeyDeps {
  store: DashboardStore;
  api: ApiClient;
  clock: Clock;
  /** A fresh snapshot (or a reconnection now). */
  refresh(): void;
  /** Sends a message on the feed; false when it is not connected. */
  feedSend(m: { type: string } & Record<string, unknown>): boolean;
  quit(): void;
}

const NOTICE_MS = 4000;

export function createKeyHandler(deps: KeyDeps): (key: string, ch?: string) => void {
  const { store, api, clock } = deps;
  const ctx = () => store.getSnapshot().context;

  function notice(text: string, kind: 'info' | 'error' = 'info'): void {
    store.trigger.notice({ text, kind, until: clock.now() + NOTICE_MS });
  }

  function report(r: Promise<ApiResult<unknown>>, done: string, failed: string): void {
    void r.then((res) => (res.ok ? notice(done) : notice(`${failed}: ${res.error}`, 'error')));
  }

  function openDetails(): void {
    store.trigger.openDetails();
    const o = ctx().overlay;
    if (o?.kind !== 'details') return;
    const id = o.id;
    void api.instanceEvents(id).then((r) => store.trigger.detailsLoaded({ id, events: r.ok ? r.value : null, error: r.ok ? null : r.error }));
  }

  function setMode(mode: string, minutes: number | null): void {
    store.trigger.closeOverlay();
    const how = minutes === null ? '' : ` for ${minutes} min`;
    report(api.setMode(mode, minutes ?? undefined), `mode set to ${mode}${how}`, 'could not set the mode');
  }

  /** The second step of m: none, 15, 30, 60 minutes, or minutes typed. */
  function durationKey(o: Extract<Overlay, { kind: 'duration' }>, key: string, ch: string | undefined): void {
    if (key === 'escape') return void store.trigger.closeOverlay();
    if (o.typed !== null) {
      if (ch && /^[0-9.]$/.test(ch)) store.trigger.typeMinutes({ text: o.typed + ch });
      else if (key === 'backspace') store.trigger.typeMinutes({ text: o.typed.slice(0, -1) });
      else if (key === 'enter') {
        const minutes = Number(o.typed);
        if (!(minutes > 0 && minutes <= 10_080)) return notice('type a number of minutes, more than 0 and at most 10080', 'error');
        setMode(o.mode, minutes);
      }
      return;
    }
    if (key === 'up' || key === 'k') return void store.trigger.pickerMove({ by: -1 });
    if (key === 'down' || key === 'j') return void store.trigger.pickerMove({ by: 1 });
    const index = key === 'enter' ? o.index : ch && /^[1-9]$/.test(ch) ? Number(ch) - 1 : -1;
    const choice = DURATIONS[index];
    if (choice === undefined) return;
    if (choice === 'typed') return void store.trigger.typeMinutes({ text: '' });
    setMode(o.mode, choice);
  }

  const sessions: SessionsKeyDeps = {
    api,
    current: () => {
      const o = ctx().overlay;
      return o?.kind === 'sessions' ? o : null;
    },
    set: (overlay) => void store.trigger.setSessionsOverlay({ overlay }),
    notice,
    // Not connected: the subscription is made when the feed is back (src/tui/dashboard.ts).
    follow: (id, after) => void deps.feedSend({ type: 'subscribe_session', session_id: id, after }),
    unfollow: (id) => void deps.feedSend({ type: 'unsubscribe_session', session_id: id }),
  };

  return (key, ch) => {
    const o = ctx().overlay;
    // While a prompt is typed, q is a letter like any other.
    if (key === 'C-c' || (key === 'q' && !(o?.kind === 'sessions' && o.step === 'prompt'))) return deps.quit();
    if (o?.kind === 'sessions') return sessionsKey(o, key, ch, sessions);
    if (o?.kind === 'mode') {
      const modes = ctx().mode?.modes ?? [];
      if (key === 'up' || key === 'k') store.trigger.pickerMove({ by: -1 });
      else if (key === 'down' || key === 'j') store.trigger.pickerMove({ by: 1 });
      else if (key === 'escape') store.trigger.closeOverlay();
      else if (key === 'enter' || (ch && /^[1-9]$/.test(ch) && Number(ch) <= modes.length)) {
        const mode = key === 'enter' ? modes[o.index] : modes[Number(ch) - 1];
        if (mode) store.trigger.askDuration({ mode });
        else store.trigger.closeOverlay();
      }
      return;
    }
    if (o?.kind === 'duration') return durationKey(o, key, ch);
    if (o?.kind === 'confirm_stop') {
      if (key === 'y') {
        store.trigger.closeOverlay();
        report(api.stopInstance(o.id), `${o.name} marked stopped`, `could not stop ${o.name}`);
      } else if (key === 'n' || key === 'escape') store.trigger.closeOverlay();
      return;
    }
    if (o) {
      if (key === 'escape' || key === 'enter' || key === '?') store.trigger.closeOverlay();
      return;
    }
    switch (key) {
      case 'r':
        deps.refresh();
        notice('refreshing…');
        return;
      case 'up':
      case 'k':
        return void store.trigger.move({ by: -1 });
      case 'down':
      case 'j':
        return void store.trigger.move({ by: 1 });
      case 'pageup':
        return void store.trigger.page({ direction: -1 });
      case 'pagedown':
        return void store.trigger.page({ direction: 1 });
      case 'g':
      case 'home':
        return void store.trigger.moveTo({ to: 'first' });
      case 'S-g':
      case 'end':
        return void store.trigger.moveTo({ to: 'last' });
      case 'enter':
        return openDetails();
      case 'm':
        if (!ctx().mode) return notice('the mode is not known yet', 'error');
        return void store.trigger.openModePicker();
      case 'f': {
        const mode = ctx().mode;
        if (!mode) return notice('the mode is not known yet', 'error');
        return report(api.setFocus(!mode.focus), `focus ${mode.focus ? 'off' : 'on'}`, 'could not change focus');
      }
      case 's': {
        const c = ctx();
        const ordered = orderedInstances(c);
        const sel = ordered[selectedIndex(c, ordered)];
        if (!sel) return notice('no instance selected', 'error');
        if (sel.status === 'stopped') return notice(`${sel.display_name} is already stopped`, 'error');
        return void store.trigger.askStop();
      }
      case 'y':
      case 'n': {
        // Answers the permission request the selected instance waits on (allow / deny).
        const c = ctx();
        const ordered = orderedInstances(c);
        const sel = ordered[selectedIndex(c, ordered)];
        if (!sel) return notice('no instance selected', 'error');
        if (sel.state !== 'awaiting') return notice(`${sel.display_name} is not waiting for a permission`, 'error');
        const behavior = key === 'y' ? 'allow' : 'deny';
        void api.decidePermission(sel.id, behavior).then((r) => {
          if (!r.ok) return notice(`could not answer ${sel.display_name}: ${r.error}`, 'error');
          if (r.value === null) return notice(`${sel.display_name} waits on no permission request token-api holds (answer it in its terminal)`, 'error');
          notice(`${behavior === 'allow' ? 'allowed' : 'denied'}: ${r.value.tool} ${r.value.summary}`.slice(0, 200));
        });
        return;
      }
      case 'a':
        return void store.trigger.toggleAllEvents();
      case 'o':
        sessions.set(openSessions());
        return loadSessions(sessions);
      case '?':
        return void store.trigger.openHelp();
      default:
        return;
    }
  };
}
