// Codex rollout lines -> instance events. A rollout (`sessions/YYYY/MM/DD/rollout-*.jsonl`)
// holds `{ timestamp, type, payload }` lines; the few that say what the session is doing map
// onto the same instance machine as Claude Code's hooks. Pure: no I/O, no clock.
import type { HookMeta, InstanceEvent } from '../machines/instance-context.js';

export interface RolloutLine {
  timestamp?: unknown;
  type?: unknown;
  payload?: unknown;
}

export interface CodexStep {
  /** The event row's type, e.g. `codex.task_started`. */
  eventType: string;
  /** The closest Claude Code hook name, for the instance's hook input. */
  hookEventName: string;
  /** Set by `session_meta`: the session's id and working directory. */
  session?: { id: string; cwd: string | null };
  /** True when the step starts a turn (a stopped instance is revived by it). */
  startsTurn: boolean;
  /** Working directory the line names, if any. */
  cwd: string | null;
  /** The machine event, or null when the line is only recorded. */
  event(at: number, meta: HookMeta): InstanceEvent | null;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** "rollout-2025-01-18T10-20-30-<uuid>.jsonl" -> the uuid, which is the session's id. */
export function sessionIdFromFileName(name: string): string | null {
  const m = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/i.exec(name);
  return m ? m[1]!.toLowerCase() : null;
}

/** The line's own time (epoch ms), if it has a usable one. */
export function lineTime(line: RolloutLine): number | null {
  if (typeof line.timestamp !== 'string') return null;
  const ms = Date.parse(line.timestamp);
  return Number.isFinite(ms) ? ms : null;
}

/**
 * Maps one parsed rollout line. `calls` remembers tool names by call id (outputs name only
 * the call), and is updated here. Lines that matter to no state return null.
 */
export function mapRolloutLine(line: RolloutLine, calls: Map<string, string>): CodexStep | null {
  const payload = obj(line.payload);
  const kind = str(payload.type);
  switch (line.type) {
    case 'session_meta': {
      const id = str(payload.id);
      if (!id) return null;
      const cwd = str(payload.cwd);
      return {
        eventType: 'codex.session_meta',
        hookEventName: 'SessionStart',
        session: { id, cwd },
        startsTurn: false,
        cwd,
        event: (at, meta) => ({ type: 'hook.session_start', source: 'startup', at, ...meta }),
      };
    }
    case 'event_msg':
      switch (kind) {
        case 'task_started':
        case 'user_message':
          return {
            eventType: `codex.${kind}`,
            hookEventName: 'UserPromptSubmit',
            startsTurn: true,
            cwd: null,
            event: (at, meta) => ({ type: 'hook.user_prompt_submit', at, ...meta }),
          };
        case 'task_complete':
          return {
            eventType: 'codex.task_complete',
            hookEventName: 'Stop',
            startsTurn: false,
            cwd: null,
            event: (at, meta) => ({ type: 'hook.stop', lastMessage: str(payload.last_agent_message), at, ...meta }),
          };
        case 'turn_aborted':
          return {
            eventType: 'codex.turn_aborted',
            hookEventName: 'CodexTurnAborted',
            startsTurn: false,
            cwd: null,
            event: (at) => ({ type: 'instance.idle', reason: `turn aborted${str(payload.reason) ? `: ${str(payload.reason)}` : ''}`, at }),
          };
        case 'error':
          return {
            eventType: 'codex.error',
            hookEventName: 'StopFailure',
            startsTurn: false,
            cwd: null,
            event: (at, meta) => ({ type: 'hook.stop_failure', error: str(payload.message), at, ...meta }),
          };
        case 'exec_approval_request':
        case 'apply_patch_approval_request': {
          const tool = kind === 'exec_approval_request' ? 'shell' : 'apply_patch';
          return {
            eventType: `codex.${kind}`,
            hookEventName: 'PermissionRequest',
            startsTurn: false,
            cwd: null,
            event: (at, meta) => ({ type: 'hook.permission_request', tool, at, ...meta }),
          };
        }
        default:
          return null;
      }
    case 'response_item':
      switch (kind) {
        case 'function_call':
        case 'custom_tool_call':
        case 'local_shell_call': {
          const tool = str(payload.name) ?? (kind === 'local_shell_call' ? 'local_shell' : 'unknown');
          const callId = str(payload.call_id) ?? str(payload.id);
          if (callId) {
            calls.set(callId, tool);
            // Bounded: a long session makes thousands of calls.
            if (calls.size > 1000) calls.delete(calls.keys().next().value!);
          }
          return {
            eventType: 'codex.tool_call',
            hookEventName: 'PreToolUse',
            startsTurn: false,
            cwd: null,
            event: (at, meta) => ({ type: 'hook.pre_tool_use', tool, at, ...meta }),
          };
        }
        case 'function_call_output':
        case 'custom_tool_call_output': {
          const callId = str(payload.call_id);
          const tool = (callId && calls.get(callId)) || 'unknown';
          if (callId) calls.delete(callId);
          return {
            eventType: 'codex.tool_output',
            hookEventName: 'PostToolUse',
            startsTurn: false,
            cwd: null,
            event: (at, meta) => ({ type: 'hook.post_tool_use', tool, at, ...meta }),
          };
        }
        default:
          return null;
      }
    default:
      return null;
  }
}
