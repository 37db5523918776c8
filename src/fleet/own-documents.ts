// This machine's two documents as it reports them: metadata (host, platform, version, the agents
// it can start, found on PATH) and daemon state (running or shutting down, pid, port, start).
import { accessSync, constants } from 'node:fs';
import { arch, homedir, hostname, platform } from 'node:os';
import { delimiter, join } from 'node:path';
import type { DaemonState, MachineMetadata } from '../protocol/fleet.js';

/** Whether an executable of this name lies on PATH. */
function onPath(name: string, path = process.env.PATH ?? ''): boolean {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

export function ownMetadata(o: { version: string; dataDir: string }): MachineMetadata {
  return {
    host: hostname().slice(0, 256),
    platform: platform(),
    arch: arch(),
    token_api_version: o.version,
    home_dir: homedir().slice(0, 1024),
    data_dir: o.dataDir.slice(0, 1024),
    agents: (['claude', 'codex'] as const).filter((a) => onPath(a)),
    repos: [],
  };
}

export function ownDaemonState(o: { port: number; startedAt: number; status?: DaemonState['status']; shutdownSource?: DaemonState['shutdown_source']; shutdownAt?: number }): DaemonState {
  return {
    status: o.status ?? 'running',
    pid: process.pid,
    port: o.port,
    started_at: new Date(o.startedAt).toISOString(),
    ...(o.shutdownSource ? { shutdown_source: o.shutdownSource, shutdown_requested_at: new Date(o.shutdownAt ?? Date.now()).toISOString() } : {}),
    managed_sessions: 0,
  };
}
