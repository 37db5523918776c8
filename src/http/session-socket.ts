// WS /ws/sessions/{id}: a managed session's output, live. The client first gets the session
// (`session`), then what was stored after `?after=` (default 0: everything), then each new
// message as it is printed (`output`), and `exited` when the agent ends. Live messages that
// arrive while the stored ones are being read are held and sent after them, so nothing is
// missed or repeated; a client too slow to keep up loses only the partial (typing) messages.
import type { WebSocket } from 'ws';
import type { Sessions, OutputMessage } from '../sessions/sessions.js';

export const SESSION_SOCKET_PATH = /^\/ws\/sessions\/(ses-[0-9a-f]{12})$/;

export type SessionSocketDeps = Pick<Sessions, 'get' | 'output' | 'subscribe'>;

/** Bytes a client may have waiting before partial messages are skipped for it. */
const SLOW_CLIENT_BYTES = 1024 * 1024;

export async function serveSessionSocket(ws: WebSocket, id: string, after: number, deps: SessionSocketDeps): Promise<void> {
  const send = (o: unknown) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(o));
  };
  let held: OutputMessage[] | null = [];
  let lastSeq = after;
  const deliver = (m: OutputMessage) => {
    if (m.seq !== null) {
      if (m.seq <= lastSeq) return;
      lastSeq = m.seq;
    } else if (ws.bufferedAmount > SLOW_CLIENT_BYTES) {
      return;
    }
    if (m.kind === 'other' && m.message.type === 'exited') send({ type: 'exited', ...m.message });
    else send({ type: 'output', ...m });
  };
  const unsubscribe = deps.subscribe(id, (m) => (held ? held.push(m) : deliver(m)));
  ws.on('close', () => unsubscribe?.());
  try {
    send({ type: 'session', session: await deps.get(id) });
    for (;;) {
      const page = await deps.output(id, lastSeq, 500);
      for (const m of page.messages) deliver(m);
      if (page.next_after === null) break;
    }
    const waiting = held;
    held = null;
    for (const m of waiting) deliver(m);
    if (!unsubscribe) {
      send({ type: 'exited' });
      ws.close(1000, 'session not running');
    }
  } catch (err) {
    send({ type: 'error', message: (err as Error).message });
    ws.close(1011, 'session unavailable');
  }
}
