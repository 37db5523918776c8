// Approvals: the permission requests token-api holds for a decision, oldest on top, each with
// its tool and input, Allow and Deny (with an optional message for the model) through
// POST /api/approvals/{id}; below them, what was resolved during this visit and how.
import { useSignal } from '@preact/signals';
import { failureText, postJson, readOnly } from '../api.js';
import { clockTime, countdown, words } from '../format.js';
import type { FeedApproval } from '../shared.js';
import { approvals, nameOf, now, pendingApprovals } from '../store.js';

/** The tool's input as a person reads it: a command as it is, anything else as JSON. */
function inputText(a: FeedApproval): string {
  const input = a.tool_input as Record<string, unknown> | null;
  if (input && typeof input === 'object' && typeof input.command === 'string') return input.command;
  return JSON.stringify(a.tool_input, null, 2) ?? '';
}

function who(a: FeedApproval): string {
  const agent = a.instance_id ? (nameOf(a.instance_id) ?? a.instance_id) : null;
  return [agent, a.project].filter(Boolean).join(' · ') || a.session_id;
}

function Pending({ a }: { a: FeedApproval }) {
  const message = useSignal('');
  const busy = useSignal(false);
  const said = useSignal<string | null>(null);
  const decide = async (behavior: 'allow' | 'deny') => {
    busy.value = true;
    said.value = null;
    try {
      const text = message.value.trim();
      const decided = await postJson<FeedApproval>(`/api/approvals/${encodeURIComponent(a.id)}`, text ? { behavior, message: text } : { behavior });
      // Shown as decided at once; the feed's permission_resolved says the same.
      approvals.value = new Map(approvals.value).set(decided.id, decided);
    } catch (err) {
      said.value = failureText(err);
    } finally {
      busy.value = false;
    }
  };
  const left = Date.parse(a.expires_at) - now.value;
  const field = `approval-message-${a.id}`;
  return (
    <li class="card note state-awaiting" data-id={a.id} data-state="pending">
      <div class="card-head">
        <strong>{a.tool_name}</strong>
        <span class="state" role="timer" aria-label={`expires in ${countdown(Math.max(0, left))}`}>
          {countdown(Math.max(0, left))}
        </span>
      </div>
      <p class="meta">{who(a)}</p>
      <pre class="tool-input" data-testid="tool-input">
        {inputText(a)}
      </pre>
      <label for={field} class="meta">
        Message for the agent (optional)
      </label>
      <input id={field} type="text" value={message.value} onInput={(e) => (message.value = e.currentTarget.value)} />
      <div class="actions">
        <button type="button" disabled={busy.value || readOnly.value !== null} title={readOnly.value ?? undefined} onClick={() => decide('allow')}>
          Allow
        </button>
        <button type="button" class="secondary" disabled={busy.value || readOnly.value !== null} title={readOnly.value ?? undefined} onClick={() => decide('deny')}>
          Deny
        </button>
      </div>
      {said.value ? <p role="alert">{said.value}</p> : null}
    </li>
  );
}

function outcome(a: FeedApproval): string {
  if (a.decision) {
    const m = a.decision.message ? `: ${a.decision.message}` : '';
    return `${a.decision.behavior === 'allow' ? 'Allowed' : 'Denied'} by ${a.decision.by}${a.decision.rule_id ? ` (${a.decision.rule_id})` : ''}${m}`;
  }
  return words(a.state);
}

export function Approvals() {
  const pending = pendingApprovals.value;
  const resolved = [...approvals.value.values()].filter((a) => a.state !== 'pending').reverse();
  return (
    <section aria-labelledby="approvals-title">
      <h2 id="approvals-title">Approvals</h2>
      {pending.length === 0 ? <p class="empty">No permission request is waiting.</p> : null}
      <ul class="cards" data-testid="approvals-pending">
        {pending.map((a) => (
          <Pending key={a.id} a={a} />
        ))}
      </ul>
      {resolved.length > 0 ? (
        <>
          <h3>Resolved</h3>
          <ul class="cards" data-testid="approvals-resolved">
            {resolved.map((a) => (
              <li key={a.id} class="card note" data-id={a.id} data-state={a.state}>
                <div class="card-head">
                  <strong>{a.tool_name}</strong>
                  <span class="state">{clockTime(a.decision?.at ?? a.resolution?.at ?? a.created_at)}</span>
                </div>
                <p class="meta">{who(a)}</p>
                <p>{a.summary}</p>
                <p data-testid="outcome">{outcome(a)}</p>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
