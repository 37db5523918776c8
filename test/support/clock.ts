// A clock the test moves by hand: timers fire in deadline order as time advances.
import type { Clock, TimerHandle } from '../../src/lib/clock.js';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  private timers: Timer[] = [];
  private seq = 0;
  constructor(public current = Date.UTC(2026, 10, 23, 12, 0, 0)) {}

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = { id: ++this.seq, at: this.current + Math.max(0, ms), fn };
    this.timers.push(t);
    return t.id as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    this.timers = this.timers.filter((t) => t.id !== (handle as unknown as number));
  }

  /** Moves time forward, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.current = Math.max(this.current, next.at);
      next.fn();
    }
    this.current = end;
  }

  pending(): number {
    return this.timers.length;
  }
}
