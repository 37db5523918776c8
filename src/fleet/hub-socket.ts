// One machine's WebSocket on the hub (/v1/machines/connect, after its token was checked): each
// frame checked with zod, handled one after another (arrival order matters: a changes frame is
// committed before the next is looked at), acks sent only after commit. A bad frame closes the
// socket with 4400 and writes nothing.
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { FleetTokenRow } from '../db/queries/fleet.js';
import { CLOSE, machineFrameSchema } from '../protocol/fleet.js';
import type { FleetHub, MachineConnection } from './fleet-hub.js';

export function serveMachineSocket(ws: WebSocket, token: FleetTokenRow, remoteAddress: string | undefined, fleet: FleetHub, logger: Logger): void {
  let machine: string | null = null;
  let queue = Promise.resolve();
  const conn: MachineConnection = {
    send(frame) {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
    },
    close(code, reason) {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
    },
  };

  async function handle(data: string): Promise<void> {
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      conn.close(CLOSE.badFrame, 'a frame is not JSON');
      return;
    }
    const parsed = machineFrameSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      conn.close(CLOSE.badFrame, `bad frame: ${issue?.path.join('.') || '(root)'} ${issue?.message ?? ''}`.slice(0, 120));
      return;
    }
    const f = parsed.data;
    if (f.t === 'hello') {
      const r = await fleet.hello(token, conn, f);
      if ('close' in r) {
        conn.close(r.close, r.reason);
        return;
      }
      machine = f.machine;
      logger.info({ machine, name: token.name, remote: remoteAddress, have: r.have }, 'machine socket open');
      conn.send({ t: 'welcome', ...r });
      return;
    }
    if (machine === null) {
      conn.close(CLOSE.badFrame, 'say hello first');
      return;
    }
    if (f.t === 'changes') {
      const r = await fleet.changes(machine, f);
      if ('gap' in r) conn.close(CLOSE.gap, `gap: this hub has changes up to ${r.gap}; resume from there`);
      else conn.send({ t: 'ack', upto: r.upto });
    } else if (f.t === 'alive') {
      fleet.alive(machine);
      conn.send({ t: 'alive_ack' });
    } else {
      fleet.result(machine, f);
    }
  }

  ws.on('message', (data, isBinary) => {
    const text = isBinary ? null : data.toString();
    queue = queue
      .then(() => (text === null ? conn.close(CLOSE.badFrame, 'frames are JSON text') : handle(text)))
      .catch((err: unknown) => {
        logger.error({ err, machine }, 'a machine frame could not be applied; the machine will resend it');
        conn.close(1011, 'the hub could not apply a frame');
      });
  });
  ws.on('close', () => {
    if (machine) fleet.disconnected(machine, conn);
  });
  ws.on('error', (err) => logger.debug({ err, machine }, 'machine socket error'));
}
