// Listening: takes the data directory's lock, creates the system (src/system/system.ts),
// serves its request listener on a node:http server with the live feed's upgrade, and resolves
// { url, closers, close }; parts with connections of their own add a closer (src/service/).
// close() stops accepting, drains requests in flight, runs the closers and shuts down.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { ConfigError, type Config } from '../config/config.js';
import { answerMalformedRequests } from '../http/client-errors.js';
import { VERSION } from '../lib/version.js';
import { createClosers, type Closers } from '../service/closers.js';
import { prepareDataDir } from '../service/data-dir.js';
import { trackRequests } from '../service/http-drain.js';
import { acquireLock, describeHolder, type LockInfo, type ServerLock } from '../service/lock.js';
import { stopServer, type StopOptions, type StopReport } from '../service/stop.js';
import { createSystem, type System, type SystemOptions } from './system.js';

export interface RunningServer {
  url: string;
  port: number;
  system: System;
  server: Server;
  /** Parts with connections of their own (the WebSocket feed) add a closer; close() runs them. */
  closers: Closers;
  /** Stops accepting, lets requests in flight finish, runs the closers, shuts the system down. */
  close(options?: StopOptions): Promise<StopReport>;
}

export async function startServer(config: Config, options: SystemOptions = {}): Promise<RunningServer> {
  // A data directory that cannot be written is refused before the lock is attempted in it.
  prepareDataDir(config);
  const tls = config.tls ? readTls(config.tls) : null;
  let stale: LockInfo | null | undefined;
  const lock: ServerLock | null = options.lock === false ? null : acquireLock(config.home, { version: VERSION, onStale: (s) => (stale = s) });
  let system: System;
  try {
    system = await createSystem(config, options);
  } catch (err) {
    lock?.release();
    throw err;
  }
  if (stale !== undefined) system.logger.warn({ previous: stale ? describeHolder(stale) : 'unreadable' }, 'took over the lock of a server that is gone');
  // With a certificate, https and wss on the same port (an https.Server is an http.Server to its users).
  const server = tls ? (createTlsServer(tls, system.requestListener) as unknown as Server) : createServer(system.requestListener);
  server.keepAliveTimeout = 65_000;
  const drain = trackRequests(server);
  const closers = createClosers();
  system.feed.attach(server);
  // WebSocket clients are told (close 1001) as soon as the server stops accepting.
  closers.add({ name: 'live feed', close: () => system.feed.close() });
  // Hooks held for a decision would keep the drain waiting: they are told to ask the next start.
  closers.add({ name: 'held approvals', close: () => system.releaseHeld() });
  // The hub hears this machine is going (offline), and machines connected to this hub are told (1001).
  closers.add({ name: 'machines', close: () => system.fleet.close() });
  answerMalformedRequests(server);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await system.shutdown().catch(() => undefined);
    lock?.release();
    throw err;
  }
  // Once listening, an error of the listening socket (EMFILE when a flood of connections uses
  // up the file descriptors) is logged; unheard, it would end the process.
  server.on('error', (err) => system.logger.error({ err }, 'the HTTP server reported an error; it goes on listening'));
  const { port } = server.address() as AddressInfo;
  system.fleet.listening(port);
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `${tls ? 'https' : 'http'}://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`;
  system.logger.info({ url, home: config.home, database: config.databaseFile }, 'listening');
  system.listeningAt(url);
  try {
    lock?.listening(url, port);
  } catch (err) {
    system.logger.warn({ err, file: lock?.file }, 'could not record the port in the lock file');
  }
  let closing: Promise<StopReport> | null = null;
  return {
    url,
    port,
    system,
    server,
    closers,
    close(stop: StopOptions = {}) {
      closing ??= stopServer({ drain, closers, shutdown: () => system.shutdown(), lock }, stop.graceMs ?? config.shutdownGraceMs, stop.onWaiting);
      return closing;
    },
  };
}

/** The PEM certificate and key of `serve --tls-cert/--tls-key`, read before anything starts. */
function readTls(files: NonNullable<Config['tls']>): { cert: Buffer; key: Buffer } {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(`cannot read the TLS ${what} ${file}: ${(err as Error).message}`);
    }
  };
  const pair = { cert: read(files.certFile, 'certificate'), key: read(files.keyFile, 'key') };
  try {
    createSecureContext(pair);
  } catch (err) {
    throw new ConfigError(`the TLS certificate ${files.certFile} and key ${files.keyFile} cannot be used together: ${(err as Error).message}`);
  }
  return pair;
}
