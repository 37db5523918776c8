// The page's start: the theme, the last known state (shown stale until the feed answers),
// then either the relay mode (a relay served this page: its chunk asks for a relay token and
// runs the app through the relay) or the server's own: a login link's one-time code if the
// address carries one, then the session: the app and its feed, or the login form. Offline
// with a state kept from before, the app shows it and the feed keeps trying. The service
// worker is registered where the browser allows it (https, or localhost).
import { effect } from '@preact/signals';
import { render } from 'preact';
import { failureText, needsLogin } from './api.js';
import { App } from './app.js';
import { startFeed } from './feed.js';
import { checkSession, login, logout, takeLinkCode } from './session.js';
import { forgetLastState, restoreLastState } from './store.js';
import { applyTheme } from './theme.js';
import { Login } from './views/login.js';
import './styles.css';

const root = document.getElementById('app')!;
let feed: ReturnType<typeof startFeed> | null = null;

function stopFeed(): void {
  feed?.stop();
  feed = null;
}

function showApp(onLogout: (() => void) | null, onRefused: () => void): void {
  render(<App onLogout={onLogout} />, root);
  feed ??= startFeed({ onRefused });
}

function showLogin(problem: string | null = null): void {
  stopFeed();
  render(<Login done={() => void start()} problem={problem} />, root);
}

async function signOut(): Promise<void> {
  await logout().catch(() => undefined);
  forgetLastState();
  showLogin();
}

async function start(): Promise<void> {
  needsLogin.value = false;
  const s = await checkSession();
  if (!s.ok && !s.offline) return showLogin();
  showApp(s.ok && s.via === 'cookie' ? () => void signOut() : null, () =>
    // A socket refused at once may mean the session ended (a new token, an expired cookie).
    void checkSession().then((again) => {
      if (!again.ok && !again.offline) showLogin('Your session has ended; log in again.');
    }),
  );
}

async function boot(): Promise<void> {
  applyTheme();
  restoreLastState();
  if (document.querySelector('meta[name="token-api-relay"]')) {
    const relay = await import('./relay/mode.js');
    return relay.bootRelay({ root, showApp, stopFeed, forgetLastState });
  }
  effect(() => {
    if (needsLogin.value && feed) showLogin('Your session has ended; log in again.');
  });
  const code = takeLinkCode();
  if (code) {
    try {
      await login({ code });
    } catch (err) {
      return showLogin(failureText(err));
    }
  }
  await start();
}

void boot();

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch((err: Error) => console.warn('token-api: no offline copy of the page', err));
}
