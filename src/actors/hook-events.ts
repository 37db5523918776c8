// Claude Code hook payloads -> typed instance events. Hook names Claude Code may add later
// map to no event: they are recorded, never dropped, and change no state.
import type { HookBody } from '../http/schemas.js';
import type { HookMeta, InstanceEvent } from '../machines/instance-context.js';
import { toolInputSummary } from './tool-input.js';

/** A hook call after validation: Claude Code's own fields plus what the hook script added. */
export interface HookInput {
  hookEventName: string;
  sessionId: string;
  agentType: 'claude' | 'codex';
  transcriptPath?: string;
  cwd?: string;
  source?: string;
  toolName?: string;
  /** What the tool call is about, from `tool_input` (tool-input.ts). */
  toolInput?: string;
  notificationType?: string;
  message?: string;
  reason?: string;
  lastAssistantMessage?: string;
  error?: string;
  sshClient?: string;
  pid?: number;
  tabName?: string;
  tty?: string;
  /** The whole payload as received (unknown fields included), for the event log. */
  raw: Record<string, unknown>;
  /** The same payload as the JSON text that arrived, when there is one (saves re-serialising it). */
  rawJson?: string;
}

function errorText(error: unknown): string | undefined {
  if (error === undefined || error === null) return undefined;
  return typeof error === 'string' ? error : JSON.stringify(error);
}

/** A validated hook body (and the script's query parameters) as the instances service takes it. */
export function toHookInput(
  body: HookBody,
  query: Partial<Pick<HookBody, 'ssh_client' | 'pid' | 'tab_name' | 'tty' | 'agent_type'>>,
  rawJson?: string,
): HookInput {
  return {
    hookEventName: body.hook_event_name,
    sessionId: body.session_id,
    agentType: body.agent_type ?? query.agent_type ?? 'claude',
    transcriptPath: body.transcript_path,
    cwd: body.cwd,
    source: body.source,
    toolName: body.tool_name,
    toolInput: toolInputSummary(body.tool_name, (body as Record<string, unknown>).tool_input) ?? undefined,
    notificationType: body.notification_type,
    message: body.message,
    reason: body.reason,
    lastAssistantMessage: body.last_assistant_message,
    error: errorText(body.error),
    sshClient: body.ssh_client ?? query.ssh_client,
    pid: body.pid ?? query.pid,
    tabName: body.tab_name ?? query.tab_name,
    tty: body.tty ?? query.tty,
    raw: body,
    rawJson,
  };
}

/** "PostToolUseFailure" -> "post_tool_use_failure" */
export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toLowerCase();
}

const typeCache = new Map<string, string>();

export function hookEventType(input: Pick<HookInput, 'hookEventName'>): string {
  let type = typeCache.get(input.hookEventName);
  if (type === undefined) {
    type = `hook.${snakeCase(input.hookEventName)}`;
    if (typeCache.size < 256) typeCache.set(input.hookEventName, type);
  }
  return type;
}

/** Session start sources that continue an existing instance rather than start one. */
export const CONTINUING_SOURCES = new Set(['resume', 'clear', 'compact']);

export function toInstanceEvent(input: HookInput, at: number): InstanceEvent | null {
  const meta: HookMeta & { at: number } = { at, sessionId: input.sessionId };
  if (input.transcriptPath) meta.transcriptPath = input.transcriptPath;
  if (input.cwd) meta.cwd = input.cwd;
  if (input.pid) meta.pid = input.pid;
  if (input.tabName) meta.tabName = input.tabName;
  if (input.tty) meta.tty = input.tty;
  const tool = input.toolName ?? 'unknown';
  switch (input.hookEventName) {
    case 'SessionStart':
      return { type: 'hook.session_start', source: input.source ?? null, ...meta };
    case 'UserPromptSubmit':
      return { type: 'hook.user_prompt_submit', ...meta };
    case 'PreToolUse':
      return { type: 'hook.pre_tool_use', tool, input: input.toolInput ?? null, ...meta };
    case 'PostToolUse':
      return { type: 'hook.post_tool_use', tool, ...meta };
    case 'PostToolUseFailure':
      return { type: 'hook.post_tool_use_failure', tool, ...meta };
    case 'PermissionRequest':
      return { type: 'hook.permission_request', tool: input.toolName ?? null, input: input.toolInput ?? null, ...meta };
    case 'Notification':
      return { type: 'hook.notification', notificationType: input.notificationType ?? null, message: input.message ?? null, ...meta };
    case 'Stop':
      return { type: 'hook.stop', lastMessage: input.lastAssistantMessage ?? null, ...meta };
    case 'StopFailure':
      return { type: 'hook.stop_failure', error: input.error ?? null, ...meta };
    case 'SubagentStart':
      return { type: 'hook.subagent_start', ...meta };
    case 'SubagentStop':
      return { type: 'hook.subagent_stop', ...meta };
    case 'SessionEnd':
      return { type: 'hook.session_end', reason: input.reason ?? null, ...meta };
    default:
      return null;
  }
}
