// The managed sessions one feed client follows (`subscribe_session`): each session's output
// as `session`, `session_output` and `session_exited` messages on the main feed, the same
// messages WS /ws/sessions/{id} sends, with the session's id. They go through the client's
// bound like everything else; a client that fell behind follows each session again from the
// last stored message it was given once it has caught up, so it misses no stored output.
import type { FollowEvent, followSession } from '../sessions/follow.js';

export type FollowSession = typeof followSession;
export type FollowFn = (id: string, after: number, sink: Parameters<FollowSession>[3]) => ReturnType<FollowSession>;

/** At most this many sessions followed by one client. */
export const MAX_FOLLOWED_SESSIONS = 32;

export interface SessionFollowsDeps {
  follow: FollowFn;
  /** Sends a message to the client (through its bound); false when it was not sent. */
  send(type: string, fields: string, id?: string): boolean;
  error(code: string, message: string, id?: string): void;
  /** The client is behind: partial messages are skipped. */
  slow(): boolean;
}

export function createSessionFollows(deps: SessionFollowsDeps) {
  const followed = new Map<string, { stop: () => void; lastSeq: number }>();

  function start(id: string, after: number, requestId?: string): void {
    const entry = { stop: () => undefined as void, lastSeq: after };
    followed.set(id, entry);
    const sid = `"session_id":${JSON.stringify(id)}`;
    const following = deps.follow(id, after, {
      slow: deps.slow,
      send: (e: FollowEvent) => {
        if (followed.get(id) !== entry) return;
        if (e.type === 'session') deps.send('session', `${sid},"session":${JSON.stringify(e.session)}`, requestId);
        else if (e.type === 'exited') deps.send('session_exited', `${sid},"exit":${JSON.stringify(e.details)}`);
        else if (deps.send('session_output', `${sid},"output":${JSON.stringify(e.output)}`) && e.output.seq !== null) entry.lastSeq = e.output.seq;
      },
    });
    entry.stop = following.stop;
    following.done.then(
      (how) => {
        if (how === 'not_running' && followed.get(id) === entry) followed.delete(id);
      },
      (err: unknown) => {
        if (followed.get(id) !== entry) return;
        followed.delete(id);
        const kind = (err as { kind?: string }).kind;
        deps.error(kind === 'not_found' ? 'not_found' : 'unavailable', (err as Error).message ?? String(err), requestId);
      },
    );
  }

  return {
    /** Follows a session from after `after` (a stored message's seq; 0: all of it). Again: from there once more. */
    add(id: string, after: number, requestId?: string): void {
      const was = followed.get(id);
      if (!was && followed.size >= MAX_FOLLOWED_SESSIONS) {
        deps.error('too_many', `at most ${MAX_FOLLOWED_SESSIONS} sessions per connection; unsubscribe_session one first`, requestId);
        return;
      }
      was?.stop();
      start(id, after, requestId);
    },
    remove(id: string, requestId?: string): void {
      const was = followed.get(id);
      was?.stop();
      followed.delete(id);
      deps.send('session_unsubscribed', `"session_id":${JSON.stringify(id)},"was_followed":${was !== undefined}`, requestId);
    },
    /** After the client caught up: each session again from the last stored message it was given. */
    resume(): void {
      for (const [id, entry] of [...followed]) {
        entry.stop();
        start(id, entry.lastSeq);
      }
    },
    stopAll(): void {
      for (const entry of followed.values()) entry.stop();
      followed.clear();
    },
  };
}
