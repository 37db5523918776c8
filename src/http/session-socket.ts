// WS /ws/sessions/{id}: a managed session's output, live. The client first gets the session
// (`session`), then what was stored after `?after=` (default 0: everything), then each new
// message as it is printed (`output`), and `exited` when the agent ends (src/sessions/follow.ts
// keeps the order); a client too slow to keep up loses only the partial (typing) messages.
import type { WebSocket } from 'ws';
import { followSession, type FollowDeps } from '../sessions/follow.js';

export const SESSION_SOCKET_PATH = /^\/ws\/sessions\/(ses-[0-9a-f]{12})$/;

export type SessionSocketDeps = FollowDeps;

/** Bytes a client may have waiting before partial messages are skipped for it. */
const SLOW_CLIENT_BYTES = 1024 * 1024;

export async function serveSessionSocket(ws: WebSocket, id: string, after: number, deps: SessionSocketDeps): Promise<void> {
  const send = (o: unknown) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(o));
  };
  const following = followSession(deps, id, after, {
    slow: () => ws.bufferedAmount > SLOW_CLIENT_BYTES,
    send: (e) => {
      if (e.type === 'session') send({ type: 'session', session: e.session });
      else if (e.type === 'output') send({ type: 'output', ...e.output });
      else send({ type: 'exited', ...e.details });
    },
  });
  ws.on('close', () => following.stop());
  try {
    if ((await following.done) === 'not_running') ws.close(1000, 'session not running');
  } catch (err) {
    send({ type: 'error', message: (err as Error).message });
    ws.close(1011, 'session unavailable');
  }
}
