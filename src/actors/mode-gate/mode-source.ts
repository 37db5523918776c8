// Where notification routing reads the current work mode from. The mode actor provides the
// real one; until it is wired in (and in tests), a fixed mode stands in: `work_music`, no focus.
export interface ModeState {
  mode: string;
  focus: boolean;
}

export interface ModeSource {
  current(): ModeState;
}

export const DEFAULT_MODE = 'work_music';

/** A mode source that always answers the same (settable, for tests and for the default). */
export function fixedModeSource(initial: ModeState = { mode: DEFAULT_MODE, focus: false }) {
  let state = { ...initial };
  return {
    current: (): ModeState => ({ ...state }),
    set(next: Partial<ModeState>): void {
      state = { ...state, ...next };
    },
  };
}
