// Following one managed session's output, whatever carries it (WS /ws/sessions/{id}, or a
// subscription on the main feed): the session first, then what was stored after `after`, then
// each message as it is printed, and `exited` when the agent ends. Live messages that arrive
// while the stored ones are read are held and passed on after them, so nothing is missed or
// repeated; while the carrier says it is behind (`slow`), only partial (typing) messages are skipped.
import type { OutputMessage, Sessions, SessionView } from './sessions.js';

export type FollowDeps = Pick<Sessions, 'get' | 'output' | 'subscribe'>;

/** What a follower is given, in order. `exited` without details: the session was not running. */
export type FollowEvent =
  | { type: 'session'; session: SessionView }
  | { type: 'output'; output: OutputMessage }
  | { type: 'exited'; details: Record<string, unknown> | null };

export interface FollowSink {
  send(e: FollowEvent): void;
  /** The carrier is behind: partial messages are not worth sending. */
  slow(): boolean;
}

/**
 * Starts following session `id`; `done` resolves with `live` (messages keep coming until
 * `stop`), `not_running` (it has exited: nothing more will come) or throws (unknown session).
 */
export function followSession(deps: FollowDeps, id: string, after: number, sink: FollowSink): { done: Promise<'live' | 'not_running'>; stop: () => void } {
  let held: OutputMessage[] | null = [];
  let lastSeq = after;
  let stopped = false;
  const deliver = (m: OutputMessage) => {
    if (stopped) return;
    if (m.seq !== null) {
      if (m.seq <= lastSeq) return;
      lastSeq = m.seq;
    } else if (sink.slow()) {
      return;
    }
    if (m.kind === 'other' && m.message.type === 'exited') sink.send({ type: 'exited', details: m.message });
    else sink.send({ type: 'output', output: m });
  };
  const unsubscribe = deps.subscribe(id, (m) => (held ? held.push(m) : deliver(m)));
  const stop = () => {
    stopped = true;
    unsubscribe?.();
  };
  const done = (async () => {
    try {
      sink.send({ type: 'session', session: await deps.get(id) });
      for (;;) {
        const page = await deps.output(id, lastSeq, 500);
        for (const m of page.messages) deliver(m);
        if (page.next_after === null) break;
      }
      const waiting = held ?? [];
      held = null;
      for (const m of waiting) deliver(m);
    } catch (err) {
      stop();
      throw err;
    }
    if (unsubscribe) return 'live' as const;
    if (!stopped) sink.send({ type: 'exited', details: null });
    return 'not_running' as const;
  })();
  return { done, stop };
}
