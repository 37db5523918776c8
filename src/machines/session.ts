// A managed session's lifecycle: starting (spawned, waiting for the agent to answer), ready
// (idle between prompts), busy (a turn runs), cancelling (an interrupt was sent), stopping
// (SIGTERM sent) and exited (final, with the exit code, the last lines and why). Pure: the
// child process lives in src/sessions; events carry `at`. Prompts sent while busy are
// accepted (the agent queues them), so the count of prompts and of finished turns says
// whether the agent still has work. A terminal session stays ready while it is up: what the
// agent is doing there is its instance's state, from hooks.
import { assign, setup } from 'xstate';
import type { SessionContext, SessionEvent, SessionInput } from './session-context.js';

export const sessionMachine = setup({
  types: {
    context: {} as SessionContext,
    events: {} as SessionEvent,
    input: {} as SessionInput,
  },
  guards: {
    /** A terminal session's activity is its instance's (hooks); the session only says it is up. */
    isTerminal: ({ context }) => context.kind === 'terminal',
    hasQueuedPrompts: ({ context }) => context.turns + 1 < context.prompts,
  },
  actions: {
    touch: assign({ updatedAt: ({ event }) => event.at }),
    countPrompt: assign({ prompts: ({ context }) => context.prompts + 1 }),
    countTurn: assign({ turns: ({ context }) => Math.min(context.prompts, context.turns + 1) }),
    /** A cancel drops every queued prompt too (the agent is asked to cancel them). */
    settleTurns: assign({ turns: ({ context }) => context.prompts }),
    assignPid: assign({ pid: ({ event }) => (event.type === 'session.spawned' ? event.pid : null) }),
    rename: assign({ name: ({ context, event }) => (event.type === 'session.rename' ? event.name : context.name) }),
    assignAgentSession: assign({ claudeSessionId: ({ context, event }) => (event.type === 'session.agent_session' ? event.sessionId : context.claudeSessionId) }),
    assignExit: assign({
      exit: ({ event }) =>
        event.type === 'session.exited' ? { code: event.code, signal: event.signal, reason: event.reason, lastLines: event.lastLines, at: event.at } : null,
      pid: () => null,
    }),
  },
}).createMachine({
  id: 'session',
  version: '1',
  context: ({ input }) => ({
    id: input.id,
    name: input.name,
    kind: input.kind,
    agent: input.agent,
    repo: input.repo,
    cwd: input.cwd,
    claudeSessionId: input.claudeSessionId,
    account: input.account,
    pid: null,
    createdAt: input.at,
    updatedAt: input.at,
    prompts: 0,
    turns: 0,
    exit: null,
  }),
  initial: 'starting',
  on: {
    'session.rename': { actions: ['rename', 'touch'] },
    'session.agent_session': { actions: ['assignAgentSession', 'touch'] },
    'session.exited': { target: '.exited', actions: ['assignExit', 'touch'] },
    'session.spawned': { actions: ['assignPid', 'touch'] },
    'session.stop': { target: '.stopping', actions: 'touch' },
  },
  states: {
    starting: {
      description: 'The child is spawned; waiting for its answer to the initialize request.',
      on: {
        'session.ready': { target: 'ready', actions: 'touch' },
        'session.send': { target: 'busy', actions: ['countPrompt', 'touch'] },
      },
    },
    ready: {
      on: {
        'session.send': [
          { guard: 'isTerminal', actions: ['countPrompt', 'touch'] },
          { target: 'busy', actions: ['countPrompt', 'touch'] },
        ],
        'session.cancel': { guard: 'isTerminal', actions: 'touch' },
      },
    },
    busy: {
      description: 'A turn runs; further prompts are queued by the agent.',
      on: {
        'session.send': { actions: ['countPrompt', 'touch'] },
        'session.result': [
          { guard: 'hasQueuedPrompts', actions: ['countTurn', 'touch'] },
          { target: 'ready', actions: ['countTurn', 'touch'] },
        ],
        'session.cancel': { target: 'cancelling', actions: 'touch' },
      },
    },
    cancelling: {
      description: 'An interrupt was sent; the turn ends with an error result.',
      on: {
        'session.result': { target: 'ready', actions: ['settleTurns', 'touch'] },
        'session.send': { target: 'busy', actions: ['countPrompt', 'touch'] },
      },
    },
    stopping: {
      description: 'SIGTERM was sent to the process group; SIGKILL follows after the grace period.',
      on: { 'session.stop': {} },
    },
    exited: {
      type: 'final',
      on: { 'session.stop': {}, 'session.exited': {}, 'session.spawned': {} },
    },
  },
});
