// The page's start: the theme, the last known state (shown stale until the feed answers),
// a login link's one-time code if the address carries one, then the session: the app and
// its feed, or the login form. Offline with a state kept from before, the app shows it and
// the feed keeps trying. The service worker is registered where the browser allows it
// (https, or localhost).
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

function showLogin(problem: string | null = null): void {
  feed?.stop();
  feed = null;
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
  render(<App onLogout={s.ok && s.via === 'cookie' ? () => void signOut() : null} />, root);
  feed ??= startFeed({
    // A socket refused at once may mean the session ended (a new token, an expired cookie).
    onRefused: () =>
      void checkSession().then((again) => {
        if (!again.ok && !again.offline) showLogin('Your session has ended; log in again.');
      }),
  });
}

async function boot(): Promise<void> {
  applyTheme();
  restoreLastState();
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

effect(() => {
  if (needsLogin.value && feed) showLogin('Your session has ended; log in again.');
});

void boot();

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch((err: Error) => console.warn('token-api: no offline copy of the page', err));
}
