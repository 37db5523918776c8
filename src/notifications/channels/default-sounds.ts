// The default sounds (chimes.wav, ding.wav, ...) where none exist yet: short synthesised
// tones written once into the data directory's sounds folder, so that a fresh install plays
// something without configuration. Files that already exist are never touched.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const RATE = 22_050;

/** A mono 16-bit PCM WAV of the given notes (frequency in Hz, duration in seconds), each fading out. */
export function toneWav(notes: readonly [number, number][]): Buffer {
  const samples: number[] = [];
  for (const [freq, secs] of notes) {
    const n = Math.round(secs * RATE);
    for (let i = 0; i < n; i++) {
      const t = i / RATE;
      const envelope = Math.min(1, i / 200) * Math.exp((-4 * i) / n);
      samples.push(Math.round(0.4 * 32767 * envelope * Math.sin(2 * Math.PI * freq * t)));
    }
  }
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => data.writeInt16LE(s, i * 2));
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(RATE, 24);
  header.writeUInt32LE(RATE * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** Notes for a sound name, varied by the name so that each profile sounds different. */
function notesFor(name: string, index: number): [number, number][] {
  const bases = [659.25, 783.99, 587.33, 880, 523.25, 698.46];
  const base = bases[(index + name.length) % bases.length]!;
  return index % 2 === 0
    ? [
        [base, 0.12],
        [base * 1.25, 0.22],
      ]
    : [
        [base * 1.5, 0.1],
        [base, 0.25],
      ];
}

/** Writes the missing `.wav` sounds of `names` into `dir`; returns the names written. */
export function ensureDefaultSounds(dir: string, names: readonly string[]): string[] {
  const written: string[] = [];
  names.forEach((name, i) => {
    if (!/^[A-Za-z0-9._-]+\.wav$/.test(name)) return;
    const file = join(dir, name);
    if (existsSync(file)) return;
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, toneWav(notesFor(name, i)), { flag: 'wx' });
    written.push(name);
  });
  return written;
}
