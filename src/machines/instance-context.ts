// The instance machine's context, events and emitted intents, as types and as zod schemas.
// The schema validates snapshots read back from SQLite before an actor is restored from them.
import { z } from 'zod';

export const profileSchema = z.object({
  slot: z.number().int().min(0),
  name: z.string(),
  voice: z.string(),
  sound: z.string(),
  color: z.string(),
});
export type Profile = z.infer<typeof profileSchema>;

export const originSchema = z.object({
  type: z.enum(['local', 'ssh']),
  sourceIp: z.string().nullable(),
  deviceId: z.string(),
});
export type Origin = z.infer<typeof originSchema>;

export const awaitingSchema = z.object({
  kind: z.enum(['permission', 'input']),
  tool: z.string().nullable(),
  /** What the tool call is about (Bash's command, Edit's file); absent in older snapshots. */
  input: z.string().nullable().optional(),
  message: z.string().nullable(),
  /** The subagent that waits (Claude Code's agent_id), null for the main agent. */
  agentId: z.string().nullable(),
});
export type Awaiting = z.infer<typeof awaitingSchema>;

/** A subagent running inside the instance (Claude Code's SubagentStart .. SubagentStop). */
export const subagentSchema = z.object({
  /** Claude Code's agent_id; null for one announced without it (older Claude Code), counted only. */
  id: z.string().nullable(),
  /** Its agent_type (general-purpose, or a custom agent's name). */
  type: z.string().nullable(),
  startedAt: z.number(),
  currentTool: z.string().nullable(),
  toolCount: z.number().int().min(0),
});
export type Subagent = z.infer<typeof subagentSchema>;

/** A managed session as an instance carries it: its id and kind. */
export const managedSchema = z.object({ session: z.string().min(1), kind: z.enum(['headless', 'terminal']) });
export type ManagedLink = z.infer<typeof managedSchema>;

export const instanceContextSchema = z.object({
  instanceId: z.string().min(1),
  agentType: z.enum(['claude', 'codex']),
  sessionId: z.string().min(1),
  transcriptPath: z.string().nullable(),
  tabName: z.string().nullable(),
  number: z.number().int().positive(),
  origin: originSchema,
  profile: profileSchema,
  pid: z.number().int().positive().nullable(),
  pidLocal: z.boolean(),
  tty: z.string().nullable(),
  workingDir: z.string().nullable(),
  /** The project people know it by (its repository's or directory's name), set by the actors layer. Absent in snapshots of older versions. */
  project: z.string().nullable().optional(),
  /** The managed session (src/sessions) whose child this agent is, with its kind; null or absent (older snapshots): not started by token-api. */
  managed: managedSchema.nullable().optional(),
  registeredAt: z.number(),
  lastActivityAt: z.number(),
  stateSince: z.number(),
  stoppedAt: z.number().nullable(),
  stopReason: z.string().nullable(),
  currentTool: z.string().nullable(),
  currentToolSince: z.number().nullable(),
  /** What the current tool call is about (see src/actors/instances/tool-input.ts); absent in older snapshots. */
  currentToolInput: z.string().nullable().optional(),
  toolCount: z.number().int().min(0),
  /** Running subagents; subagentCount is their number. */
  subagentCount: z.number().int().min(0),
  subagents: z.array(subagentSchema),
  /** The main turn has stopped while subagents run in the background: idle once the last one stops. */
  stopPending: z.boolean(),
  /** The custom agent the session runs as (`claude --agent NAME`: Claude Code's agent_type on the main agent's events). */
  agentName: z.string().nullable(),
  awaiting: awaitingSchema.nullable(),
  expiresAfterMs: z.number().positive(),
});
export type InstanceContext = z.infer<typeof instanceContextSchema>;

/** What the actors layer decides at registration and hands to the machine as input. */
export type InstanceInput = Omit<
  InstanceContext,
  | 'stateSince'
  | 'lastActivityAt'
  | 'stoppedAt'
  | 'stopReason'
  | 'currentTool'
  | 'currentToolSince'
  | 'currentToolInput'
  | 'toolCount'
  | 'subagentCount'
  | 'subagents'
  | 'stopPending'
  | 'agentName'
  | 'awaiting'
> &
  Partial<Pick<InstanceContext, 'toolCount' | 'lastActivityAt' | 'agentName'>>;

