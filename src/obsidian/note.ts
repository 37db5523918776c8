// What a note says about itself: its YAML front matter (parsed with the yaml package) and its
// tags, from the front matter (`tags`/`tag`, a list or a comma- or space-separated string) and
// from `#tag` in the text outside code. Tags are kept without `#`, as written; matching ignores case.
import { parse } from 'yaml';

export interface NoteFacts {
  frontmatter: Record<string, unknown> | null;
  /** The text after the front matter. */
  body: string;
  tags: string[];
}

const FRONT = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;
// A tag: after the start of a line or a space, # then letters, digits, _ - / with at least one non-digit.
const INLINE_TAG = /(?:^|[\s(])#([\p{L}\p{N}_\-/]*[\p{L}_\-/][\p{L}\p{N}_\-/]*)/gu;

function listOf(v: unknown): string[] {
  if (Array.isArray(v)) return v.flatMap(listOf);
  if (typeof v === 'string') return v.split(/[,\s]+/).filter(Boolean);
  return [];
}

export function noteFacts(text: string): NoteFacts {
  let frontmatter: Record<string, unknown> | null = null;
  let body = text;
  const m = FRONT.exec(text);
  if (m) {
    body = text.slice(m[0].length);
    try {
      const v = parse(m[1]!) as unknown;
      frontmatter = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
    } catch {
      frontmatter = null;
    }
  }
  const tags = new Map<string, string>();
  const add = (t: string) => {
    const tag = t.replace(/^#/, '').replace(/\/+$/, '');
    if (tag && !tags.has(tag.toLowerCase())) tags.set(tag.toLowerCase(), tag);
  };
  for (const t of listOf(frontmatter?.tags ?? frontmatter?.tag)) add(t);
  // Code (fenced blocks and inline spans) holds no tags.
  const prose = body.replace(/^(```|~~~)[\s\S]*?^\1/gm, '').replace(/`[^`\n]*`/g, '');
  for (const match of prose.matchAll(INLINE_TAG)) add(match[1]!);
  return { frontmatter, body, tags: [...tags.values()] };
}

/** Whether a note's tags hold `tag` or a tag nested under it (`project` matches `project/api`). */
export function hasTag(tags: readonly string[], tag: string): boolean {
  const want = tag.replace(/^#/, '').toLowerCase();
  return tags.some((t) => {
    const l = t.toLowerCase();
    return l === want || l.startsWith(`${want}/`);
  });
}
