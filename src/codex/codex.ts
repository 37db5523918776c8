// Codex CLI integration: the rollout watcher (when enabled) and Codex's `notify` program.
// A notify for a session whose rollout the watcher reads only makes it read that file now:
// the file stays the one source of truth for that session, so a turn is never counted twice.
// A notify for a session the watcher does not know (watcher off, another CODEX_HOME) ends
// the turn itself, once per turn id.
import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import { createCodexWatcher, type CodexWatcher, type ScanReport } from './watcher.js';
import type { Hub } from '../actors/runtime/root-machines.js';
import type { HookOutcome, Instances } from '../actors/instances/instances.js';

/** The JSON Codex passes to its `notify` program (keys as Codex spells them). */
export interface CodexNotifyPayload {
  type: string;
  'thread-id'?: string;
  'turn-id'?: string;
  cwd?: string;
  'last-assistant-message'?: string;
  [key: string]: unknown;
}

export type CodexNotifyOutcome =
  | { outcome: 'scanned'; session_id: string; file: string; instance: HookOutcome['instance'] }
  | ({ session_id: string | null } & HookOutcome);

export interface CodexDeps {
  config: { enabled: boolean; home: string; idleMs: number; stopAfterMs: number; pollMs: number };
  instanceExpiryMs: number;
  instances: Instances;
  hub: Hub;
  db: Database;
  clock: Clock;
  logger: Logger;
  wallNow?: () => number;
}

export function createCodex(deps: CodexDeps) {
  const watcher: CodexWatcher | null = deps.config.enabled
    ? createCodexWatcher({
        home: deps.config.home,
        instances: deps.instances,
        hub: deps.hub,
        db: deps.db,
        clock: deps.clock,
        logger: deps.logger,
        idleMs: deps.config.idleMs,
        stopAfterMs: deps.config.stopAfterMs,
        pollMs: deps.config.pollMs,
        historyMs: deps.instanceExpiryMs,
        wallNow: deps.wallNow,
      })
    : null;

  /** The session a notify belongs to: its thread id, or the one live Codex instance in its cwd. */
  function sessionOf(p: CodexNotifyPayload): string | null {
    if (p['thread-id']) return p['thread-id'];
    if (!p.cwd) return null;
    const inCwd = deps.instances.live().filter((i) => i.ctx.agentType === 'codex' && i.ctx.workingDir === p.cwd);
    return inCwd.length === 1 ? inCwd[0]!.ctx.sessionId : null;
  }

  return {
    watcher,

    async start(): Promise<ScanReport | null> {
      if (!watcher) return null;
      const report = await watcher.start();
      deps.logger.info({ home: deps.config.home, ...report }, 'Codex rollout watcher started');
      return report;
    },

    stop(): void {
      watcher?.stop();
    },

    async notify(p: CodexNotifyPayload, pidLocal: boolean): Promise<CodexNotifyOutcome> {
      const sessionId = sessionOf(p);
      let file = sessionId && watcher ? watcher.fileOfSession(sessionId) : null;
      if (sessionId && watcher && !file) {
        // A short first turn ends before the next poll has seen its new rollout: look now, so
        // the file stays the one source of truth rather than this notify ending the turn too.
        await watcher.scan('recent');
        file = watcher.fileOfSession(sessionId);
      }
      const at = deps.clock.now();
      if (sessionId && file && watcher) {
        await watcher.scan([file]);
        const id = deps.instances.instanceOfSession(sessionId);
        // Recorded all the same (it changes no state), so the log shows that notify reaches token-api.
        const ctx = deps.instances.contextOfSession(sessionId);
        await deps.hub.record({ events: [{ type: 'codex.notify', at, instanceId: id, deviceId: ctx?.origin.deviceId ?? null, details: { payload: p, outcome: 'scanned', file } }] });
        return { outcome: 'scanned', session_id: sessionId, file, instance: deps.instances.view(id ?? '') };
      }
      if (!sessionId) {
        // Nothing to attach it to: kept in the event log only.
        await deps.hub.record({ events: [{ type: 'codex.notify', at, details: { payload: p, note: 'no thread-id, and no single live Codex session in its cwd' } }] });
        return { session_id: null, outcome: 'recorded', registered: false, instance: null, event_type: 'codex.notify', from: null, to: null };
      }
      const turnEnds = p.type === 'agent-turn-complete';
      const lastMessage = typeof p['last-assistant-message'] === 'string' ? p['last-assistant-message'] : null;
      const r = await deps.instances.handleHook(
        { hookEventName: 'Stop', sessionId, agentType: 'codex', cwd: p.cwd, lastAssistantMessage: lastMessage ?? undefined, raw: p },
        pidLocal,
        {
          at,
          eventType: 'codex.notify',
          event: turnEnds ? { type: 'hook.stop', lastMessage, at, sessionId, ...(p.cwd ? { cwd: p.cwd } : {}) } : null,
          ...(turnEnds && p['turn-id'] ? { eventId: `codex-turn:${sessionId}:${p['turn-id']}`.slice(0, 128) } : {}),
        },
      );
      return { session_id: sessionId, ...r };
    },
  };
}

export type CodexIntegration = ReturnType<typeof createCodex>;
