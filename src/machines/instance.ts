// The life of one agent instance (a Claude Code or Codex session), driven by hook events.
// Pure: no I/O and no clock. Every event carries its time (`at`); the expiry deadline is
// context (lastActivityAt + expiresAfterMs) watched by an invoked `expiryTimer` actor, which
// the actors layer provides: invoked actors are restarted on restore, `after` delays are not.
import { assign, emit, fromCallback, sendTo, setup } from 'xstate';
import type { InstanceContext, InstanceEvent, InstanceInput, NotifyIntent, Subagent } from './instance-context.js';

/** `pid`: the local process to look at when the deadline passes (null: none known here). */
export type ExpiryTimerEvent = { type: 'expiry.rearm'; deadline: number; pid: number | null };
export interface ExpiryTimerInput {
  deadline: number;
  pid?: number | null;
}

const PERMISSION_NOTIFICATIONS = new Set(['permission_prompt']);
const QUESTION_TOOLS = new Set(['AskUserQuestion']);

function metaOf(event: InstanceEvent): Partial<InstanceContext> {
  const patch: Partial<InstanceContext> = {};
  // agent_type without agent_id names the agent the whole session runs as (`claude --agent NAME`).
  if ('agentType' in event && event.agentType && !event.agentId) patch.agentName = event.agentType;
  if ('cwd' in event && event.cwd) patch.workingDir = event.cwd;
  if ('project' in event && event.project) patch.project = event.project;
  if ('managed' in event && event.managed) patch.managed = event.managed;
  if ('pid' in event && event.pid) patch.pid = event.pid;
  if ('tabName' in event && event.tabName) patch.tabName = event.tabName;
  if ('tty' in event && event.tty) patch.tty = event.tty;
  if ('transcriptPath' in event && event.transcriptPath) patch.transcriptPath = event.transcriptPath;
  return patch;
}

function toolOf(event: InstanceEvent): string | null {
  return 'tool' in event ? event.tool : null;
}

function inputOf(event: InstanceEvent): string | null {
  return 'input' in event ? (event.input ?? null) : null;
}

/** The subagent an event comes from (Claude Code's agent_id), or null for the main agent. */
function agentIdOf(event: InstanceEvent): string | null {
  return 'agentId' in event && event.agentId ? event.agentId : null;
}

const localPid = (ctx: InstanceContext): number | null => (ctx.pidLocal ? ctx.pid : null);

/** The subagents with `change` applied to the one `event` comes from (added when not seen starting). */
function updateSubagent(context: InstanceContext, event: InstanceEvent, change: (s: Subagent) => Subagent): Subagent[] {
  const id = agentIdOf(event);
  const found = context.subagents.some((s) => s.id === id);
  const list = found
    ? context.subagents
    : [...context.subagents, { id, type: 'agentType' in event ? (event.agentType ?? null) : null, startedAt: event.at, currentTool: null, toolCount: 0 }];
  return list.map((s) => (s.id === id ? change(s) : s));
}

const tracked = (subagents: Subagent[]) => subagents.some((s) => s.id !== null);

