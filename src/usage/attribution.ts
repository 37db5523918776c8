// Who spent a record: the instance whose transcript it came from (by path, then by session
// id, every session an instance ever had included) and that instance's origin device; records
// no instance claims belong to this machine's own device.
import type { Database } from '../db/database.js';
import { allSessionLinks, instanceOwners } from '../db/queries/instances.js';

export interface Attribution {
  deviceId: string;
  instanceId: string | null;
}

export type Attributor = (path: string, sessionId: string | null) => Attribution;

/** The live instances' answer (from memory), tried first: a session that starts during a long scan is still found. */
export type LiveAttribution = (sessionId: string) => Attribution | null;

/** Reads the instance tables once; the returned function answers without I/O. */
export async function loadAttributor(db: Database, localDevice: string, live?: LiveAttribution): Promise<Attributor> {
  const byPath = new Map<string, Attribution>();
  const bySession = new Map<string, Attribution>();
  const instances = await instanceOwners(db);
  const byId = new Map<string, Attribution>();
  for (const i of instances) {
    const a = { deviceId: i.device_id, instanceId: i.id };
    byId.set(i.id, a);
    if (i.transcript_path) byPath.set(i.transcript_path, a);
    bySession.set(i.session_id, a);
  }
  for (const s of await allSessionLinks(db)) {
    const a = byId.get(s.instance_id);
    if (a) bySession.set(s.session_id, a);
  }
  const local: Attribution = { deviceId: localDevice, instanceId: null };
  return (path, sessionId) => (sessionId ? live?.(sessionId) : null) ?? byPath.get(path) ?? (sessionId ? bySession.get(sessionId) : undefined) ?? local;
}
