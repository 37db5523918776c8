// The voices new instance profiles are given: those the detected speech engine has (in the
// configured languages, minus excluded ones), or a pinned list, or the configured profile
// voices when nothing was detected. Live: the pool object reads the current list each time.
import type { ProfilePoolConfig } from '../actors/instances/profile-pool.js';
import type { Voice } from './channels/speech.js';

export interface VoiceSelection {
  pin: readonly string[] | null;
  exclude: readonly string[];
  languages: readonly string[];
}

function languageMatches(language: string | null, wanted: readonly string[]): boolean {
  if (wanted.length === 0) return true;
  if (!language) return false;
  const l = language.toLowerCase().replace('_', '-');
  return wanted.some((w) => {
    const x = w.toLowerCase().replace('_', '-');
    return l === x || l.startsWith(`${x}-`);
  });
}

/** The voices to hand out, from what the engine has. Empty when nothing fits. */
export function selectVoices(detected: readonly Voice[], sel: VoiceSelection): string[] {
  if (sel.pin) return [...sel.pin];
  const excluded = new Set(sel.exclude.map((v) => v.toLowerCase()));
  return detected.filter((v) => languageMatches(v.language, sel.languages) && !excluded.has(v.name.toLowerCase())).map((v) => v.name);
}

export function createVoicePool(base: ProfilePoolConfig, sel: VoiceSelection) {
  let voices: readonly string[] = sel.pin ?? base.voices;
  let source: 'pinned' | 'detected' | 'configured' = sel.pin ? 'pinned' : 'configured';
  const profiles: ProfilePoolConfig = {
    get voices() {
      return voices;
    },
    sounds: base.sounds,
    colors: base.colors,
  };
  return {
    /** The profile pool config the instances read (its voices follow detection). */
    profiles,
    /** Takes the engine's voices; returns the list now handed out. */
    update(detected: readonly Voice[]): readonly string[] {
      if (sel.pin) return voices;
      const picked = selectVoices(detected, sel);
      if (picked.length > 0) {
        voices = picked;
        source = 'detected';
      }
      return voices;
    },
    current: () => ({ voices: [...voices], source }),
  };
}

export type VoicePool = ReturnType<typeof createVoicePool>;
