// The productivity gate: productive while at least one instance is `working`; when the last
// one stops, a grace period (deadline in context, watched by the invoked `graceTimer` actor
// the actors layer provides) keeps the gate open before it closes. Pure: events carry `at`.
// What the gate allows, given the mode, is decided by gate-decision.ts from this state.
import { assign, fromCallback, setup, type EventObject } from 'xstate';
import type { DeadlineInput } from './deadline.js';
import type { GateContext, GateEvent, GateInput } from './gate-context.js';

export const gateMachine = setup({
  types: {
    context: {} as GateContext,
    events: {} as GateEvent,
    input: {} as GateInput,
  },
  actors: {
    // Replaced by the actors layer with a real timer; the bare machine's grace never ends.
    graceTimer: fromCallback<EventObject, DeadlineInput>(() => undefined),
  },
  guards: {
    hasWorking: ({ context }) => context.working.length > 0,
    eventHasWorking: ({ event }) => event.type === 'instances.working' && event.ids.length > 0,
    hasNoGrace: ({ context }) => context.graceMs <= 0,
    isGraceOver: ({ context, event }) => context.graceUntil === null || event.at >= context.graceUntil,
  },
  actions: {
    assignWorking: assign({ working: ({ context, event }) => (event.type === 'instances.working' ? [...event.ids].sort() : context.working) }),
    markSince: assign({ since: ({ event }) => event.at }),
    markStateSince: assign({ stateSince: ({ context, event }) => ('at' in event && typeof event.at === 'number' ? event.at : context.stateSince) }),
    startGrace: assign({ graceUntil: ({ context, event }) => event.at + context.graceMs }),
    clearGrace: assign({ graceUntil: null }),
    configure: assign({ graceMs: ({ context, event }) => (event.type === 'gate.configure' ? event.graceMs : context.graceMs) }),
  },
}).createMachine({
  id: 'gate',
  version: '1',
  description: 'Whether any agent is working for the person, with a grace period after the last one stops.',
  context: ({ input }) => ({
    working: [...input.working].sort(),
    since: input.at,
    stateSince: input.at,
    graceUntil: null,
    graceMs: input.graceMs,
  }),
  initial: 'idle',
  on: {
    'gate.configure': { actions: 'configure' },
  },
  states: {
    idle: {
      description: 'No agent is working and the grace period is over: work modes block distracting apps.',
      entry: 'markStateSince',
      // Only at creation can the gate be idle with working instances (its input said so).
      always: { guard: 'hasWorking', target: 'productive' },
      on: {
        'instances.working': [
          { guard: 'eventHasWorking', target: 'productive', actions: ['assignWorking', 'markSince'] },
          { actions: 'assignWorking' },
        ],
      },
    },
    productive: {
      description: 'At least one agent is working.',
      entry: 'markStateSince',
      on: {
        'instances.working': [
          { guard: 'eventHasWorking', actions: 'assignWorking' },
          { guard: 'hasNoGrace', target: 'idle', actions: ['assignWorking', 'markSince'] },
          { target: 'grace', actions: ['assignWorking', 'markSince', 'startGrace'] },
        ],
      },
    },
    grace: {
      description: 'The last agent stopped working; the gate stays open until graceUntil.',
      entry: 'markStateSince',
      invoke: {
        id: 'grace',
        src: 'graceTimer',
        input: ({ context }) => ({ deadline: context.graceUntil ?? 0 }),
      },
      on: {
        'instances.working': [
          { guard: 'eventHasWorking', target: 'productive', actions: ['assignWorking', 'markSince', 'clearGrace'] },
          { actions: 'assignWorking' },
        ],
        'gate.grace_ended': { guard: 'isGraceOver', target: 'idle', actions: 'clearGrace' },
      },
    },
  },
});
