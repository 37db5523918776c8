// Notifications: the history (GET /api/notifications) with each channel's delivery and how it
// went, kept current by the feed's notification messages; a notification whose delivery
// failed or expired can be sent again (POST /api/notifications/{id}/retry).
import { computed, useSignal } from '@preact/signals';
import { failureText, getJson, postJson, readOnly } from '../api.js';
import { dayTime, words } from '../format.js';
import { useLoad } from '../load.js';
import type { NotificationList } from '../shared.js';
import { liveNotifications, nameOf, type LiveNotification } from '../store.js';

const RETRYABLE = new Set(['failed', 'expired']);

/** Notifications of this visit (from the feed) with a failed or expired delivery. */
export const failedCount = computed(() => {
  let n = 0;
  for (const x of liveNotifications.value.values()) if (x.deliveries.some((d) => RETRYABLE.has(d.status))) n += 1;
  return n;
});

type Row = LiveNotification & { reason?: string | null };

function Item({ n, onRetried }: { n: Row; onRetried: () => void }) {
  const busy = useSignal(false);
  const said = useSignal<string | null>(null);
  const retryable = n.deliveries.some((d) => RETRYABLE.has(d.status));
  const retry = async () => {
    busy.value = true;
    try {
      await postJson(`/api/notifications/${encodeURIComponent(n.id)}/retry`);
      said.value = 'Sent again.';
      onRetried();
    } catch (err) {
      said.value = failureText(err);
    } finally {
      busy.value = false;
    }
  };
  return (
    <li class={`card note status-${n.status ?? 'pending'}`} data-id={n.id}>
      <div class="card-head">
        <strong>{n.title}</strong>
        <span class="state">{words(n.status ?? 'pending')}</span>
      </div>
      <p>{n.message}</p>
      <p class="meta">
        {dayTime(n.created_at)} · to {n.device ?? 'no device'}
        {n.instance ? ` · ${nameOf(n.instance) ?? n.instance}` : ''}
        {n.reason ? ` · ${n.reason}` : ''}
      </p>
      {n.deliveries.length > 0 ? (
        <ul class="deliveries">
          {n.deliveries.map((d) => (
            <li key={d.channel} class={`delivery-${d.status}`}>
              {d.channel}: {words(d.status)}
              {d.attempts > 1 ? ` after ${d.attempts} attempts` : ''}
              {d.last_error ? ` (${d.last_error})` : ''}
            </li>
          ))}
        </ul>
      ) : null}
      {retryable ? (
        <button type="button" disabled={busy.value || readOnly.value !== null} title={readOnly.value ?? undefined} onClick={retry}>
          Retry
        </button>
      ) : null}
      {said.value ? <p role="status">{said.value}</p> : null}
    </li>
  );
}

export function Notifications() {
  const list = useLoad(() => getJson<NotificationList>('/api/notifications', { limit: 100 }), 'notifications');
  const byId = new Map<string, Row>();
  for (const n of list.data?.notifications ?? []) byId.set(n.id, { ...n, deliveries: n.deliveries.map((d) => ({ channel: d.channel, status: d.status, attempts: d.attempts, last_error: d.last_error })) });
  for (const n of liveNotifications.value.values()) {
    const known = byId.get(n.id);
    // The feed is newer than the list: its deliveries win, channel by channel.
    const deliveries = new Map((known?.deliveries ?? []).map((d) => [d.channel, d]));
    for (const d of n.deliveries) deliveries.set(d.channel, d);
    byId.set(n.id, { ...(known ?? n), deliveries: [...deliveries.values()], status: known?.status ?? n.status });
  }
  const rows = [...byId.values()].sort((a, b) => b.created_at.localeCompare(a.created_at));
  return (
    <section aria-labelledby="notes-title">
      <h2 id="notes-title">Notifications</h2>
      {list.error ? <p role="alert">{list.error}</p> : null}
      {rows.length === 0 ? (
        <p class="empty">{list.loading ? 'Loading…' : 'No notification yet.'}</p>
      ) : (
        <ul class="cards" data-testid="notifications">
          {rows.map((n) => (
            <Item key={n.id} n={n} onRetried={list.reload} />
          ))}
        </ul>
      )}
    </section>
  );
}
