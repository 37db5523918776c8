// The live feed's ring of recent messages: resumes (`since`) answer everything after a seq or
// nothing at all, history pages (`before`) say whether more is held or was dropped, across
// the ring's wrap-around; and the dashboard's layout fits every width and height.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { StreamType } from '../src/protocol/feed.js';
import { createFeedRing, type HeldMessage } from '../src/feed/ring.js';
import { columnsFor, COLUMN_ORDER, layoutFor } from '../src/tui/layout.js';

const FIRST = 5_000_001;
const msg = (seq: number, type: StreamType = seq % 3 === 0 ? 'event' : 'instance'): HeldMessage => ({ seq, type, data: () => Buffer.from(String(seq)) });
const seqs = (ms: HeldMessage[] | null) => (ms === null ? null : ms.map((m) => m.seq));

describe('the feed ring', () => {
  it('takes only the next seq', () => {
    const r = createFeedRing(4, FIRST);
    r.push(msg(FIRST));
    assert.throws(() => r.push(msg(FIRST + 2)), RangeError);
    assert.throws(() => r.push(msg(FIRST)), RangeError);
    assert.equal(r.head(), FIRST);
  });

  it('resumes with everything after a seq, or with nothing when part of it is gone, unknown or ahead', () => {
    const r = createFeedRing(4, FIRST);
    assert.deepEqual(seqs(r.since(FIRST - 1)), [], 'the snapshot before any message');
    for (let s = FIRST; s < FIRST + 6; s++) r.push(msg(s));
    // Held: FIRST+2 .. FIRST+5
    assert.deepEqual(seqs(r.since(FIRST + 5)), []);
    assert.deepEqual(seqs(r.since(FIRST + 3)), [FIRST + 4, FIRST + 5]);
    assert.deepEqual(seqs(r.since(FIRST + 1)), [FIRST + 2, FIRST + 3, FIRST + 4, FIRST + 5]);
    assert.equal(r.since(FIRST), null, 'FIRST+1 was dropped');
    assert.equal(r.since(FIRST + 6), null, 'ahead of the head');
    assert.equal(r.since(12), null, 'another run');
  });

  it('pages back through history, filtered, saying whether more is held or was dropped', () => {
    const r = createFeedRing(6, FIRST);
    for (let s = FIRST; s < FIRST + 4; s++) r.push(msg(s, 'instance'));
    let p = r.before(FIRST + 100, 3);
    assert.deepEqual([seqs(p.messages), p.more, p.truncated], [[FIRST + 1, FIRST + 2, FIRST + 3], true, false]);
    p = r.before(FIRST + 1, 3);
    assert.deepEqual([seqs(p.messages), p.more, p.truncated], [[FIRST], false, false]);
    for (let s = FIRST + 4; s < FIRST + 10; s++) r.push(msg(s, s % 2 ? 'event' : 'mode'));
    // Held: FIRST+4 .. FIRST+9; dropped: FIRST .. FIRST+3.
    // FIRST is odd: events at FIRST+4, +6, +8; modes at FIRST+5, +7, +9.
    p = r.before(FIRST + 100, 100, (m) => m.type === 'mode');
    assert.deepEqual([seqs(p.messages), p.more, p.truncated], [[FIRST + 5, FIRST + 7, FIRST + 9], false, true]);
    p = r.before(FIRST + 7, 1, (m) => m.type === 'event');
    assert.deepEqual([seqs(p.messages), p.more, p.truncated], [[FIRST + 6], true, false]);
    p = r.before(FIRST + 6, 1, (m) => m.type === 'event');
    assert.deepEqual([seqs(p.messages), p.more, p.truncated], [[FIRST + 4], false, true]);
    p = r.before(FIRST + 2, 10);
    assert.deepEqual([seqs(p.messages), p.more, p.truncated], [[], false, true], 'everything asked for was dropped');
    p = r.before(FIRST, 10);
    assert.deepEqual([seqs(p.messages), p.more, p.truncated], [[], false, false], 'nothing of this run is older');
  });

  it('agrees with a plain list of everything ever pushed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: FIRST - 3, max: FIRST + 70 }), fc.integer({ min: 1, max: 30 }), (cap, n, probe, limit) => {
        const r = createFeedRing(cap, FIRST);
        const all: number[] = [];
        for (let s = FIRST; s < FIRST + n; s++) {
          r.push(msg(s));
          all.push(s);
        }
        const held = all.slice(-cap);
        const after = all.filter((s) => s > probe);
        const since = r.since(probe);
        if (probe > r.head() || probe < FIRST - 1 || after.some((s) => !held.includes(s))) assert.equal(since, null);
        else assert.deepEqual(seqs(since), after);
        const page = r.before(probe, limit);
        const older = held.filter((s) => s < probe);
        assert.deepEqual(seqs(page.messages), older.slice(-limit));
        assert.equal(page.more, older.length > limit);
        assert.equal(page.truncated, !page.more && all.some((s) => s < probe && !held.includes(s)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('the dashboard layout', () => {
  it('fits every width from 30 columns, and fills every height with its rows', () => {
    // Below 30 columns not even the state and times fit; lines are cut there.
    for (let w = 30; w <= 240; w++) {
      for (const machines of [false, true]) {
        const c = columnsFor(w, { machines });
        const shown = COLUMN_ORDER.filter((k) => c[k] > 0);
        const used = shown.reduce((n, k) => n + c[k], 0) + shown.length - 2;
        assert.ok(used <= w, `${w}: ${used}`);
        if (w >= 60) assert.ok(c.name >= 8 && c.state === 8 && c.inState === 8, `${w}: ${JSON.stringify(c)}`);
        if (machines && w >= 80) assert.ok(c.machine >= 8, `${w}: the machine column on a hub`);
      }
    }
    for (let h = 4; h <= 80; h++) {
      const l = layoutFor(80, h);
      const rows = l.compact ? 3 + l.listRows : 8 + l.listRows + l.eventRows;
      assert.equal(rows, h, `height ${h}`);
      assert.ok(l.listRows >= 1);
    }
  });
});
