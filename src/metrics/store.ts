// The metrics store: small values automations keep under a key (a phone's battery, a build's
// status), each JSON, with an optional time to live. Held in memory, written through the hub's
// group-commit writer before a change is answered, so a value acknowledged survives a crash; an
// expired value is gone from every read at once and deleted (and announced) when its timer
// fires on the injected clock. The number of keys and each value's size are bounded by the
// `metrics` settings, read at each write so that a change applies at once.
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { MAX_TIMER_MS } from '../lib/clock.js';
import type { Hub } from '../actors/runtime/root-machines.js';
import type { MetricsSettings } from '../config/metrics.js';
import type { Database } from '../db/database.js';
import { allMetrics, metricDeleteOp, metricsExpireOp, metricUpsertOp, type MetricRow } from '../db/queries/metrics.js';
import { DomainError } from '../lib/domain-error.js';

export interface MetricView {
  key: string;
  value: unknown;
  updated_at: string;
  /** When the value disappears (null: kept until deleted). */
  expires_at: string | null;
}

/** What changed, after it was committed: the feed's `metric` message. */
export interface MetricChange {
  change: 'set' | 'deleted' | 'expired';
  key: string;
  /** The value now (null when deleted or expired). */
  metric: MetricView | null;
}

export type MetricListener = (c: MetricChange) => void;

export interface MetricsStoreDeps {
  db: Database;
  hub: Pick<Hub, 'record'>;
  clock: Clock;
  logger: Logger;
  settings: () => MetricsSettings;
}

interface Held {
  row: MetricRow;
  /** Epoch ms, or null. */
  expiresAt: number | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

function viewOf(h: Held): MetricView {
  return { key: h.row.key, value: JSON.parse(h.row.value) as unknown, updated_at: h.row.updated_at, expires_at: h.row.expires_at };
}

export async function createMetricsStore(deps: MetricsStoreDeps) {
  const { clock } = deps;
  const held = new Map<string, Held>();
  const listeners = new Set<MetricListener>();
  let timer: TimerHandle | undefined;
  let timerAt: number | null = null;
  let closed = false;
  let expiring: Promise<void> = Promise.resolve();

  const live = (h: Held, now = clock.now()): boolean => h.expiresAt === null || h.expiresAt > now;

  function tell(c: MetricChange): void {
    for (const l of listeners) {
      try {
        l(c);
      } catch (err) {
        deps.logger.error({ err }, 'metrics listener failed');
      }
    }
  }

  /** Arms the one timer for the earliest expiry. */
  function arm(): void {
    let next: number | null = null;
    for (const h of held.values()) if (h.expiresAt !== null && (next === null || h.expiresAt < next)) next = h.expiresAt;
    if (next === timerAt) return;
    clock.clearTimeout(timer);
    timer = undefined;
    timerAt = next;
    if (next === null || closed) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      timerAt = null;
      expiring = expiring.then(expire);
    }, Math.min(Math.max(0, next - clock.now()), MAX_TIMER_MS));
  }

  async function expire(): Promise<void> {
    if (closed) return;
    const now = clock.now();
    const gone = [...held.values()].filter((h) => !live(h, now));
    if (gone.length > 0) {
      for (const h of gone) held.delete(h.row.key);
      try {
        await deps.hub.record({ ops: [metricsExpireOp(gone.map((h) => h.row.key), iso(now))] });
        for (const h of gone) tell({ change: 'expired', key: h.row.key, metric: null });
      } catch (err) {
        // Still expired for every read; the rows go with the next expiry or at the next start.
        deps.logger.warn({ err, keys: gone.map((h) => h.row.key) }, 'could not delete expired metrics');
      }
    }
    arm();
  }

  // At start: what survived, minus what expired meanwhile (deleted now, quietly).
  const now = clock.now();
  const stale: string[] = [];
  for (const row of await allMetrics(deps.db)) {
    const h: Held = { row, expiresAt: row.expires_at === null ? null : Date.parse(row.expires_at) };
    if (live(h, now)) held.set(row.key, h);
    else stale.push(row.key);
  }
  if (stale.length > 0) await deps.hub.record({ ops: [metricsExpireOp(stale, iso(now))] });
  arm();

  return {
    /** Every value not expired, by key. */
    list(): MetricView[] {
      const now = clock.now();
      return [...held.values()].filter((h) => live(h, now)).sort((a, b) => (a.row.key < b.row.key ? -1 : 1)).map(viewOf);
    },

    get(key: string): MetricView {
      const h = held.get(key);
      if (!h || !live(h)) throw new DomainError('not_found', `no metric ${key}${h ? ' (it expired)' : ''}`, 'key');
      return viewOf(h);
    },

    /** Sets a value (answered after commit); `ttlSeconds`: it disappears after that long. */
    async set(key: string, value: unknown, ttlSeconds?: number): Promise<{ metric: MetricView; created: boolean }> {
      const limits = deps.settings();
      const json = JSON.stringify(value);
      const bytes = Buffer.byteLength(json);
      if (bytes > limits.maxValueBytes) {
        throw new DomainError('invalid', `the value is ${bytes} bytes as JSON; expected at most ${limits.maxValueBytes} bytes (metrics.max_value_bytes in the config file raises it)`, 'value');
      }
      const at = clock.now();
      const before = held.get(key);
      const created = !before || !live(before, at);
      if (created) {
        const count = [...held.values()].filter((h) => live(h, at)).length;
        if (count >= limits.maxKeys) {
          throw new DomainError('conflict', `the metrics store holds its maximum of ${limits.maxKeys} keys; delete one, or raise metrics.max_keys in the config file`, 'key');
        }
      }
      const expiresAt = ttlSeconds === undefined ? null : at + Math.round(ttlSeconds * 1000);
      const h: Held = { row: { key, value: json, updated_at: iso(at), expires_at: expiresAt === null ? null : iso(expiresAt) }, expiresAt };
      // Memory first (a concurrent set counts this key), restored if the commit fails.
      held.set(key, h);
      try {
        await deps.hub.record({ ops: [metricUpsertOp(h.row)] });
      } catch (err) {
        if (held.get(key) === h) {
          if (before) held.set(key, before);
          else held.delete(key);
        }
        throw err;
      }
      arm();
      const metric = viewOf(h);
      tell({ change: 'set', key, metric });
      return { metric, created };
    },

    /** Deletes a value (answered after commit). */
    async delete(key: string): Promise<MetricView> {
      const h = held.get(key);
      if (!h || !live(h)) throw new DomainError('not_found', `no metric ${key}${h ? ' (it expired)' : ''}`, 'key');
      held.delete(key);
      try {
        await deps.hub.record({ ops: [metricDeleteOp(key)] });
      } catch (err) {
        if (!held.has(key)) held.set(key, h);
        throw err;
      }
      arm();
      tell({ change: 'deleted', key, metric: null });
      return viewOf(h);
    },

    onChange(listener: MetricListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** Resolves once the expiries due so far are written. */
    settled(): Promise<void> {
      return expiring;
    },

    count(): number {
      const now = clock.now();
      return [...held.values()].filter((h) => live(h, now)).length;
    },

    /** Stops the expiry timer; waits for an expiry being written. */
    async close(): Promise<void> {
      closed = true;
      clock.clearTimeout(timer);
      timer = undefined;
      await expiring;
    },
  };
}

export type MetricsStore = Awaited<ReturnType<typeof createMetricsStore>>;
