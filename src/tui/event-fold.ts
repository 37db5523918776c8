// The recent events as the dashboard lists them: in the order they happened (a spooled event
// arrives late but sorts by its own time), a session's start as one line (its registration
// and its SessionStart hook are one thing to a person), and the gate flapping within a few
// seconds as one line with the states it went through. Pure.
import type { FeedEvent } from '../protocol/feed.js';
import { describeEvent, type Described } from '../protocol/event-words.js';

/** Two events of one session start this close together are one line. */
export const START_FOLD_MS = 2000;
/** Gate changes each this close to the one before fold into one line. */
export const FLAP_MS = 10_000;

export interface ShownEvent {
  event: FeedEvent;
  at: number;
  words: Described;
}

/** When it happened (NaN when the server sent no readable time: shown as --:--:--). */
const parsed = (e: FeedEvent) => Date.parse(e.created_at);
const timeOf = (e: FeedEvent) => {
  const t = parsed(e);
  return Number.isFinite(t) ? t : 0;
};

/** Newest first by when each happened; events of one time keep the order they arrived in. */
export function byTime(events: readonly FeedEvent[]): FeedEvent[] {
  return events
    .map((e, i) => ({ e, i, t: timeOf(e) }))
    .sort((a, b) => b.t - a.t || a.i - b.i)
    .map((x) => x.e);
}

const STARTS = new Set(['hook.session_start', 'codex.session_meta']);
const str = (v: unknown) => (typeof v === 'string' ? v : null);

/** `events` newest first (byTime); the lines to show, newest first. */
export function foldEvents(events: readonly FeedEvent[], nameOf: (id: string) => string | null): ShownEvent[] {
  const registered = new Map<string, number[]>();
  for (const e of events) if (e.type === 'instance.registered' && e.instance_id) registered.set(e.instance_id, [...(registered.get(e.instance_id) ?? []), timeOf(e)]);

  const out: ShownEvent[] = [];
  let flap: { line: ShownEvent; states: string[]; oldest: number; count: number } | null = null;
  for (const e of events) {
    const at = parsed(e);
    if (STARTS.has(e.type) && e.instance_id) {
      const source = str((e.details as { payload?: { source?: unknown } } | null)?.payload?.source);
      const fresh = source === null || source === 'startup';
      if (fresh && (registered.get(e.instance_id) ?? []).some((t) => Math.abs(t - at) <= START_FOLD_MS)) continue;
    }
    if (e.type === 'gate.changed') {
      const d = (e.details ?? {}) as { from?: unknown; to?: unknown };
      // Newest first: this change came before the one the open line starts with.
      if (flap && flap.oldest - at <= FLAP_MS) {
        flap.states.unshift(str(d.from) ?? '?');
        flap.oldest = at;
        flap.count += 1;
        const chain = flap.states.length > 5 ? [flap.states[0]!, '…', flap.states[flap.states.length - 1]!] : flap.states;
        flap.line.words = { ...flap.line.words, text: `Productivity: ${chain.join(' → ')} (${flap.count} changes in ${Math.max(1, Math.round((flap.line.at - at) / 1000))}s)` };
        continue;
      }
      const line: ShownEvent = { event: e, at, words: describeEvent(e, nameOf) };
      flap = { line, states: [str(d.from) ?? '?', str(d.to) ?? '?'], oldest: at, count: 1 };
      out.push(line);
      continue;
    }
    out.push({ event: e, at, words: describeEvent(e, nameOf) });
  }
  return out;
}
