// A managed session's output over the live feed (`subscribe_session`, docs/websocket.md), so the
// page needs one socket whatever carries it: the server's /ws, or a relay's feed stream (sealed
// with a pairing). A follower is subscribed whenever the feed is open, again after each
// reconnection from the last stored message it was given; a message already given is dropped.
import type { ServerMessage } from './shared.js';

export type SessionMessage = Extract<ServerMessage, { type: 'session' | 'session_output' | 'session_exited' }>;

export interface SessionFollower {
  /** The session (again after each reconnection), its output, and its end. */
  message(m: SessionMessage): void;
  /** The server could not follow it (no such session, no managed sessions there), in its words. */
  refused(message: string): void;
}

interface Entry {
  follower: SessionFollower;
  /** The last stored message given (0: none yet). */
  after: number;
  /** Exited or refused: not subscribed again. */
  over: boolean;
}

const REQUEST_PREFIX = 'follow:';
const followers = new Map<string, Entry>();
let send: ((text: string) => void) | null = null;

function subscribe(id: string, e: Entry): void {
  send?.(JSON.stringify({ type: 'subscribe_session', id: `${REQUEST_PREFIX}${id}`, session_id: id, after: e.after }));
}

/** Follows session `id` until the returned function is called. */
export function followSession(id: string, follower: SessionFollower): () => void {
  const e: Entry = { follower, after: 0, over: false };
  followers.set(id, e);
  subscribe(id, e);
  return () => {
    if (followers.get(id) !== e) return;
    followers.delete(id);
    if (!e.over) send?.(JSON.stringify({ type: 'unsubscribe_session', session_id: id }));
  };
}

/** The feed is open (again): every session still followed is subscribed on it. */
export function feedOpened(sender: (text: string) => void): void {
  send = sender;
  for (const [id, e] of followers) if (!e.over) subscribe(id, e);
}

export function feedClosed(): void {
  send = null;
}

/** Takes a feed message meant for the followers; false for any other (the store's). */
export function takeSessionMessage(m: ServerMessage): boolean {
  if (m.type === 'session_unsubscribed') return true;
  if (m.type === 'error') {
    if (!m.id?.startsWith(REQUEST_PREFIX)) return false;
    const e = followers.get(m.id.slice(REQUEST_PREFIX.length));
    if (e) {
      e.over = true;
      e.follower.refused(m.message);
    }
    return true;
  }
  if (m.type !== 'session' && m.type !== 'session_output' && m.type !== 'session_exited') return false;
  const e = followers.get(m.session_id);
  if (!e) return true;
  if (m.type === 'session_output' && m.output.seq !== null) {
    if (m.output.seq <= e.after) return true;
    e.after = m.output.seq;
  }
  if (m.type === 'session_exited') e.over = true;
  e.follower.message(m);
  return true;
}