/** Facts a hook may carry on any event; absent fields leave the context as it is. */
export interface HookMeta {
  sessionId?: string;
  transcriptPath?: string;
  cwd?: string;
  /** The project of `cwd`, looked up by the actors layer. */
  project?: string;
  /** The managed session the agent is a child of, looked up by the actors layer. */
  managed?: ManagedLink;
  pid?: number;
  tabName?: string;
  tty?: string;
  /** Claude Code's agent_id: the event comes from that subagent. */
  agentId?: string;
  /** Claude Code's agent_type: the subagent's type with agentId, else the session's custom agent. */
  agentType?: string;
}

interface At {
  /** Epoch milliseconds when the event happened; machines never read the clock. */
  at: number;
}

export type InstanceEvent =
  | ({ type: 'hook.session_start'; source: string | null } & At & HookMeta)
  | ({ type: 'hook.user_prompt_submit' } & At & HookMeta)
  | ({ type: 'hook.pre_tool_use'; tool: string; input?: string | null } & At & HookMeta)
  | ({ type: 'hook.post_tool_use'; tool: string } & At & HookMeta)
  | ({ type: 'hook.post_tool_use_failure'; tool: string } & At & HookMeta)
  | ({ type: 'hook.permission_request'; tool: string | null; input?: string | null } & At & HookMeta)
  | ({ type: 'hook.notification'; notificationType: string | null; message: string | null } & At & HookMeta)
  | ({ type: 'hook.stop'; lastMessage: string | null } & At & HookMeta)
  | ({ type: 'hook.stop_failure'; error: string | null } & At & HookMeta)
  | ({ type: 'hook.subagent_start' } & At & HookMeta)
  | ({ type: 'hook.subagent_stop' } & At & HookMeta)
  | ({ type: 'hook.session_end'; reason: string | null } & At & HookMeta)
  | ({ type: 'instance.heartbeat' } & At)
  | ({ type: 'instance.deregister'; reason: string | null } & At)
  | ({ type: 'instance.process_gone' } & At)
  /** The agent went quiet without saying its turn ended (a Codex rollout untouched for a while, an aborted turn). */
  | ({ type: 'instance.idle'; reason: string | null } & At)
  /** The expiry timer fired; `alive`: the instance's local process still runs (its pid answers). */
  | ({ type: 'expiry.check'; alive?: boolean } & At);

/** The intents an instance emits (the mode actor adds mode_timer_ended). */
export const INSTANCE_INTENTS = ['finished', 'failed', 'needs_permission', 'needs_input', 'expired'] as const;
export type IntentName = (typeof INSTANCE_INTENTS)[number];

/** Emitted when something happened that a person may want to hear about. */
export interface NotifyIntent {
  type: 'notify';
  intent: IntentName;
  instanceId: string;
  at: number;
  tool: string | null;
  /** What the tool call is about (needs_permission). */
  input?: string | null;
  message: string | null;
}

export type InstanceStateValue = 'idle' | 'working' | 'awaiting' | 'stopped';

/**
 * Terminal titles that name the program or the place, not the work: a shell, a multiplexer,
 * the agent itself, a bare path, "user@host: dir", a Windows Terminal session id.
 */
const DEFAULT_TITLES = new Set(['claude', 'claude code', 'codex', 'node', 'bash', 'zsh', '-zsh', '-bash', 'sh', 'dash', 'fish', 'tmux', 'screen', 'ssh', 'mosh', 'login', 'pwsh', 'powershell', 'windows powershell', 'cmd', 'cmd.exe', 'command prompt', 'python', 'python3', 'npm', 'npx', 'vim', 'nvim', 'less', 'man', 'top', 'htop']);

/** Whether a terminal's title can name an instance (default titles never do). */
export function isNameworthyTitle(title: string | null | undefined): title is string {
  if (!title) return false;
  const t = title.trim();
  if (t === '' || DEFAULT_TITLES.has(t.toLowerCase()) || DEFAULT_TITLES.has(t.toLowerCase().replace(/\.exe$/, ''))) return false;
  if (/^(~|\.{0,2}\/|[A-Za-z]:[\\/]|\\\\)/.test(t)) return false; // a path
  if (/^[\w.-]+@[\w.-]+(:|\s|$)/.test(t)) return false; // user@host: dir
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(t)) return false; // WT_SESSION
  return true;
}

/** The name people see: the terminal tab's name where it says something, else "Claude #N". */
export function displayName(ctx: Pick<InstanceContext, 'tabName' | 'number' | 'agentType'>): string {
  if (isNameworthyTitle(ctx.tabName)) return ctx.tabName.trim();
  return `${ctx.agentType === 'codex' ? 'Codex' : 'Claude'} #${ctx.number}`;
}
