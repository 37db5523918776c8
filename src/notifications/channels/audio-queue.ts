// One queue for everything the desktop plays (sounds and speech), so that utterances never
// overlap: jobs run one at a time in the order they came. A job still waiting when its
// deadline passes is not played (a stale spoken notification is worse than none), nor one
// whose moment has passed by its turn (`skip`: a permission request already answered).
import type { Clock } from '../../lib/clock.js';

export type AudioOutcome = { kind: 'played' } | { kind: 'expired' } | { kind: 'skipped' } | { kind: 'failed'; error: string } | { kind: 'cancelled' };

interface Job {
  expiresAt: number;
  play: () => Promise<void>;
  skip?: () => boolean;
  done: (o: AudioOutcome) => void;
}

export interface AudioQueue {
  /** Queues a job; resolves with what happened to it (never rejects). */
  enqueue(expiresAt: number, play: () => Promise<void>, skip?: () => boolean): Promise<AudioOutcome>;
  /** Jobs waiting, plus the one playing. */
  size(): number;
  /** Drops every waiting job (cancelled); the one playing finishes. */
  close(): void;
}

export function createAudioQueue(clock: Clock): AudioQueue {
  const jobs: Job[] = [];
  let playing = false;
  let closed = false;

  async function pump(): Promise<void> {
    if (playing) return;
    playing = true;
    try {
      for (let job = jobs.shift(); job; job = jobs.shift()) {
        if (clock.now() > job.expiresAt) {
          job.done({ kind: 'expired' });
          continue;
        }
        if (job.skip?.()) {
          job.done({ kind: 'skipped' });
          continue;
        }
        try {
          await job.play();
          job.done({ kind: 'played' });
        } catch (err) {
          job.done({ kind: 'failed', error: (err as Error).message ?? String(err) });
        }
      }
    } finally {
      playing = false;
    }
  }

  return {
    enqueue(expiresAt, play, skip) {
      if (closed) return Promise.resolve({ kind: 'cancelled' });
      return new Promise<AudioOutcome>((done) => {
        jobs.push({ expiresAt, play, skip, done });
        void pump();
      });
    },
    size: () => jobs.length + (playing ? 1 : 0),
    close() {
      closed = true;
      for (const job of jobs.splice(0)) job.done({ kind: 'cancelled' });
    },
  };
}
