// One managed session as a chat: its output followed over the live feed (session-follow.ts: the
// stored messages, then live ones; a reconnect asks only for what came after the last seq, so it
// works through a relay too), prompts sent with POST /api/sessions/{id}/send, Cancel (the
// current turn) and Stop (the agent).
import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { deleteJson, failureText, postJson, readOnly } from '../api.js';
import { Icon } from '../icons.js';
import { href } from '../router.js';
import type { OutputMessage, SessionView } from '../shared.js';
import { followSession } from '../session-follow.js';
import { link } from '../store.js';
import { clockTime, words } from '../format.js';

interface Line {
  key: string;
  who: 'agent' | 'tool' | 'system' | 'you';
  text: string;
  at: string;
}

const textOf = (content: unknown): string =>
  Array.isArray(content)
    ? content
        .map((c: { type?: string; text?: string; name?: string; input?: unknown; content?: unknown }) =>
          c.type === 'text' ? (c.text ?? '') : c.type === 'tool_use' ? `${c.name ?? 'tool'}: ${JSON.stringify(c.input)}` : c.type === 'tool_result' ? textOf(c.content) || String(c.content ?? '') : '',
        )
        .filter(Boolean)
        .join('\n')
    : typeof content === 'string'
      ? content
      : '';

// A terminal session's screen comes with its colour escapes; the chat shows its text.
// eslint-disable-next-line no-control-regex
const plain = (screen: string): string => screen.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

/** An output message as a line of the chat, or null for what a person need not read. */
function lineOf(m: OutputMessage): Line | null {
  const key = String(m.seq ?? `${m.at}-${m.kind}`);
  const msg = m.message as Record<string, unknown> & { message?: { content?: unknown }; result?: unknown; subtype?: string };
  switch (m.kind) {
    case 'assistant': {
      const text = textOf(msg.message?.content);
      return text ? { key, who: 'agent', text, at: m.at } : null;
    }
    case 'tool_result': {
      const text = textOf(msg.message?.content);
      return text ? { key, who: 'tool', text, at: m.at } : null;
    }
    case 'result': {
      // The agent's answer came as its own message; a failed turn says why here.
      const why = msg.is_error === true && typeof msg.result === 'string' && msg.result ? `: ${msg.result}` : '';
      return { key, who: 'system', text: msg.is_error === true ? `Turn failed (${words(String(msg.subtype ?? 'error'))})${why}` : 'Turn done.', at: m.at };
    }
    case 'rate_limit':
      return { key, who: 'system', text: 'Rate limited.', at: m.at };
    case 'text':
      return { key, who: 'system', text: String(msg.text ?? msg.line ?? JSON.stringify(msg)), at: m.at };
    default:
      return null;
  }
}

/** The first prompt of a session started from this page, shown atop its chat (the output
 * carries the agent's side only). */
export const firstPrompts = new Map<string, string>();

export function SessionChat({ id }: { id: string }) {
  const session = useSignal<SessionView | null>(null);
  const lines = useSignal<Line[]>([]);
  const screen = useSignal<string | null>(null);
  const prompt = useSignal('');
  const busy = useSignal(false);
  const said = useSignal<string | null>(null);

  useEffect(() => {
    const first = firstPrompts.get(id);
    lines.value = first ? [{ key: 'you-first', who: 'you', text: first, at: new Date().toISOString() }] : [];
    return followSession(id, {
      message(m) {
        if (m.type === 'session') session.value = m.session as SessionView;
        else if (m.type === 'session_exited') session.value = session.value ? { ...session.value, state: 'exited' } : session.value;
        else {
          const out = m.output as OutputMessage;
          if (out.kind === 'screen') screen.value = plain(String(out.message.screen ?? ''));
          const line = lineOf(out);
          if (line) lines.value = [...lines.value, line];
        }
      },
      refused: (message) => (said.value = message),
    });
  }, [id]);

  const act = async (what: () => Promise<SessionView>) => {
    busy.value = true;
    said.value = null;
    try {
      session.value = await what();
    } catch (err) {
      said.value = failureText(err);
    } finally {
      busy.value = false;
    }
  };
  const path = `/api/sessions/${encodeURIComponent(id)}`;
  const send = (e: Event) => {
    e.preventDefault();
    const text = prompt.value;
    if (!text.trim()) return;
    // Shown at once, above the answer it brings; taken back if token-api refuses it.
    const mine: Line = { key: `you-${Date.now()}`, who: 'you', text, at: new Date().toISOString() };
    lines.value = [...lines.value, mine];
    prompt.value = '';
    void act(async () => {
      try {
        return (await postJson<{ session: SessionView }>(`${path}/send`, { prompt: text })).session;
      } catch (err) {
        lines.value = lines.value.filter((l) => l !== mine);
        prompt.value = text;
        throw err;
      }
    });
  };
  const s = session.value;
  const exited = s?.state === 'exited';
  return (
    <section aria-labelledby="session-title" aria-busy={!s}>
      <a class="back" href={href('sessions')}>
        <Icon name="back" size={18} /> Sessions
      </a>
      <h2 id="session-title">{s?.name ?? id}</h2>
      {s ? (
        <p class="meta" data-testid="session-state">
          {s.repo} · {s.agent} {s.kind} · {words(s.state)}
          {s.exit ? ` (${words(s.exit.reason)})` : ''}
          {exited || link.value === 'live' ? '' : ' · reconnecting…'}
        </p>
      ) : null}
      {screen.value !== null ? (
        <pre class="tool-input" data-testid="screen">
          {screen.value}
        </pre>
      ) : null}
      <ol class="chat" data-testid="chat">
        {lines.value.map((l) => (
          <li key={l.key} class={`chat-${l.who}`}>
            <time>{clockTime(l.at)}</time> <span class="chat-text">{l.text}</span>
          </li>
        ))}
      </ol>
      {exited ? null : (
        <form class="inline-form" onSubmit={send}>
          <label for="session-prompt">Prompt</label>
          <textarea id="session-prompt" rows={3} value={prompt.value} onInput={(e) => (prompt.value = e.currentTarget.value)} />
          <div class="actions">
            <button type="submit" disabled={busy.value || readOnly.value !== null} title={readOnly.value ?? undefined}>
              Send
            </button>
            <button type="button" class="secondary" disabled={busy.value || readOnly.value !== null} title={readOnly.value ?? undefined} onClick={() => act(() => postJson<SessionView>(`${path}/cancel`))}>
              Cancel turn
            </button>
            <button type="button" class="secondary" disabled={busy.value || readOnly.value !== null} title={readOnly.value ?? undefined} onClick={() => act(() => deleteJson<SessionView>(path))}>
              Stop
            </button>
          </div>
        </form>
      )}
      {said.value ? <p role="alert">{said.value}</p> : null}
    </section>
  );
}
