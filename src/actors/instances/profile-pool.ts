// Profiles (voice, sound, colour) for new instances: the lowest slot not held by an active
// instance while the pool lasts, then the least used one. The uses per slot come from the
// instance index (instance-index.ts), kept from the live actors, so there is no assignment
// table to drift: a stopped instance frees its slot, and assignments live in the snapshots.
import type { Profile } from '../../machines/instance-context.js';

export interface ProfilePoolConfig {
  voices: readonly string[];
  sounds: readonly string[];
  colors: readonly string[];
}

export function poolSize(pool: ProfilePoolConfig): number {
  return Math.max(pool.voices.length, pool.sounds.length, pool.colors.length, 1);
}

/** The profile of the least used slot (the lowest of equals); `uses[slot]`: live instances holding it. */
export function assignProfile(pool: ProfilePoolConfig, uses: readonly number[] = []): Profile {
  const size = poolSize(pool);
  let slot = 0;
  for (let i = 1; i < size; i++) if ((uses[i] ?? 0) < (uses[slot] ?? 0)) slot = i;
  const pick = (list: readonly string[], fallback: string) => (list.length > 0 ? list[slot % list.length]! : fallback);
  return {
    slot,
    name: `profile_${slot + 1}`,
    voice: pick(pool.voices, 'default'),
    sound: pick(pool.sounds, 'default'),
    color: pick(pool.colors, '#ffffff'),
  };
}
