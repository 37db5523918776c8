// One permission request waiting for a decision from anywhere (the API, a signed link, the
// dashboard, the feed, a policy). Pure: events carry `at`. The expiry deadline is context,
// watched by the invoked `approvalTimer` (provided by src/approvals), because xstate does not
// persist `after` delays; the timer is restarted when a waiting approval is restored.
import { assign, fromCallback, setup, type EventObject } from 'xstate';
import type { DeadlineInput } from './deadline.js';
import type { ApprovalContext, ApprovalEvent, ApprovalInput } from './approval-context.js';

export const approvalMachine = setup({
  types: {
    context: {} as ApprovalContext,
    events: {} as ApprovalEvent,
    input: {} as ApprovalInput,
  },
  actors: {
    // Replaced by src/approvals with a real timer; the bare machine's timer never fires.
    approvalTimer: fromCallback<EventObject, DeadlineInput>(() => undefined),
  },
  guards: {
    isDecidedAtCreation: ({ context }) => context.decision !== null,
    isDue: ({ context, event }) => event.at >= context.expiresAt,
  },
  actions: {
    recordDecision: assign(({ event }) => {
      if (event.type !== 'approval.decide') return {};
      return { decision: { behavior: event.behavior, message: event.message, by: event.by, ruleId: event.ruleId, at: event.at } };
    }),
    recordResolution: assign(({ event }) => {
      const how = event.type === 'approval.answered_elsewhere' ? event.how : event.type === 'approval.withdrawn' ? event.reason : 'timeout';
      return { resolution: { how, at: event.at } };
    }),
  },
}).createMachine({
  id: 'approval',
  version: '1',
  description: 'A permission request of an agent, from the hook that waits for it to a decision, or to its end without one.',
  context: ({ input }) => ({ ...input, decision: input.decision ?? null, resolution: null }),
  initial: 'pending',
  states: {
    pending: {
      description: 'The hook waits; anyone allowed may decide until the deadline.',
      always: { guard: 'isDecidedAtCreation', target: 'decided' },
      invoke: { id: 'timer', src: 'approvalTimer', input: ({ context }) => ({ deadline: context.expiresAt }) },
      on: {
        'approval.decide': { target: 'decided', actions: 'recordDecision' },
        'approval.answered_elsewhere': { target: 'answered_elsewhere', actions: 'recordResolution' },
        'approval.withdrawn': { target: 'withdrawn', actions: 'recordResolution' },
        'approval.expiry_due': { guard: 'isDue', target: 'expired', actions: 'recordResolution' },
      },
    },
    decided: { type: 'final', description: 'Allowed or denied; the hook has the answer.' },
    expired: { type: 'final', description: 'Nobody decided in time; Claude Code asked in its terminal as usual.' },
    answered_elsewhere: { type: 'final', description: 'The session went on without this hook: answered in the terminal, or the turn moved on.' },
    withdrawn: { type: 'final', description: 'The hook stopped waiting before a decision.' },
  },
});
