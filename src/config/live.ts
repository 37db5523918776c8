// The configuration as it runs: the Config loaded at start, whose live sections (`cron`,
// `obsidian`, `metrics`) PUT /api/config may replace while the server runs. Their users read
// them through these getters at each use, and may listen for a change; every other setting is
// read once at start, so changing it in the file takes a restart.
import type { Config } from './config.js';

/** The config file's top-level keys whose change applies without a restart. */
export const LIVE_KEYS = ['cron', 'obsidian', 'metrics'] as const;
export type LiveKey = (typeof LIVE_KEYS)[number];
export type LiveSections = Pick<Config, LiveKey>;

export function createLiveConfig(initial: Config) {
  let current = initial;
  const listeners = new Set<(changed: LiveKey[]) => void>();
  return {
    current: (): Config => current,
    cron: () => current.cron,
    obsidian: () => current.obsidian,
    metrics: () => current.metrics,

    /** Replaces the live sections given; listeners hear which. */
    apply(next: Partial<LiveSections>): void {
      const changed = LIVE_KEYS.filter((k) => next[k] !== undefined && JSON.stringify(next[k]) !== JSON.stringify(current[k]));
      if (changed.length === 0) return;
      current = { ...current, ...next };
      for (const l of listeners) l(changed);
    },

    onChange(listener: (changed: LiveKey[]) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export type LiveConfig = ReturnType<typeof createLiveConfig>;
