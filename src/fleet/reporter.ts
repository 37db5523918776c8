// This machine reporting to its hub (`serve --hub URL`): register (POST /v1/machines, idempotent)
// and bring both documents up to date (compare and set, re-applied on a conflict), then one
// WebSocket: hello with the head and epoch, the hub's durable cursor back, numbered changes read
// from SQLite in frames (a window of 4 unacknowledged), a heartbeat, and the hub's calls run
// in-process. Any failure closes the socket; it reconnects after a backoff with full jitter
// (capped well under three heartbeats) and resumes from the cursor the hub holds.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import type { Database } from '../db/database.js';
import { fleetIdentity, readChanges, type FleetIdentity } from '../db/queries/fleet.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { instanceView } from '../actors/instances/instance-view.js';
import { FRAME_ROWS, FRAME_WINDOW, hubFrameSchema, machineViewSchema, MACHINE_SOCKET_PATH, type DaemonState, type HubFrame, type MachineMetadata } from '../protocol/fleet.js';

export interface ReporterDeps {
  db: Database;
  hubUrl: string;
  token: string;
  clock: Clock;
  logger: Logger;
  /** The most a frame from the hub may be. */
  maxPayload: number;
  metadata: () => MachineMetadata;
  daemonState: () => DaemonState;
  /** Runs one of the hub's API calls in this server, as a request from the given peer (src/http/in-process.ts). */
  runApi: (r: { method: string; path: string; body?: unknown; headers: Record<string, string>; remoteAddress: string }) => Promise<{ status: number; headers: Record<string, string>; body: string }>;
  /** This server's API token: the hub's calls are judged by auth like any caller beyond loopback. */
  apiToken: string;
  /** The hub asked this server to stop (stop_daemon): the same clean stop as SIGTERM. */
  requestStop?: () => void;
  /** Whether the writer is healthy (a pump skips a turn while it is not). */
  healthy: () => boolean;
  /** The heartbeat until the hub names its own (hub.heartbeat_seconds). */
  heartbeatMs: number;
}

export type ReporterStatus = { connected: boolean; acked: number; sent: number; last_error: string | null };

class HttpFailure extends Error {
  constructor(readonly status: number, readonly body: unknown) {
    super(`hub answered ${status}: ${JSON.stringify(body).slice(0, 300)}`);
  }
}

