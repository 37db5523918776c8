// The machines' WebSocket on a hub (/v1/machines/connect): a machine token is required even
// from loopback (any local process could otherwise pose as a machine), the handshake checked as
// the feed's is, refusals answered in the API's error shape; an accepted socket is served by
// src/fleet/hub-socket.ts. Frames over the size limit close the socket with 1009.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { FleetHub } from '../fleet/fleet-hub.js';
import { serveMachineSocket } from '../fleet/hub-socket.js';
import { isMachineToken } from '../fleet/tokens.js';
import { authorize, bearerToken, requestFacts, type AuthPolicy } from './auth.js';
import { handshakeProblem, refuseUpgrade } from './feed-upgrade.js';
import { peerOf, requestLine, type PeerAddress } from './request.js';

export interface MachineUpgradeDeps {
  auth: AuthPolicy;
  peerAddress?: PeerAddress;
  fleet: FleetHub;
  logger: Logger;
  /** The largest frame a machine may send. */
  maxPayload: number;
}

export function machineUpgrade(deps: MachineUpgradeDeps): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: deps.maxPayload, clientTracking: false, perMessageDeflate: false });
  wss.on('wsClientError', (err: Error, socket: Duplex) => refuseUpgrade(socket, 400, 'bad_request', `invalid WebSocket handshake: ${err.message}`));
  return (req, socket, head) => {
    const line = requestLine(req);
    const remote = peerOf(req, deps.peerAddress).address;
    const decision = authorize(deps.auth, requestFacts(req, line, remote));
    if (!decision.ok && decision.status === 403) {
      refuseUpgrade(socket, 403, 'forbidden', decision.reason);
      return;
    }
    const token = bearerToken(req.headers.authorization);
    if (!isMachineToken(token)) {
      refuseUpgrade(socket, 401, 'unauthorized', 'a machine connects with its own token (Authorization: Bearer tam_...; token-api machines add NAME on the hub prints one)', { 'WWW-Authenticate': 'Bearer realm="token-api"' });
      return;
    }
    const problem = handshakeProblem(req);
    if (problem) {
      refuseUpgrade(socket, problem.status, problem.status === 426 ? 'upgrade_required' : 'bad_request', problem.message, problem.headers);
      return;
    }
    deps.fleet.authenticate(token).then(
      (row) => {
        if (!row) {
          refuseUpgrade(socket, 401, 'unauthorized', 'this machine token is unknown or revoked', { 'WWW-Authenticate': 'Bearer realm="token-api"' });
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => serveMachineSocket(ws, row, remote, deps.fleet, deps.logger));
      },
      (err: unknown) => {
        deps.logger.error({ err }, 'checking a machine token failed');
        refuseUpgrade(socket, 503, 'unavailable', 'the hub could not check the token; try again');
      },
    );
  };
}
