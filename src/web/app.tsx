// The page's shell: a header (the mode and the gate at a glance, theme, log out), a banner
// while the feed is away (what is shown is then the last known state, dimmed), the tabs
// (a bar at the bottom on a phone, a column on the left from 900 px) and the current view.
import { useEffect } from 'preact/hooks';
import { readOnly } from './api.js';
import { Icon } from './icons.js';
import { href, route } from './router.js';
import { gate, link, mode, now, receivedAt, stale } from './store.js';
import { TABS, tabOf } from './tabs.js';
import { theme, toggleTheme } from './theme.js';
import { clockTime, countdown, words } from './format.js';

function Banner() {
  if (!stale.value) return null;
  const at = receivedAt.value;
  const last = at ? `showing what was known at ${clockTime(at)}` : 'nothing known yet';
  const what = link.value === 'reconnecting' ? 'Reconnecting to token-api…' : 'Connecting…';
  return (
    <div class="banner" role="status" data-testid="banner">
      {what} <span class="muted-dark">({last})</span>
    </div>
  );
}

function Glance() {
  const m = mode.value;
  const g = gate.value;
  const left = m?.deadline ? Date.parse(m.deadline) - now.value : null;
  return (
    <a class="glance" href={href('mode')} title="Mode and gate">
      <span class="pill" data-testid="mode">
        {m ? words(m.mode) : '…'}
        {left !== null && left > 0 ? <span class="countdown"> {countdown(left)}</span> : null}
      </span>
      <span class={`pill ${g?.productive ? 'ok' : ''}`}>{g ? (g.productive ? 'productive' : 'idle') : '…'}</span>
    </a>
  );
}

export function App({ onLogout }: { onLogout: (() => void) | null }) {
  useEffect(() => {
    const t = setInterval(() => (now.value = Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const current = tabOf(route.value.tab);
  const View = current.view;
  useEffect(() => {
    document.title = `${current.label} · token-api`;
  }, [current]);
  return (
    <div class={`shell${stale.value ? ' stale' : ''}`}>
      <header class="top">
        <h1>token-api</h1>
        <Glance />
        <button type="button" class="icon-button" onClick={toggleTheme} aria-label={theme.value === 'dark' ? 'Use the light theme' : 'Use the dark theme'} title="Theme">
          <Icon name="theme" />
        </button>
        {onLogout ? (
          <button type="button" class="icon-button" onClick={onLogout} aria-label="Log out" title="Log out">
            <Icon name="logout" />
          </button>
        ) : null}
      </header>
      <Banner />
      {readOnly.value ? (
        <div class="read-only" role="status" data-testid="read-only">
          {readOnly.value}
        </div>
      ) : null}
      <nav class="tabs" aria-label="Sections">
        {TABS.map((t) => {
          const n = t.badge?.() ?? 0;
          return (
            <a key={t.id} href={href(t.id)} aria-current={t === current ? 'page' : undefined} data-tab={t.id}>
              <Icon name={t.icon} />
              <span class="label">{t.label}</span>
              {n > 0 ? (
                <span class="badge" aria-label={`(${n})`}>
                  {n}
                </span>
              ) : null}
            </a>
          );
        })}
      </nav>
      <main id="main" tabIndex={-1}>
        <View id={route.value.id} />
      </main>
    </div>
  );
}
