// An instance's project, the word people know it by: the name of the git repository its
// working directory is in (the top folder of the work tree), or the last part of the
// directory when it is in none or is not on this machine (an agent on another computer).
// Each directory is looked up once (a few stat calls, walking up to the first .git).
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** The last part of a path, for / and \ alike ("C:\\src\\api" -> "api"); null for a root or nothing. */
export function lastPart(path: string | null | undefined): string | null {
  if (!path) return null;
  const parts = path.split(/[\\/]+/).filter(Boolean);
  const last = parts[parts.length - 1];
  return last && !/^[A-Za-z]:$/.test(last) ? last : null;
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The top folder of the git work tree holding `dir` (with a .git folder or file), or null. A
 * repository at the home folder (dotfiles) or the root names no project.
 */
function workTreeOf(dir: string, home: string): string | null {
  if (!exists(dir)) return null;
  for (let d = dir; d !== home && dirname(d) !== d; d = dirname(d)) {
    if (exists(join(d, '.git'))) return d;
  }
  return null;
}

export type ProjectOf = (workingDir: string | null | undefined) => string | null;

export function createProjectResolver(options: { maxEntries?: number; home?: string } = {}): ProjectOf {
  const max = options.maxEntries ?? 2000;
  const home = options.home ?? homedir();
  const cache = new Map<string, string | null>();
  return (workingDir) => {
    if (!workingDir) return null;
    const hit = cache.get(workingDir);
    if (hit !== undefined) return hit;
    const project = lastPart(workTreeOf(workingDir, home)) ?? lastPart(workingDir);
    if (cache.size >= max) cache.clear();
    cache.set(workingDir, project);
    return project;
  };
}
