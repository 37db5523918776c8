// Small, pure formatting for the dashboard: durations, token counts, clock times, and lines
// built from styled segments that are cut or padded to an exact width (blessed tags are added
// around the text, never counted in it; text from the server is escaped).

/** "12s", "5m12s", "2h15m", "3d4h": at most six characters. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 && m < 10 ? `${m}m${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
}

/** "4:05" or "1:02:03": time left on a timer. */
export function countdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** 999, 12.3k, 350k, 1.2M, 3.4B (the usage tables shorten tokens the same way). */
export { compactNumber as tokens } from '../lib/format.js';

export function usd(n: number): string {
  return n >= 100 ? `$${Math.round(n)}` : `$${n.toFixed(2)}`;
}

/** HH:MM:SS in the terminal's local time. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((x) => String(x).padStart(2, '0')).join(':');
}

/** blessed tag syntax in text from elsewhere ("{bold}") is shown, not obeyed. */
export function escapeTags(text: string): string {
  return text.replace(/[{}]/g, (c) => (c === '{' ? '{open}' : '{close}'));
}

/** Control characters (a tab name with an escape sequence) would break the screen. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

const chars = (s: string) => Array.from(s);

/** Cut to `width` characters (with "…" when cut) or pad with spaces, on the right or the left. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  const c = chars(printable(text));
  if (c.length > width) return width === 1 ? '…' : `${c.slice(0, width - 1).join('')}…`;
  const pad = ' '.repeat(width - c.length);
  return align === 'left' ? c.join('') + pad : pad + c.join('');
}

export interface Segment {
  text: string;
  /** blessed tags to open around the text, e.g. "bold", "red-fg", "#0099ff-fg". */
  style?: string[];
}

export const seg = (text: string, ...style: string[]): Segment => ({ text, style });

/** Segments laid out to exactly `width` characters (cut, then padded), as a tagged line. */
export function line(segments: Segment[], width: number, lineStyle: string[] = []): string {
  let left = width;
  let out = '';
  for (const s of segments) {
    if (left <= 0) break;
    const c = chars(printable(s.text));
    const text = c.length > left ? fit(s.text, left) : c.join('');
    left -= chars(text).length;
    const body = escapeTags(text);
    out += s.style && s.style.length > 0 ? `${s.style.map((t) => `{${t}}`).join('')}${body}{/}` : body;
    // {/} closes every open tag: reopen the line's own style after a styled segment.
    if (s.style && s.style.length > 0 && lineStyle.length > 0) out += lineStyle.map((t) => `{${t}}`).join('');
  }
  if (left > 0) out += ' '.repeat(left);
  return lineStyle.length > 0 ? `${lineStyle.map((t) => `{${t}}`).join('')}${out}{/}` : out;
}

/** The plain text of a tagged line (what the terminal shows), for tests and widths. */
export function plain(tagged: string): string {
  return tagged.replace(/\{\/?[a-z0-9#-]*\}/gi, (t) => (t === '{open}' ? '{' : t === '{close}' ? '}' : ''));
}
