// The login form of the page served by a relay: a pairing code (tapi1:…, encrypted end to end)
// or a client token, pasted once; kept in this browser until "Log out".
import { useSignal } from '@preact/signals';
import { failureText } from '../api.js';
import type { RelayCredentials } from './transport.js';

export function RelayLogin({ done, parse, problem }: { done: (c: RelayCredentials) => void; parse: (text: string) => Promise<RelayCredentials>; problem: string | null }) {
  const text = useSignal('');
  const error = useSignal<string | null>(problem);
  const busy = useSignal(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    busy.value = true;
    try {
      done(await parse(text.value));
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
        <p>This page reaches token-api through a relay. Paste the pairing code or a client token once; this browser keeps it until you log out.</p>
        <label for="relay-credential">Pairing code or client token</label>
        <input id="relay-credential" type="password" autocomplete="off" value={text.value} onInput={(e) => (text.value = (e.target as HTMLInputElement).value)} required />
        <p class="meta">
          <code>token-api relay pair</code> on the token-api server prints a pairing code (<code>tapi1:…</code>; its QR code opens this page paired, and encrypts end to end); <code>token-api relay token add</code> on the
          relay makes a client token.
        </p>
        <button type="submit" disabled={busy.value}>
          Connect
        </button>
        {error.value ? <p role="alert">{error.value}</p> : null}
      </form>
    </main>
  );
}
