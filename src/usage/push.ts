// `token-api usage push`: sends this machine's usage records to another token-api (the hub)
// in batches, in the order they were stored, and remembers after each acknowledged batch how
// far it got, so an interrupted push resumes where it stopped. The hub stores each record
// once by its key, so sending a batch again (after a lost answer, say) counts nothing twice.
import type { RecordRow } from '../db/queries/usage.js';
import type { UsageStore } from './store.js';

export class PushError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PushError';
  }
}

export interface PushOptions {
  store: UsageStore;
  /** The hub's base URL, e.g. http://100.64.0.1:7777 */
  target: string;
  /** The device id this machine's own records are sent as. */
  deviceId: string;
  /** This machine's local device id (records attributed to it are sent as `deviceId`). */
  localDevice: string;
  token?: string;
  batchSize?: number;
  fetch?: typeof fetch;
  onBatch?: (sent: number, inserted: number) => void;
}

export interface PushResult {
  target: string;
  sent: number;
  inserted: number;
  duplicates: number;
  batches: number;
}

/** The base URL without a trailing slash; only http and https. */
export function normalizeTarget(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new PushError(`--to must be a URL such as http://127.0.0.1:7777, got "${url}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new PushError(`--to must be an http:// or https:// URL, got "${url}"`);
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

function wire(r: RecordRow) {
  return {
    key: r.key,
    source: r.source,
    session_id: r.session_id,
    project: r.project,
    model: r.model,
    timestamp: new Date(r.at).toISOString(),
    input_tokens: r.input_tokens,
    output_tokens: r.output_tokens,
    cache_creation_tokens: r.cache_creation_tokens,
    cache_read_tokens: r.cache_read_tokens,
  };
}

export async function pushUsage(o: PushOptions): Promise<PushResult> {
  const target = normalizeTarget(o.target);
  const doFetch = o.fetch ?? fetch;
  let batchSize = o.batchSize ?? 1000;
  const result: PushResult = { target, sent: 0, inserted: 0, duplicates: 0, batches: 0 };
  const cursorName = o.deviceId;
  let cursor = await o.store.pushCursor(target, cursorName);

  for (;;) {
    const rows = await o.store.allRecordsAfter(cursor, batchSize);
    if (rows.length === 0) return result;
    // A request carries the records of one device: the longest run from the start.
    const device = rows[0]!.device_id;
    let n = 1;
    while (n < rows.length && rows[n]!.device_id === device) n += 1;
    const run = rows.slice(0, n);
    const sendAs = device === o.localDevice ? o.deviceId : device;
    const url = `${target}/api/usage/${encodeURIComponent(sendAs)}`;
    let res: Response;
    try {
      res = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
        body: JSON.stringify({ records: run.map(wire) }),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (err) {
      throw new PushError(`cannot reach ${target}: ${(err as Error).message}; ${result.sent} record(s) sent before this, the next push resumes from there`);
    }
    const text = await res.text();
    if (res.status === 413 && batchSize > 1) {
      batchSize = Math.max(1, Math.floor(batchSize / 2));
      continue;
    }
    let body: { inserted?: unknown; duplicates?: unknown; message?: unknown } = {};
    try {
      body = text ? (JSON.parse(text) as typeof body) : {};
    } catch {
      body = {};
    }
    if (!res.ok) {
      const why = typeof body.message === 'string' ? body.message : text.slice(0, 200);
      const hint = res.status === 401 || res.status === 403 ? ' (pass the hub\'s API token with --token or TOKEN_API_TOKEN)' : '';
      throw new PushError(`${target} answered ${res.status}: ${why}${hint}`);
    }
    const inserted = typeof body.inserted === 'number' ? body.inserted : 0;
    cursor = run[run.length - 1]!.seq;
    await o.store.setPushCursor(target, cursorName, cursor);
    result.sent += run.length;
    result.inserted += inserted;
    result.duplicates += run.length - inserted;
    result.batches += 1;
    o.onBatch?.(result.sent, result.inserted);
  }
}
