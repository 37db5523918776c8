// The work mode (work_silence, work_music, break, off, ...), the focus flag and configured
// state variables. Pure: events carry `at`. A mode set for a duration has its deadline in
// context, watched by the invoked `modeTimer` actor (provided by the actors layer), because
// xstate does not persist `after` delays; the invoked actor is restarted on restore.
import { assign, emit, fromCallback, setup, type EventObject } from 'xstate';
import type { DeadlineInput } from './deadline.js';
import type { ModeContext, ModeEvent, ModeInput, ModeTimerEndedIntent } from './mode-context.js';

type Update = Extract<ModeEvent, { type: 'mode.update' }>;

export const modeMachine = setup({
  types: {
    context: {} as ModeContext,
    events: {} as ModeEvent,
    input: {} as ModeInput,
    emitted: {} as ModeTimerEndedIntent,
  },
  actors: {
    // Replaced by the actors layer with a real timer; the bare machine's timer never fires.
    modeTimer: fromCallback<EventObject, DeadlineInput>(() => undefined),
  },
  guards: {
    setsTimedMode: ({ event }) => event.type === 'mode.update' && event.mode !== undefined && typeof event.durationMs === 'number',
    setsMode: ({ event }) => event.type === 'mode.update' && event.mode !== undefined,
    isDue: ({ context, event }) => context.deadline !== null && event.at >= context.deadline,
    modeIsGone: ({ context, event }) => event.type === 'mode.configure' && !event.modes.includes(context.mode),
  },
  actions: {
    applyMode: assign(({ context, event }) => {
      const e = event as Update;
      const mode = e.mode!;
      const timed = typeof e.durationMs === 'number';
      // A timer returns to the mode before it; a timer set during a timer keeps the first one's way back.
      let returnTo: string | null = null;
      if (timed) {
        returnTo = context.deadline !== null && context.returnTo !== null ? context.returnTo : context.mode;
        if (returnTo === mode) returnTo = context.defaultMode;
      }
      return {
        mode,
        since: mode === context.mode ? context.since : e.at,
        setBy: 'request' as const,
        deadline: timed ? e.at + (e.durationMs as number) : null,
        returnTo,
      };
    }),
    applyFocus: assign(({ context, event }) => {
      const e = event as Update;
      if (e.focus === undefined || e.focus === context.focus) return {};
      return { focus: e.focus, focusSince: e.at };
    }),
    applyVars: assign(({ context, event }) => {
      const e = event as Update;
      return e.vars ? { vars: { ...context.vars, ...e.vars } } : {};
    }),
    emitTimerEnded: emit(({ context, event }) => {
      const to = context.returnTo ?? context.defaultMode;
      return {
        type: 'notify' as const,
        intent: 'mode_timer_ended' as const,
        instanceId: null,
        at: event.at,
        tool: null,
        message: `${context.mode} ended; back to ${to}`,
        previous: context.mode,
        mode: to,
      };
    }),
    returnFromTimer: assign(({ context, event }) => {
      const mode = context.returnTo ?? context.defaultMode;
      return { mode, since: mode === context.mode ? context.since : event.at, setBy: 'timer' as const, deadline: null, returnTo: null };
    }),
    configure: assign(({ context, event }) => {
      if (event.type !== 'mode.configure') return {};
      const returnTo = context.returnTo !== null && !event.modes.includes(context.returnTo) ? event.defaultMode : context.returnTo;
      return { defaultMode: event.defaultMode, vars: event.vars, returnTo };
    }),
    resetToDefault: assign(({ context, event }) => ({
      mode: context.defaultMode,
      since: event.at,
      setBy: 'config' as const,
      deadline: null,
      returnTo: null,
    })),
  },
}).createMachine({
  id: 'mode',
  version: '1',
  description: 'The work mode the person is in, the focus flag, and configured state variables.',
  context: ({ input }) => ({
    mode: input.mode,
    since: input.at,
    setBy: 'start',
    deadline: null,
    returnTo: null,
    defaultMode: input.defaultMode,
    focus: false,
    focusSince: input.at,
    vars: input.vars,
  }),
  initial: 'steady',
  on: {
    'mode.update': [
      { guard: 'setsTimedMode', target: '.timed', reenter: true, actions: ['applyMode', 'applyFocus', 'applyVars'] },
      { guard: 'setsMode', target: '.steady', actions: ['applyMode', 'applyFocus', 'applyVars'] },
      { actions: ['applyFocus', 'applyVars'] },
    ],
    'mode.configure': [
      { guard: 'modeIsGone', target: '.steady', actions: ['configure', 'resetToDefault'] },
      { actions: 'configure' },
    ],
  },
  states: {
    steady: {
      description: 'The mode holds until someone changes it.',
    },
    timed: {
      description: 'The mode was set for a duration; at its deadline it returns to the mode before it (or the default).',
      invoke: {
        id: 'timer',
        src: 'modeTimer',
        input: ({ context }) => ({ deadline: context.deadline ?? 0 }),
      },
      on: {
        'mode.timer_ended': { guard: 'isDue', target: 'steady', actions: ['emitTimerEnded', 'returnFromTimer'] },
      },
    },
  },
});
