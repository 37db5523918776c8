// Where transcripts live: Claude Code's `<dir>/projects/**/*.jsonl` for each configured
// Claude directory, and Codex's `<dir>/sessions/**/*.jsonl`. Only files under these roots
// are ever read, whoever names them (a hook payload's transcript_path included).
import { readdir, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { UsageSource } from './types.js';

export interface TranscriptRoots {
  claudeDirs: readonly string[];
  codexDirs: readonly string[];
}

export interface TranscriptFile {
  path: string;
  source: UsageSource;
  size: number;
  mtimeMs: number;
}

interface Root {
  dir: string;
  source: UsageSource;
}

export function rootsOf(r: TranscriptRoots): Root[] {
  const out: Root[] = [];
  const seen = new Set<string>();
  for (const [dirs, sub, source] of [
    [r.claudeDirs, 'projects', 'claude'],
    [r.codexDirs, 'sessions', 'codex'],
  ] as const) {
    for (const d of dirs) {
      const dir = join(resolve(d), sub);
      if (seen.has(dir)) continue;
      seen.add(dir);
      out.push({ dir, source });
    }
  }
  return out;
}

/** Which parser a path needs, or null when it is not a transcript under a configured root. */
export function sourceOfPath(r: TranscriptRoots, path: string): UsageSource | null {
  const p = resolve(path);
  if (!p.endsWith('.jsonl')) return null;
  for (const root of rootsOf(r)) if (p.startsWith(root.dir + sep)) return root.source;
  return null;
}

async function walk(dir: string, source: UsageSource, out: TranscriptFile[], depth: number): Promise<void> {
  if (depth > 12) return;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, source, out, depth + 1);
    else if (e.isFile() && e.name.endsWith('.jsonl')) {
      try {
        const st = await stat(p);
        out.push({ path: p, source, size: st.size, mtimeMs: Math.trunc(st.mtimeMs) });
      } catch {
        // removed meanwhile
      }
    }
  }
}

/** Every transcript file under the roots, with its size and modification time. */
export async function discoverTranscripts(r: TranscriptRoots): Promise<TranscriptFile[]> {
  const out: TranscriptFile[] = [];
  for (const root of rootsOf(r)) await walk(root.dir, root.source, out, 0);
  return out;
}
