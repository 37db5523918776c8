// Stopping the HTTP server without cutting anyone off: stop accepting, close idle keep-alive
// connections, let requests in flight finish (each answered with `Connection: close`), and
// after a grace period close whatever is still open. Node's server.close() alone would wait
// for keep-alive connections to time out.
import type { Server } from 'node:http';

export interface DrainResult {
  /** Requests still unanswered when the grace period ended (their connections were closed). */
  cutOff: number;
}

export interface HttpDrain {
  /** Requests being handled now. */
  inFlight(): number;
  /** Stops accepting and waits (at most graceMs) for requests in flight; called once. */
  drain(graceMs: number, onWaiting?: (inFlight: number) => void): Promise<DrainResult>;
}

export function trackRequests(server: Server): HttpDrain {
  let active = 0;
  let closing = false;
  let wake: (() => void) | null = null;
  server.on('request', (_req, res) => {
    active++;
    if (closing && !res.headersSent) res.setHeader('connection', 'close');
    res.once('close', () => {
      active--;
      if (!closing) return;
      // The connection turns idle once the response is out; close it then.
      setImmediate(() => server.closeIdleConnections());
      if (active === 0) wake?.();
    });
  });
  let draining: Promise<DrainResult> | null = null;
  return {
    inFlight: () => active,
    drain(graceMs, onWaiting) {
      draining ??= (async () => {
        closing = true;
        server.close();
        server.closeIdleConnections();
        if (active > 0) {
          onWaiting?.(active);
          let timer: NodeJS.Timeout | undefined;
          await new Promise<void>((resolve) => {
            wake = resolve;
            timer = setTimeout(resolve, Math.max(0, graceMs));
          });
          clearTimeout(timer);
        }
        const cutOff = active;
        server.closeAllConnections();
        return { cutOff };
      })();
      return draining;
    },
  };
}
