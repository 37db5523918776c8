// The login form beyond loopback: the API token once (token-api token prints it on the
// server), or a one-time link from `token-api web link`. The token is sent once and never
// kept by the page: the server answers with an HttpOnly session cookie.
import { useSignal } from '@preact/signals';
import { failureText } from '../api.js';
import { login } from '../session.js';

export function Login({ done, problem }: { done: () => void; problem: string | null }) {
  const token = useSignal('');
  const error = useSignal<string | null>(problem);
  const busy = useSignal(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    busy.value = true;
    try {
      await login({ token: token.value.trim() });
      done();
    } catch (err) {
      error.value = failureText(err);
    } finally {
      busy.value = false;
    }
  };
  return (
    <main class="login">
      <form onSubmit={submit}>
        <h1>token-api</h1>
        <p>This browser is not on token-api's machine. Log in once with the API token; the page keeps a session for this browser alone.</p>
        <label for="token">API token</label>
        <input id="token" type="password" autocomplete="current-password" value={token.value} onInput={(e) => (token.value = (e.target as HTMLInputElement).value)} required />
        <p class="meta">
          <code>token-api token</code> on the server prints it; <code>token-api web link</code> prints a one-time link (and its QR code) instead.
        </p>
        <button type="submit" disabled={busy.value}>
          Log in
        </button>
        {error.value ? <p role="alert">{error.value}</p> : null}
      </form>
    </main>
  );
}