export const instanceMachine = setup({
  types: {
    context: {} as InstanceContext,
    events: {} as InstanceEvent,
    input: {} as InstanceInput,
    emitted: {} as NotifyIntent,
  },
  actors: {
    // Replaced by the actors layer with a real timer; the bare machine never expires on its own.
    expiryTimer: fromCallback<ExpiryTimerEvent, ExpiryTimerInput>(() => undefined),
  },
  guards: {
    isExpired: ({ context, event }) => event.at - context.lastActivityAt >= context.expiresAfterMs,
    /** Expired, and no local process of it is known to run (a live process is only idle, never expired). */
    isExpiredAndGone: ({ context, event }) =>
      event.at - context.lastActivityAt >= context.expiresAfterMs && !(event.type === 'expiry.check' && event.alive === true),
    isSubagentEvent: ({ event }) => agentIdOf(event) !== null,
    /** The event comes from another agent than the one the instance waits for: the wait goes on. */
    isOtherAgentsEvent: ({ context, event }) => agentIdOf(event) !== (context.awaiting?.agentId ?? null),
    /** Subagents (known by agent_id) still run: the instance keeps working after the main turn's Stop. */
    hasRunningSubagents: ({ context }) => tracked(context.subagents),
    /** The wait belongs to a subagent that still runs. */
    awaitsARunningSubagent: ({ context }) => context.awaiting?.agentId != null && context.subagents.some((s) => s.id === context.awaiting?.agentId),
    /** The last running subagent stops after the main turn did: the instance is idle now. */
    endsPendingStop: ({ context, event }) => {
      if (!context.stopPending) return false;
      const id = agentIdOf(event);
      return !tracked(context.subagents.filter((s) => s.id !== id));
    },
    asksAQuestion: ({ event }) => event.type === 'hook.pre_tool_use' && QUESTION_TOOLS.has(event.tool),
    isPermissionPrompt: ({ event }) =>
      event.type === 'hook.notification' && event.notificationType !== null && PERMISSION_NOTIFICATIONS.has(event.notificationType),
    isElicitation: ({ event }) =>
      event.type === 'hook.notification' && event.notificationType !== null && event.notificationType.startsWith('elicitation'),
  },
  actions: {
    touch: assign(({ context, event }) => ({
      ...metaOf(event),
      lastActivityAt: Math.max(context.lastActivityAt, event.at),
    })),
    markStateSince: assign({ stateSince: ({ context, event }) => ('at' in event ? event.at : context.stateSince) }),
    linkSession: assign({
      sessionId: ({ context, event }) => (event.type === 'hook.session_start' && event.sessionId ? event.sessionId : context.sessionId),
    }),
    resetTurn: assign({ currentTool: null, currentToolSince: null, awaiting: null, subagentCount: 0, subagents: [], stopPending: false }),
    // Tool events of a subagent (agent_id) are its own: they set its tool, not the main agent's.
    setTool: assign(({ context, event }) => {
      if (agentIdOf(event) === null) return { currentTool: toolOf(event), currentToolSince: event.at, currentToolInput: inputOf(event) };
      const subagents = updateSubagent(context, event, (s) => ({ ...s, currentTool: toolOf(event) }));
      return { subagents, subagentCount: subagents.length };
    }),
    clearTool: assign(({ context, event }) => {
      if (agentIdOf(event) === null) return { currentTool: null, currentToolSince: null, currentToolInput: null };
      const subagents = updateSubagent(context, event, (s) => ({ ...s, currentTool: null }));
      return { subagents, subagentCount: subagents.length };
    }),
    clearMainTool: assign({ currentTool: null, currentToolSince: null, currentToolInput: null }),
    // Every tool counts on the instance; a subagent's also on the subagent.
    countTool: assign(({ context, event }) => {
      if (agentIdOf(event) === null) return { toolCount: context.toolCount + 1 };
      const subagents = updateSubagent(context, event, (s) => ({ ...s, toolCount: s.toolCount + 1 }));
      return { toolCount: context.toolCount + 1, subagents, subagentCount: subagents.length };
    }),
    clearAwaiting: assign({ awaiting: null }),
    awaitPermission: assign({
      awaiting: ({ context, event }) => {
        const tool = toolOf(event) ?? context.awaiting?.tool ?? context.currentTool;
        const agentId = agentIdOf(event) ?? (event.type === 'hook.notification' ? (context.awaiting?.agentId ?? null) : null);
        // A permission prompt (Notification) names no tool input: the tool call it is about does
        // (the main agent's current call; a subagent's calls keep no input).
        const sameCall = agentId === null && tool === context.currentTool ? (context.currentToolInput ?? null) : null;
        return {
          kind: 'permission' as const,
          tool,
          input: inputOf(event) ?? (tool === context.awaiting?.tool ? (context.awaiting?.input ?? null) : null) ?? sameCall,
          message: event.type === 'hook.notification' ? event.message : (context.awaiting?.message ?? null),
          agentId,
        };
      },
    }),
    awaitInput: assign({
      awaiting: ({ event }) => ({
        kind: 'input' as const,
        tool: toolOf(event),
        message: event.type === 'hook.notification' ? event.message : null,
        agentId: agentIdOf(event),
      }),
    }),
    addSubagent: assign(({ context, event }) => {
      const id = agentIdOf(event);
      if (id !== null && context.subagents.some((s) => s.id === id)) return {};
      const type = 'agentType' in event ? (event.agentType ?? null) : null;
      const subagents = [...context.subagents, { id, type, startedAt: event.at, currentTool: null, toolCount: 0 }];
      return { subagents, subagentCount: subagents.length };
    }),
    // The subagent with the event's agent_id; without one, the oldest counted-only subagent.
    removeSubagent: assign(({ context, event }) => {
      const id = agentIdOf(event);
      const at = context.subagents.findIndex((s) => s.id === id);
      const subagents = at < 0 ? context.subagents : context.subagents.filter((_, i) => i !== at);
      return { subagents, subagentCount: subagents.length };
    }),
    clearSubagents: assign({ subagents: [], subagentCount: 0, stopPending: false }),
    markStopPending: assign({ stopPending: true }),
    clearStopPending: assign({ stopPending: false }),
    markStopped: assign(({ event }) => ({
      stoppedAt: event.at,
      stopReason:
        event.type === 'hook.session_end'
          ? `session_end${event.reason ? `: ${event.reason}` : ''}`
          : event.type === 'instance.deregister'
            ? (event.reason ?? 'deregistered')
            : event.type === 'instance.process_gone'
              ? 'process_gone'
              : event.type === 'expiry.check'
                ? 'expired'
                : event.type,
      currentTool: null,
      currentToolSince: null,
      currentToolInput: null,
      awaiting: null,
      subagents: [],
      subagentCount: 0,
      stopPending: false,
    })),
    rearmExpiry: sendTo('expiry', ({ context }) => ({
      type: 'expiry.rearm' as const,
      deadline: context.lastActivityAt + context.expiresAfterMs,
      pid: localPid(context),
    })),
    // The process is alive although nothing happened for the whole expiry time: look again one expiry time later.
    rearmLater: sendTo('expiry', ({ context, event }) => ({
      type: 'expiry.rearm' as const,
      deadline: event.at + context.expiresAfterMs,
      pid: localPid(context),
    })),
    emitAwaiting: emit(({ context, event }) => ({
      type: 'notify' as const,
      intent: context.awaiting?.kind === 'input' ? ('needs_input' as const) : ('needs_permission' as const),
      instanceId: context.instanceId,
      at: 'at' in event ? event.at : context.lastActivityAt,
      tool: context.awaiting?.tool ?? null,
      input: context.awaiting?.input ?? null,
      message: context.awaiting?.message ?? null,
    })),
    emitFinished: emit(({ context, event }) => ({
      type: 'notify' as const,
      intent: 'finished' as const,
      instanceId: context.instanceId,
      at: event.at,
      tool: null,
      message: event.type === 'hook.stop' ? event.lastMessage : null,
    })),
    emitFailed: emit(({ context, event }) => ({
      type: 'notify' as const,
      intent: 'failed' as const,
      instanceId: context.instanceId,
      at: event.at,
      tool: null,
      message: event.type === 'hook.stop_failure' ? event.error : null,
    })),
    emitExpired: emit(({ context, event }) => ({
      type: 'notify' as const,
      intent: 'expired' as const,
      instanceId: context.instanceId,
      at: event.at,
      tool: null,
      message: null,
    })),
  },
}).createMachine({
  id: 'instance',
  version: '2',
  description: 'One Claude Code or Codex session, from registration to its end.',
  context: ({ input }) => ({
    ...input,
    lastActivityAt: input.lastActivityAt ?? input.registeredAt,
    stateSince: input.registeredAt,
    stoppedAt: null,
    stopReason: null,
    currentTool: null,
    currentToolSince: null,
    currentToolInput: null,
    toolCount: input.toolCount ?? 0,
    subagentCount: 0,
    subagents: [],
    stopPending: false,
    agentName: input.agentName ?? null,
    awaiting: null,
  }),
  invoke: {
    id: 'expiry',
    src: 'expiryTimer',
    input: ({ context }) => ({ deadline: context.lastActivityAt + context.expiresAfterMs, pid: localPid(context) }),
  },
  initial: 'idle',
  // Events that never change the state, or always end it, are handled here; the rest per
  // state, so that staying in a state does not re-enter it (and keeps its `stateSince`).
  on: {
    'hook.subagent_start': { actions: ['touch', 'addSubagent'] },
    'hook.subagent_stop': [
      { guard: 'endsPendingStop', target: '.idle', actions: ['touch', 'removeSubagent', 'clearStopPending', 'clearMainTool', 'clearAwaiting'] },
      { actions: ['touch', 'removeSubagent'] },
    ],
    'instance.heartbeat': { actions: 'touch' },
    'hook.session_end': { target: '.stopped', actions: ['touch', 'markStopped'] },
    'instance.deregister': { target: '.stopped', actions: 'markStopped' },
    'instance.process_gone': { target: '.stopped', actions: 'markStopped' },
    'expiry.check': [
      { guard: 'isExpiredAndGone', target: '.stopped', actions: ['markStopped', 'emitExpired'] },
      { guard: 'isExpired', actions: 'rearmLater' },
      { actions: 'rearmExpiry' },
    ],
  },
  states: {
    idle: {
      description: 'Registered and waiting for a prompt.',
      entry: 'markStateSince',
      on: {
        'hook.session_start': { actions: ['touch', 'linkSession', 'resetTurn'] },
        'hook.user_prompt_submit': { target: 'working', actions: ['touch', 'clearTool', 'clearStopPending'] },
        'hook.pre_tool_use': [
          { guard: 'asksAQuestion', target: 'awaiting', actions: ['touch', 'setTool', 'awaitInput'] },
          { target: 'working', actions: ['touch', 'setTool'] },
        ],
        'hook.post_tool_use': { target: 'working', actions: ['touch', 'countTool', 'clearTool'] },
        'hook.post_tool_use_failure': { target: 'working', actions: ['touch', 'countTool', 'clearTool'] },
        'hook.permission_request': { target: 'awaiting', actions: ['touch', 'awaitPermission'] },
        'hook.notification': [
          { guard: 'isPermissionPrompt', target: 'awaiting', actions: ['touch', 'awaitPermission'] },
          { guard: 'isElicitation', target: 'awaiting', actions: ['touch', 'awaitInput'] },
          { actions: 'touch' },
        ],
        'hook.stop': [
          { guard: 'isSubagentEvent', actions: 'touch' },
          { guard: 'hasRunningSubagents', target: 'working', actions: ['touch', 'clearTool', 'markStopPending'] },
          { actions: ['touch', 'clearTool', 'emitFinished'] },
        ],
        'hook.stop_failure': { actions: ['touch', 'clearTool', 'emitFailed'] },
      },
    },
    working: {
      description: 'A turn is in progress, or subagents still run after it; currentTool says which tool the main agent runs, and since when.',
      entry: 'markStateSince',
      on: {
        'hook.session_start': { target: 'idle', actions: ['touch', 'linkSession', 'resetTurn'] },
        'hook.user_prompt_submit': { actions: ['touch', 'clearTool', 'clearStopPending'] },
        'hook.pre_tool_use': [
          { guard: 'asksAQuestion', target: 'awaiting', actions: ['touch', 'setTool', 'awaitInput'] },
          { actions: ['touch', 'setTool'] },
        ],
        'hook.post_tool_use': { actions: ['touch', 'countTool', 'clearTool'] },
        'hook.post_tool_use_failure': { actions: ['touch', 'countTool', 'clearTool'] },
        'hook.permission_request': { target: 'awaiting', actions: ['touch', 'awaitPermission'] },
        'hook.notification': [
          { guard: 'isPermissionPrompt', target: 'awaiting', actions: ['touch', 'awaitPermission'] },
          { guard: 'isElicitation', target: 'awaiting', actions: ['touch', 'awaitInput'] },
          { actions: 'touch' },
        ],
        // Claude Code 2.1 runs Agent-tool subagents in the background: the main turn may stop
        // while they work. The instance stays working until the last of them stops.
        'hook.stop': [
          { guard: 'isSubagentEvent', actions: 'touch' },
          { guard: 'hasRunningSubagents', actions: ['touch', 'clearTool', 'markStopPending'] },
          { target: 'idle', actions: ['touch', 'clearTool', 'emitFinished'] },
        ],
        'hook.stop_failure': { target: 'idle', actions: ['touch', 'clearTool', 'clearStopPending', 'emitFailed'] },
        // Quiet is not activity: lastActivityAt (and so expiry) is left as it was, and nobody is told.
        'instance.idle': { target: 'idle', actions: ['clearTool', 'clearStopPending'] },
        // A live process silent for the whole expiry time is idle, not gone.
        'expiry.check': [
          { guard: 'isExpiredAndGone', target: 'stopped', actions: ['markStopped', 'emitExpired'] },
          { guard: 'isExpired', target: 'idle', actions: ['clearMainTool', 'clearSubagents', 'rearmLater'] },
          { actions: 'rearmExpiry' },
        ],
      },
    },
    awaiting: {
      description: 'Needs the person: a permission request, a question or an elicitation. Entering it emits the intent once.',
      entry: ['markStateSince', 'emitAwaiting'],
      on: {
        'hook.session_start': { target: 'idle', actions: ['touch', 'linkSession', 'resetTurn'] },
        'hook.user_prompt_submit': { target: 'working', actions: ['touch', 'clearTool', 'clearAwaiting', 'clearStopPending'] },
        // Another agent's tools (the main agent's while a subagent waits, or the reverse) leave the wait as it is.
        'hook.pre_tool_use': [
          { guard: 'asksAQuestion', actions: ['touch', 'setTool', 'awaitInput'] },
          { guard: 'isOtherAgentsEvent', actions: ['touch', 'setTool'] },
          { target: 'working', actions: ['touch', 'setTool', 'clearAwaiting'] },
        ],
        'hook.post_tool_use': [
          { guard: 'isOtherAgentsEvent', actions: ['touch', 'countTool', 'clearTool'] },
          { target: 'working', actions: ['touch', 'countTool', 'clearTool', 'clearAwaiting'] },
        ],
        'hook.post_tool_use_failure': [
          { guard: 'isOtherAgentsEvent', actions: ['touch', 'countTool', 'clearTool'] },
          { target: 'working', actions: ['touch', 'countTool', 'clearTool', 'clearAwaiting'] },
        ],
        'hook.permission_request': { actions: ['touch', 'awaitPermission'] },
        'hook.notification': [
          { guard: 'isPermissionPrompt', actions: ['touch', 'awaitPermission'] },
          { guard: 'isElicitation', actions: ['touch', 'awaitInput'] },
          { actions: 'touch' },
        ],
        'hook.stop': [
          { guard: 'isSubagentEvent', actions: 'touch' },
          { guard: 'awaitsARunningSubagent', actions: ['touch', 'clearMainTool', 'markStopPending'] },
          { guard: 'hasRunningSubagents', target: 'working', actions: ['touch', 'clearTool', 'clearAwaiting', 'markStopPending'] },
          { target: 'idle', actions: ['touch', 'clearTool', 'clearAwaiting', 'emitFinished'] },
        ],
        'hook.stop_failure': { target: 'idle', actions: ['touch', 'clearTool', 'clearAwaiting', 'clearStopPending', 'emitFailed'] },
        'instance.idle': { target: 'idle', actions: ['clearTool', 'clearAwaiting', 'clearStopPending'] },
      },
    },
    stopped: {
      description: 'The session ended, was deregistered, its process went away, or it expired. Final: a later event of the session revives the instance as a new actor with the same id.',
      type: 'final',
      entry: 'markStateSince',
    },
  },
});
