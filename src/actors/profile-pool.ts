// Profiles (voice, sound, colour) and display numbers for new instances: the lowest slot not
// held by an active instance while the pool lasts, then the least used one. Derived from the
// live actors each time, so there is no assignment table to drift: a stopped instance frees
// its slot by no longer being live, and assignments survive restarts inside the snapshots.
import type { Profile } from '../machines/instance-context.js';

export interface ProfilePoolConfig {
  voices: readonly string[];
  sounds: readonly string[];
  colors: readonly string[];
}

export function poolSize(pool: ProfilePoolConfig): number {
  return Math.max(pool.voices.length, pool.sounds.length, pool.colors.length, 1);
}

export function assignProfile(pool: ProfilePoolConfig, usedSlots: Iterable<number>): Profile {
  const size = poolSize(pool);
  const uses = new Array<number>(size).fill(0);
  for (const s of usedSlots) if (s >= 0 && s < size) uses[s] = (uses[s] ?? 0) + 1;
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

/** The lowest positive number not in use. */
export function lowestFreeNumber(used: Iterable<number>): number {
  const taken = new Set(used);
  let n = 1;
  while (taken.has(n)) n += 1;
  return n;
}
