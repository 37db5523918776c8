// The live feed's memory of recent stream messages: a fixed-size ring of serialised messages
// with consecutive seq numbers. It serves `?since=<seq>` resumes (everything after a seq, or
// null when part of it is gone) and `get_history` (messages before a seq).
import type { StreamType } from '../protocol/feed.js';

export interface HeldMessage {
  seq: number;
  type: StreamType;
  /** The whole message as UTF-8 JSON, sent as is to every client (serialised once, when first needed). */
  data: () => Buffer;
}

export interface HistoryPage {
  /** Oldest first. */
  messages: HeldMessage[];
  /** Older messages matching the filter are still held. */
  more: boolean;
  /** Older messages of this run were dropped from the ring. */
  truncated: boolean;
}

export function createFeedRing(capacity: number, firstSeq: number) {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('the feed history holds at least one message');
  const slots: (HeldMessage | undefined)[] = new Array(capacity);
  let count = 0;
  /** The seq of the newest message held (firstSeq - 1 when none was ever pushed). */
  let head = firstSeq - 1;

  const oldestSeq = () => head - count + 1;
  const at = (seq: number) => slots[seq % capacity]!;

  return {
    push(message: HeldMessage): void {
      if (message.seq !== head + 1) throw new RangeError(`feed seq ${message.seq} does not follow ${head}`);
      slots[message.seq % capacity] = message;
      head = message.seq;
      if (count < capacity) count += 1;
    },

    /** Every message after `since`, oldest first, or null when some of them are no longer held (or `since` is not of this run). */
    since(since: number): HeldMessage[] | null {
      if (since > head || since < firstSeq - 1) return null;
      if (since + 1 < oldestSeq()) return null;
      const out: HeldMessage[] = [];
      for (let s = since + 1; s <= head; s++) out.push(at(s));
      return out;
    },

    /** Up to `limit` messages older than `before` that pass `keep`, oldest first. */
    before(before: number, limit: number, keep: (m: HeldMessage) => boolean = () => true): HistoryPage {
      const out: HeldMessage[] = [];
      const oldest = oldestSeq();
      let s = Math.min(before - 1, head);
      for (; s >= oldest && out.length < limit; s--) {
        const m = at(s);
        if (keep(m)) out.push(m);
      }
      let more = false;
      for (let t = s; t >= oldest; t--) {
        if (keep(at(t))) {
          more = true;
          break;
        }
      }
      out.reverse();
      // Messages of this run older than `before` that were dropped: [firstSeq, min(before, oldest) - 1].
      return { messages: out, more, truncated: !more && oldest > firstSeq && before - 1 >= firstSeq };
    },

    head: () => head,
    size: () => count,
  };
}

export type FeedRing = ReturnType<typeof createFeedRing>;
