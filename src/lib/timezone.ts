// Days and months in a configured time zone (UTC by default), without a date library:
// Intl gives a zone's wall-clock time for an instant, and the offset follows from it.
// Reports group records in 15-minute buckets, which never straddle a day in any zone.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(ms: number, timeZone: string): Wall {
  const w: Wall = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) {
    if (p.type in w) w[p.type as keyof Wall] = Number(p.value);
  }
  return w;
}

/** The zone's offset from UTC at an instant, in milliseconds (east positive). */
export function offsetMs(ms: number, timeZone: string): number {
  const w = wallClock(ms, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - (ms - (((ms % 1000) + 1000) % 1000));
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** "YYYY-MM-DD" of an instant in a zone. */
export function dayOf(ms: number, timeZone: string): string {
  const w = wallClock(ms, timeZone);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
}

/** The instant a wall-clock midnight starts in a zone (the first instant of that day). */
export function startOfDay(year: number, month: number, day: number, timeZone: string): number {
  const guess = Date.UTC(year, month - 1, day);
  let at = guess - offsetMs(guess, timeZone);
  // The offset at midnight may differ from the one at the guess (a DST change that day).
  at = guess - offsetMs(at, timeZone);
  // A zone that skips midnight (DST at 00:00) starts the day at the first instant after the gap.
  if (dayOf(at, timeZone) !== `${pad(year, 4)}-${pad(month)}-${pad(day)}`) at += 3_600_000;
  return at;
}

/** Parses "YYYY-MM-DD" or "YYYYMMDD"; null when it is not a real date. */
export function parseDay(text: string): { year: number; month: number; day: number } | null {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(text);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return null;
  return { year, month, day };
}

/** The day after a calendar date. */
export function nextDay(d: { year: number; month: number; day: number }): { year: number; month: number; day: number } {
  const n = new Date(Date.UTC(d.year, d.month - 1, d.day + 1));
  return { year: n.getUTCFullYear(), month: n.getUTCMonth() + 1, day: n.getUTCDate() };
}

/** [start, end) of the day an instant falls on, in a zone. */
export function dayRange(ms: number, timeZone: string): { day: string; start: number; end: number } {
  const day = dayOf(ms, timeZone);
  const d = parseDay(day)!;
  const n = nextDay(d);
  return { day, start: startOfDay(d.year, d.month, d.day, timeZone), end: startOfDay(n.year, n.month, n.day, timeZone) };
}

/** A 15-minute bucket's day, memoised: reports fold thousands of buckets into days. */
export function createDayFolder(timeZone: string): (bucket: number) => string {
  const memo = new Map<number, string>();
  return (bucket) => {
    let d = memo.get(bucket);
    if (d === undefined) {
      d = dayOf(bucket * BUCKET_MS, timeZone);
      memo.set(bucket, d);
    }
    return d;
  };
}

/** Every zone's offset is a multiple of 15 minutes, so a bucket lies within one local day. */
export const BUCKET_MS = 15 * 60_000;
