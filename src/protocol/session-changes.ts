// Keeping a list of managed sessions current from the live feed, as the web page and the
// dashboard do: the list read over HTTP (GET /api/sessions), with each `session_changed` laid
// over it (the newer `updated_at` of the two wins; a session new to the list joins at its end),
// and, on a `session.cleaned_up` event, the exited sessions taken out (cleanup forgets them all).
// After a new snapshot a client drops the changes it holds and reads the list again.

export interface SessionStamp {
  id: string;
  state: string;
  updated_at: string;
}

/** The event that says exited sessions were forgotten. */
export const SESSIONS_CLEANED_UP = 'session.cleaned_up';

/** `read` with `changes` laid over it. */
export function withSessionChanges<T extends SessionStamp>(read: readonly T[], changes: Iterable<T>): T[] {
  const out = [...read];
  const at = new Map(out.map((s, i) => [s.id, i]));
  for (const c of changes) {
    const i = at.get(c.id);
    if (i === undefined) {
      at.set(c.id, out.length);
      out.push(c);
    } else if (c.updated_at >= out[i]!.updated_at) out[i] = c;
  }
  return out;
}

/** Without the exited sessions, as a cleanup leaves the list. */
export const withoutExited = <T extends SessionStamp>(list: readonly T[]): T[] => list.filter((s) => s.state !== 'exited');
