// The vault read straight from its folder (`obsidian.vault`), without Obsidian running: a note
// by path, full-text search, notes by tag, the tags, recently changed notes, and the daily note
// (named as Obsidian's Daily notes plugin names it: `.obsidian/daily-notes.json` gives its
// folder and moment-style format, read with dayjs). Every walk stays inside the vault: hidden
// folders (.obsidian, .trash, .git) are skipped, and a symbolic link is followed only when its
// target is inside the vault too. Walks are bounded; notes larger than a limit are not searched.
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import dayjs from 'dayjs';
import advancedFormat from 'dayjs/plugin/advancedFormat.js';
import isoWeek from 'dayjs/plugin/isoWeek.js';
import weekOfYear from 'dayjs/plugin/weekOfYear.js';
import weekYear from 'dayjs/plugin/weekYear.js';
import type { ObsidianSettings } from '../config/obsidian.js';
import { DomainError } from '../lib/domain-error.js';
import { hasTag, noteFacts } from './note.js';
import { isInside, notePath, vaultRoot } from './vault-paths.js';

dayjs.extend(advancedFormat);
dayjs.extend(weekOfYear);
dayjs.extend(isoWeek);
dayjs.extend(weekYear);

/** The most notes a walk looks at, and the largest note it reads. */
const MAX_NOTES = 50_000;
const MAX_NOTE_BYTES = 4 * 1024 * 1024;

export interface NoteFile {
  /** Relative to the vault, with `/`. */
  path: string;
  real: string;
  size: number;
  mtimeMs: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Every note (`.md`) in the vault, bounded, never outside it. */
function notesOf(root: string): NoteFile[] {
  const out: NoteFile[] = [];
  const seen = new Set<string>();
  const walk = (dir: string, rel: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      if (out.length >= MAX_NOTES) return;
      if (name.startsWith('.')) continue;
      const full = join(dir, name);
      let real: string;
      try {
        real = realpathSync(full);
      } catch {
        continue;
      }
      if (!isInside(root, real) || seen.has(real)) continue;
      seen.add(real);
      const st = statSync(real, { throwIfNoEntry: false });
      if (!st) continue;
      const path = rel ? `${rel}/${name}` : name;
      if (st.isDirectory()) walk(real, path);
      else if (st.isFile() && name.toLowerCase().endsWith('.md')) out.push({ path, real, size: st.size, mtimeMs: st.mtimeMs });
    }
  };
  walk(root, '');
  return out;
}

function readNote(f: NoteFile): string | null {
  if (f.size > MAX_NOTE_BYTES) return null;
  try {
    return readFileSync(f.real, 'utf8');
  } catch {
    return null;
  }
}

const titleOf = (path: string) => path.replace(/^.*\//, '').replace(/\.md$/i, '');

function summary(f: NoteFile, tags?: string[]) {
  return { path: f.path, title: titleOf(f.path), size: f.size, modified_at: iso(f.mtimeMs), ...(tags ? { tags } : {}) };
}

export function createVault(settings: () => ObsidianSettings, now: () => number) {
  const root = () => vaultRoot(settings().vault);

  /** One note: its text, front matter and tags. */
  function note(path: string) {
    const { real, relative } = notePath(root(), path);
    const st = statSync(real);
    if (st.size > MAX_NOTE_BYTES) throw new DomainError('invalid', `the note ${relative} is ${st.size} bytes, more than the ${MAX_NOTE_BYTES} token-api reads`, 'path');
    const content = readFileSync(real, 'utf8');
    const facts = noteFacts(content);
    return { path: relative, title: titleOf(relative), content, frontmatter: facts.frontmatter, tags: facts.tags, size: st.size, modified_at: iso(st.mtimeMs) };
  }

  return {
    note,

    /** Notes whose text or path holds every word of `q` (case ignored), newest first, with the lines that match. */
    search(q: string, limit: number) {
      const words = q.toLowerCase().split(/\s+/).filter(Boolean);
      const hits: { note: NoteFile; matches: { line: number; text: string }[] }[] = [];
      let searched = 0;
      for (const f of notesOf(root()).sort((a, b) => b.mtimeMs - a.mtimeMs)) {
        const text = readNote(f);
        if (text === null) continue;
        searched += 1;
        const lower = text.toLowerCase();
        if (!words.every((w) => lower.includes(w) || f.path.toLowerCase().includes(w))) continue;
        const matches: { line: number; text: string }[] = [];
        text.split('\n').forEach((line, i) => {
          if (matches.length < 5 && words.some((w) => line.toLowerCase().includes(w))) matches.push({ line: i + 1, text: line.trim().slice(0, 300) });
        });
        hits.push({ note: f, matches });
        if (hits.length >= limit) break;
      }
      return { query: q, searched, count: hits.length, notes: hits.map((h) => ({ ...summary(h.note), matches: h.matches })) };
    },

    /** Notes tagged `tag` (or a tag nested under it), newest first. */
    tagged(tag: string, limit: number) {
      const notes = [];
      for (const f of notesOf(root()).sort((a, b) => b.mtimeMs - a.mtimeMs)) {
        const text = readNote(f);
        if (text === null) continue;
        const { tags } = noteFacts(text);
        if (!hasTag(tags, tag)) continue;
        notes.push(summary(f, tags));
        if (notes.length >= limit) break;
      }
      return { tag: tag.replace(/^#/, ''), count: notes.length, notes };
    },

    /** Every tag in the vault with the number of notes that carry it, most used first. */
    tags() {
      const counts = new Map<string, { tag: string; notes: number }>();
      for (const f of notesOf(root())) {
        const text = readNote(f);
        if (text === null) continue;
        for (const t of noteFacts(text).tags) {
          const c = counts.get(t.toLowerCase()) ?? { tag: t, notes: 0 };
          c.notes += 1;
          counts.set(t.toLowerCase(), c);
        }
      }
      const tags = [...counts.values()].sort((a, b) => b.notes - a.notes || a.tag.localeCompare(b.tag));
      return { count: tags.length, tags };
    },

    /** Notes changed most recently (by the file's time), optionally only since a time. */
    recent(limit: number, since?: number) {
      const notes = notesOf(root())
        .filter((f) => since === undefined || f.mtimeMs >= since)
        .sort((a, b) => b.mtimeMs - a.mtimeMs || a.path.localeCompare(b.path))
        .slice(0, limit)
        .map((f) => summary(f));
      return { count: notes.length, notes };
    },

    /** The daily note of a day (default today, in this machine's zone), as the Daily notes plugin names it. */
    daily(date?: string) {
      const r = root();
      let folder = '';
      let format = 'YYYY-MM-DD';
      try {
        const conf = JSON.parse(readFileSync(join(r, '.obsidian', 'daily-notes.json'), 'utf8')) as { folder?: unknown; format?: unknown };
        if (typeof conf.folder === 'string') folder = conf.folder.replace(/^\/+|\/+$/g, '');
        if (typeof conf.format === 'string' && conf.format.trim()) format = conf.format.trim();
      } catch {
        // No settings of the Daily notes plugin: its defaults.
      }
      const day = dayjs(date ?? now());
      const name = `${day.format(format)}.md`;
      const path = folder ? `${folder}/${name}` : name;
      try {
        return { date: day.format('YYYY-MM-DD'), ...note(path) };
      } catch (err) {
        if (err instanceof DomainError && err.kind === 'not_found') throw new DomainError('not_found', `no daily note for ${day.format('YYYY-MM-DD')}: ${path} is not in the vault`, 'date');
        throw err;
      }
    },
  };
}

export type Vault = ReturnType<typeof createVault>;
