// The life of one agent instance (a Claude Code or Codex session), driven by hook events.
// Pure: no I/O and no clock. Every event carries its time (`at`); the expiry deadline is
// context (lastActivityAt + expiresAfterMs) watched by an invoked `expiryTimer` actor, which
// the actors layer provides: invoked actors are restarted on restore, `after` delays are not.
import { assign, emit, fromCallback, sendTo, setup } from 'xstate';
import type { InstanceContext, InstanceEvent, InstanceInput, NotifyIntent } from './instance-context.js';

export type ExpiryTimerEvent = { type: 'expiry.rearm'; deadline: number };
export interface ExpiryTimerInput {
  deadline: number;
}

const PERMISSION_NOTIFICATIONS = new Set(['permission_prompt']);
const QUESTION_TOOLS = new Set(['AskUserQuestion']);

function metaOf(event: InstanceEvent): Partial<InstanceContext> {
  const patch: Partial<InstanceContext> = {};
  if ('cwd' in event && event.cwd) patch.workingDir = event.cwd;
  if ('project' in event && event.project) patch.project = event.project;
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
    resetTurn: assign({ currentTool: null, currentToolSince: null, awaiting: null, subagentCount: 0 }),
    setTool: assign({
      currentTool: ({ event }) => toolOf(event),
      currentToolSince: ({ event }) => event.at,
      currentToolInput: ({ event }) => inputOf(event),
    }),
    clearTool: assign({ currentTool: null, currentToolSince: null, currentToolInput: null }),
    countTool: assign({ toolCount: ({ context }) => context.toolCount + 1 }),
    clearAwaiting: assign({ awaiting: null }),
    awaitPermission: assign({
      awaiting: ({ context, event }) => {
        const tool = toolOf(event) ?? context.awaiting?.tool ?? context.currentTool;
        // A permission prompt (Notification) names no tool input: the tool call it is about does.
        const sameCall = tool === context.currentTool ? (context.currentToolInput ?? null) : null;
        return {
          kind: 'permission' as const,
          tool,
          input: inputOf(event) ?? (tool === context.awaiting?.tool ? (context.awaiting?.input ?? null) : null) ?? sameCall,
          message: event.type === 'hook.notification' ? event.message : (context.awaiting?.message ?? null),
        };
      },
    }),
    awaitInput: assign({
      awaiting: ({ event }) => ({
        kind: 'input' as const,
        tool: toolOf(event),
        message: event.type === 'hook.notification' ? event.message : null,
      }),
    }),
    addSubagent: assign({ subagentCount: ({ context }) => context.subagentCount + 1 }),
    removeSubagent: assign({ subagentCount: ({ context }) => Math.max(0, context.subagentCount - 1) }),
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
      awaiting: null,
    })),
    rearmExpiry: sendTo('expiry', ({ context }) => ({
      type: 'expiry.rearm' as const,
      deadline: context.lastActivityAt + context.expiresAfterMs,
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
  version: '1',
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
    subagentCount: input.subagentCount ?? 0,
    awaiting: null,
  }),
  invoke: {
    id: 'expiry',
    src: 'expiryTimer',
    input: ({ context }) => ({ deadline: context.lastActivityAt + context.expiresAfterMs }),
  },
  initial: 'idle',
  // Events that never change the state, or always end it, are handled here; the rest per
  // state, so that staying in a state does not re-enter it (and keeps its `stateSince`).
  on: {
    'hook.subagent_start': { actions: ['touch', 'addSubagent'] },
    'hook.subagent_stop': { actions: ['touch', 'removeSubagent'] },
    'instance.heartbeat': { actions: 'touch' },
    'hook.session_end': { target: '.stopped', actions: ['touch', 'markStopped'] },
    'instance.deregister': { target: '.stopped', actions: 'markStopped' },
    'instance.process_gone': { target: '.stopped', actions: 'markStopped' },
    'expiry.check': [{ guard: 'isExpired', target: '.stopped', actions: ['markStopped', 'emitExpired'] }, { actions: 'rearmExpiry' }],
  },
  states: {
    idle: {
      description: 'Registered and waiting for a prompt.',
      entry: 'markStateSince',
      on: {
        'hook.session_start': { actions: ['touch', 'linkSession', 'resetTurn'] },
        'hook.user_prompt_submit': { target: 'working', actions: ['touch', 'clearTool'] },
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
        'hook.stop': { actions: ['touch', 'clearTool', 'emitFinished'] },
        'hook.stop_failure': { actions: ['touch', 'clearTool', 'emitFailed'] },
      },
    },
    working: {
      description: 'A turn is in progress; currentTool says which tool runs, and since when.',
      entry: 'markStateSince',
      on: {
        'hook.session_start': { target: 'idle', actions: ['touch', 'linkSession', 'resetTurn'] },
        'hook.user_prompt_submit': { actions: ['touch', 'clearTool'] },
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
        'hook.stop': { target: 'idle', actions: ['touch', 'clearTool', 'emitFinished'] },
        'hook.stop_failure': { target: 'idle', actions: ['touch', 'clearTool', 'emitFailed'] },
        // Quiet is not activity: lastActivityAt (and so expiry) is left as it was, and nobody is told.
        'instance.idle': { target: 'idle', actions: 'clearTool' },
      },
    },
    awaiting: {
      description: 'Needs the person: a permission request, a question or an elicitation. Entering it emits the intent once.',
      entry: ['markStateSince', 'emitAwaiting'],
      on: {
        'hook.session_start': { target: 'idle', actions: ['touch', 'linkSession', 'resetTurn'] },
        'hook.user_prompt_submit': { target: 'working', actions: ['touch', 'clearTool', 'clearAwaiting'] },
        'hook.pre_tool_use': [
          { guard: 'asksAQuestion', actions: ['touch', 'setTool', 'awaitInput'] },
          { target: 'working', actions: ['touch', 'setTool', 'clearAwaiting'] },
        ],
        'hook.post_tool_use': { target: 'working', actions: ['touch', 'countTool', 'clearTool', 'clearAwaiting'] },
        'hook.post_tool_use_failure': { target: 'working', actions: ['touch', 'countTool', 'clearTool', 'clearAwaiting'] },
        'hook.permission_request': { actions: ['touch', 'awaitPermission'] },
        'hook.notification': [
          { guard: 'isPermissionPrompt', actions: ['touch', 'awaitPermission'] },
          { guard: 'isElicitation', actions: ['touch', 'awaitInput'] },
          { actions: 'touch' },
        ],
        'hook.stop': { target: 'idle', actions: ['touch', 'clearTool', 'clearAwaiting', 'emitFinished'] },
        'hook.stop_failure': { target: 'idle', actions: ['touch', 'clearTool', 'clearAwaiting', 'emitFailed'] },
        'instance.idle': { target: 'idle', actions: ['clearTool', 'clearAwaiting'] },
      },
    },
    stopped: {
      description: 'The session ended, was deregistered, its process went away, or it expired.',
      type: 'final',
      entry: 'markStateSince',
    },
  },
});
