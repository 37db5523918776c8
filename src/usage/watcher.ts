// The live path of token usage: after a Stop (and a few other hooks that end a turn) is
// committed, the instance's transcript is read from its cursor, off the hook's path (the
// route has already answered); transcripts of working instances are read every
// `usage_live_interval_seconds`; every transcript is rescanned at start and every
// `usage_scan_interval_minutes`. Timers run on the injected clock. `afterCommit` is subscribed
// by src/system/wiring.ts.
import type { Logger } from 'pino';
import type { InstanceContext } from '../machines/instance-context.js';
import type { UsageService } from './service.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Committed } from '../actors/runtime/root-machines.js';
import type { Instances } from '../actors/instances/instances.js';

/** Events after which the transcript has a finished response to read: Claude Code hooks, and the Codex rollout events that end a turn. */
const READ_AFTER = new Set(['hook.stop', 'hook.stop_failure', 'hook.subagent_stop', 'hook.pre_compact', 'hook.session_end', 'codex.task_complete', 'codex.turn_aborted', 'codex.error']);

export interface UsageWatcherDeps {
  instances: Pick<Instances, 'live'>;
  usage: Pick<UsageService, 'readTranscript' | 'sync' | 'isTranscript' | 'claimSession'>;
  clock: Clock;
  logger: Logger;
  scanIntervalMs: number;
  liveIntervalMs: number;
}

export function startUsageWatcher(deps: UsageWatcherDeps) {
  const inFlight = new Set<Promise<unknown>>();
  const abort = new AbortController();
  let scanTimer: TimerHandle | undefined;
  let liveTimer: TimerHandle | undefined;
  let stopped = false;

  function track<T>(p: Promise<T>): Promise<T | undefined> {
    const guarded = p.catch((err: unknown) => {
      if (!stopped) deps.logger.warn({ err }, 'reading token usage failed');
      return undefined;
    });
    inFlight.add(guarded);
    void guarded.finally(() => inFlight.delete(guarded));
    return guarded;
  }

  function readFor(instanceId: string, path: string | null, deviceId: string): void {
    if (stopped || !path || !deps.usage.isTranscript(path)) return;
    void track(deps.usage.readTranscript(path, { instanceId, deviceId }));
  }

  function contextIn(notice: Committed, id: string): InstanceContext | null {
    for (const c of notice.changes) if (c.kind === 'instance' && c.id === id) return c.snapshot.context;
    return null;
  }

  /** After a commit: claims a new instance's earlier records, reads a transcript after a turn ends. */
  function afterCommit(notice: Committed): void {
    for (const e of notice.events) {
      if ((e.type === 'instance.registered' || e.type === 'instance.revived') && e.instanceId && !stopped) {
        // Records of this session read before the instance existed are its own.
        const sessionId = (e.details as { session_id?: unknown } | undefined)?.session_id;
        if (typeof sessionId === 'string') void track(deps.usage.claimSession(sessionId, { instanceId: e.instanceId, deviceId: e.deviceId ?? '' }));
      }
      if (!e.instanceId || !READ_AFTER.has(e.type)) continue;
      const ctx = contextIn(notice, e.instanceId) ?? deps.instances.live().find((i) => i.id === e.instanceId)?.ctx ?? null;
      if (ctx) readFor(e.instanceId, ctx.transcriptPath, ctx.origin.deviceId);
    }
  }

  function scanLoop(delay: number): void {
    if (stopped) return;
    scanTimer = deps.clock.setTimeout(() => {
      void track(deps.usage.sync({ signal: abort.signal })).finally(() => {
        if (deps.scanIntervalMs > 0) scanLoop(deps.scanIntervalMs);
      });
    }, delay);
  }

  function liveLoop(): void {
    if (stopped || deps.liveIntervalMs <= 0) return;
    liveTimer = deps.clock.setTimeout(() => {
      for (const i of deps.instances.live()) if (i.state === 'working') readFor(i.id, i.ctx.transcriptPath, i.ctx.origin.deviceId);
      liveLoop();
    }, deps.liveIntervalMs);
  }

  scanLoop(0);
  liveLoop();

  return {
    afterCommit,
    /** Stops the timers, abandons a scan in progress (what it read so far is kept) and waits for reads under way. */
    async stop(): Promise<void> {
      stopped = true;
      abort.abort();
      deps.clock.clearTimeout(scanTimer);
      deps.clock.clearTimeout(liveTimer);
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    /** Resolves when every read started so far has finished. */
    async settled(): Promise<void> {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}