export function createReporter(deps: ReporterDeps) {
  const { clock, logger } = deps;
  const boot = randomUUID();
  const wsUrl = deps.hubUrl.replace(/^http/, 'ws') + MACHINE_SOCKET_PATH;
  let identity: FleetIdentity | null = null;
  let ws: WebSocket | null = null;
  let welcomed = false;
  let sent = 0;
  let acked = 0;
  let inFlight = 0;
  let pumping = false;
  let again = false;
  let failures = 0;
  let stopped = false;
  let lastError: string | null = null;
  let lastHeard = 0;
  /** The hub's address as this socket sees it: the peer its calls are judged as. */
  let hubAddress = '0.0.0.0';
  let heartbeatMs = deps.heartbeatMs;
  let heartbeatTimer: TimerHandle | undefined;
  let retryTimer: TimerHandle | undefined;
  /** Why and when a stop was asked (the hub's stop_daemon), kept in every daemon state sent after it. */
  let shutdown: Pick<DaemonState, 'shutdown_source' | 'shutdown_requested_at'> = {};
  /** The versions of the documents on the hub, as last learned. */
  const versions = { metadata: 0, daemon_state: 0 };

  async function http(method: string, path: string, body: unknown): Promise<unknown> {
    const res = await fetch(deps.hubUrl + path, {
      method,
      headers: { authorization: `Bearer ${deps.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    if (!res.ok) throw new HttpFailure(res.status, json);
    return json;
  }

  /** PUT a document until the hub holds ours: on a conflict, adopt its version and apply ours on top. */
  async function putDoc(kind: 'metadata' | 'daemon_state', doc: unknown, current: unknown): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (JSON.stringify(current) === JSON.stringify(doc)) return;
      try {
        const r = machineViewSchema.parse((await http('PUT', `/v1/machines/${identity!.machine}/${kind === 'metadata' ? 'metadata' : 'daemon-state'}`, { [kind]: doc, expected_version: versions[kind] }) as { machine: unknown }).machine);
        versions[kind] = kind === 'metadata' ? r.metadata_version : r.daemon_state_version;
        return;
      } catch (err) {
        if (!(err instanceof HttpFailure) || err.status !== 409) throw err;
        const cur = machineViewSchema.parse((err.body as { current: unknown }).current);
        versions[kind] = kind === 'metadata' ? cur.metadata_version : cur.daemon_state_version;
        current = kind === 'metadata' ? cur.metadata : cur.daemon_state;
      }
    }
    throw new Error(`the hub's ${kind} kept changing; trying again later`);
  }

  async function register(): Promise<void> {
    identity = await fleetIdentity(deps.db);
    const metadata = deps.metadata();
    const daemonState = deps.daemonState();
    const r = machineViewSchema.parse(((await http('POST', '/v1/machines', { id: identity.machine, metadata, daemon_state: daemonState })) as { machine: unknown }).machine);
    versions.metadata = r.metadata_version;
    versions.daemon_state = r.daemon_state_version;
    await putDoc('metadata', metadata, r.metadata);
    await putDoc('daemon_state', daemonState, r.daemon_state);
  }

  function send(sock: WebSocket, frame: object): void {
    if (sock.readyState === WebSocket.OPEN) sock.send(JSON.stringify(frame));
  }

  /** Sends the changes the hub lacks, while the window allows; one pump at a time, on one socket. */
  async function pump(): Promise<void> {
    if (pumping) {
      again = true;
      return;
    }
    const sock = ws;
    if (!sock || !welcomed || !deps.healthy()) return;
    pumping = true;
    try {
      do {
        again = false;
        while (inFlight < FRAME_WINDOW && sock === ws && sock.readyState === WebSocket.OPEN) {
          const batch = await readChanges(deps.db, sent, FRAME_ROWS);
          if (!batch || sock !== ws) break;
          send(sock, {
            t: 'changes',
            from: sent,
            upto: batch.upto,
            instances: batch.instances.map((row) => ({ change_seq: row.change_seq, instance: instanceView(row) })),
            events: batch.events.map((e) => ({ id: e.id, type: e.event_type, instance_id: e.instance_id, device_id: e.device_id, details: e.details, created_at: e.created_at, change_seq: e.change_seq })),
          });
          sent = batch.upto;
          inFlight++;
        }
      } while (again && sock === ws);
    } catch (err) {
      logger.warn({ err }, 'reading changes for the hub failed; trying again on the next change');
    } finally {
      pumping = false;
    }
  }

  async function onCall(sock: WebSocket, f: Extract<HubFrame, { t: 'call' }>): Promise<void> {
    if (f.method === 'stop_daemon') {
      if (!deps.requestStop) {
        send(sock, { t: 'result', id: f.id, status: 503, headers: {}, body: JSON.stringify({ error: 'unavailable', message: 'this token-api was not started by serve; it cannot stop itself' }) });
        return;
      }
      // Acknowledge, report shutting-down, then stop as SIGTERM would (seed 003's order).
      send(sock, { t: 'result', id: f.id, status: 202, headers: {}, body: JSON.stringify({ stopping: true }) });
      logger.warn('the hub asked this token-api to stop');
      shutdown = { shutdown_source: 'hub', shutdown_requested_at: new Date(clock.now()).toISOString() };
      await putDoc('daemon_state', { ...deps.daemonState(), status: 'shutting-down', ...shutdown }, null).catch((err: unknown) =>
        logger.warn({ err }, 'could not report shutting-down to the hub'),
      );
      deps.requestStop();
      return;
    }
    const p = f.params;
    const answer = await deps.runApi({
      method: p.method ?? 'GET',
      path: p.path ?? '/',
      body: p.body,
      headers: { authorization: `Bearer ${deps.apiToken}` },
      remoteAddress: hubAddress,
    }).catch((err: unknown) => ({ status: 500, headers: {}, body: JSON.stringify({ error: 'internal', message: (err as Error).message }) }));
    send(sock, { t: 'result', id: f.id, ...answer });
  }

  function onFrame(sock: WebSocket, data: string): void {
    let f: HubFrame;
    try {
      f = hubFrameSchema.parse(JSON.parse(data));
    } catch {
      logger.warn({ frame: data.slice(0, 200) }, 'the hub sent a frame this token-api does not understand; reconnecting');
      sock.close(4400, 'bad frame');
      return;
    }
    lastHeard = clock.now();
    if (f.t === 'welcome') {
      failures = 0;
      welcomed = true;
      sent = acked = f.have;
      inFlight = 0;
      heartbeatMs = f.heartbeat_s * 1000;
      lastError = null;
      logger.info({ hub: deps.hubUrl, have: f.have }, 'connected to the hub');
      heartbeat(sock);
      void pump();
    } else if (f.t === 'ack') {
      acked = Math.max(acked, f.upto);
      inFlight = Math.max(0, inFlight - 1);
      void pump();
    } else if (f.t === 'call') {
      void onCall(sock, f);
    }
  }

  /** Every heartbeat: alive to the hub; a hub silent for two heartbeats is taken as gone. */
  function heartbeat(sock: WebSocket): void {
    clock.clearTimeout(heartbeatTimer);
    heartbeatTimer = clock.setTimeout(() => {
      if (sock !== ws) return;
      if (clock.now() - lastHeard > 2 * heartbeatMs) {
        logger.warn('the hub has been silent for two heartbeats; reconnecting');
        sock.terminate();
        return;
      }
      send(sock, { t: 'alive', at: clock.now() });
      heartbeat(sock);
    }, heartbeatMs);
  }

  function retry(): void {
    if (stopped) return;
    failures++;
    // Capped at 10 s and under two heartbeats, so a hub restart never shows a machine offline.
    const cap = Math.min(10_000, 2 * heartbeatMs, 250 * 2 ** Math.min(failures, 10));
    clock.clearTimeout(retryTimer);
    retryTimer = clock.setTimeout(() => void connect(), Math.random() * cap);
  }

  async function connect(): Promise<void> {
    if (stopped) return;
    try {
      await register();
      identity = await fleetIdentity(deps.db);
    } catch (err) {
      lastError = (err as Error).message;
      logger.warn({ err: lastError, hub: deps.hubUrl }, 'could not register with the hub; trying again');
      retry();
      return;
    }
    if (stopped) return;
    const sock = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${deps.token}` }, maxPayload: deps.maxPayload, handshakeTimeout: 10_000 });
    ws = sock;
    welcomed = false;
    sock.on('upgrade', (res) => {
      hubAddress = res.socket.remoteAddress ?? hubAddress;
    });
    sock.on('open', () => send(sock, { t: 'hello', v: 1, machine: identity!.machine, epoch: identity!.epoch, boot, head: identity!.head }));
    sock.on('message', (data, isBinary) => {
      if (!isBinary) onFrame(sock, data.toString());
    });
    sock.on('unexpected-response', (_req, res) => {
      lastError = `the hub refused the connection: ${res.statusCode}`;
      logger.warn({ status: res.statusCode, hub: deps.hubUrl }, 'the hub refused the machine connection');
      sock.terminate();
    });
    sock.on('close', (code, reason) => {
      if (ws !== sock) return;
      ws = null;
      welcomed = false;
      clock.clearTimeout(heartbeatTimer);
      if (code !== 1000 && code !== 1005) lastError = `closed ${code} ${reason.toString()}`.trim();
      if (!stopped) logger.info({ code, reason: reason.toString() }, 'the hub connection closed; reconnecting');
      retry();
    });
    sock.on('error', (err) => {
      lastError = err.message;
    });
  }

  return {
    start(): void {
      void connect();
    },
    /** A commit happened: send what is new. */
    changed(): void {
      void pump();
    },
    /** Reports offline to the hub (a clean stop), then closes. */
    async stop(): Promise<void> {
      stopped = true;
      clock.clearTimeout(retryTimer);
      clock.clearTimeout(heartbeatTimer);
      if (identity) {
        await putDoc('daemon_state', { ...deps.daemonState(), status: 'offline', ...shutdown }, null).catch((err: unknown) => logger.debug({ err }, 'could not report offline to the hub'));
      }
      const sock = ws;
      ws = null;
      sock?.close(1001, 'this machine is stopping');
    },
    status(): ReporterStatus {
      return { connected: welcomed, acked, sent, last_error: lastError };
    },
  };
}

export type Reporter = ReturnType<typeof createReporter>;
