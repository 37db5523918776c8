// Claude Code hook payloads -> typed instance events. Hook names Claude Code may add later
// map to no event: they are recorded, never dropped, and change no state.
import type { HookBody } from '../../protocol/api.js';
import type { HookMeta, InstanceEvent } from '../../machines/instance-context.js';
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
  /** The managed session (TOKEN_API_SESSION) whose child sent it. */
  managedSession?: string;
  /** Claude Code's agent_id: the event comes from this subagent. */
  agentId?: string;
  /** Claude Code's agent_type: the subagent's type (with agentId) or the session's custom agent. */
  claudeAgentType?: string;
  /** The whole payload as received (unknown fields included), for the event log. */
  raw: Record<string, unknown>;
  /** The same payload as the JSON text that arrived, when there is one (saves re-serialising it). */
  rawJson?: string;
}

function errorText(error: unknown): string | undefined {
  if (error === undefined || error === null) return undefined;
  return typeof error === 'string' ? error : JSON.stringify(error);
}

/** One of Claude Code's fields, when it is text (cut to `max` characters); otherwise it is only kept in the payload. */
function str(v: unknown, max: number): string | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  return v.length > max ? v.slice(0, max) : v;
}

/** What the hook script adds, as query parameters (the same names as the body's `x_token_api_*`). */
export type HookQueryExtras = { ssh_client?: string; pid?: number; tab_name?: string; tty?: string; agent?: 'claude' | 'codex'; managed_session?: string };

/** A validated hook body (and the script's query parameters) as the instances service takes it. */
export function toHookInput(body: HookBody, query: HookQueryExtras, rawJson?: string): HookInput {
  const b = body as Record<string, unknown>;
  return {
    hookEventName: body.hook_event_name,
    sessionId: body.session_id,
    agentType: body.x_token_api_agent ?? query.agent ?? 'claude',
    transcriptPath: str(b.transcript_path, 4096),
    cwd: str(b.cwd, 4096),
    source: str(b.source, 64),
    toolName: str(b.tool_name, 256),
    toolInput: toolInputSummary(str(b.tool_name, 256), b.tool_input) ?? undefined,
    notificationType: str(b.notification_type, 64),
    message: str(b.message, 4096),
    reason: str(b.reason, 1024),
    lastAssistantMessage: typeof b.last_assistant_message === 'string' ? b.last_assistant_message : undefined,
    error: errorText(b.error),
    agentId: str(b.agent_id, 256),
    claudeAgentType: str(b.agent_type, 256),
    sshClient: body.x_token_api_ssh_client ?? query.ssh_client,
    pid: body.x_token_api_pid ?? query.pid,
    tabName: body.x_token_api_tab_name ?? query.tab_name,
    tty: body.x_token_api_tty ?? query.tty,
    managedSession: body.x_token_api_managed_session ?? query.managed_session,
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
  if (input.agentId) meta.agentId = input.agentId;
  if (input.claudeAgentType) meta.agentType = input.claudeAgentType;
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
