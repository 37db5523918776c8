// Finds an agent's executable before a session is started, so a missing one is a clear answer
// ("install Claude Code ...") rather than a child that dies at once.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** The executable's path: `bin` itself when it is a path, else the first match on PATH; null if none. */
export function findExecutable(bin: string, path: string = process.env.PATH ?? ''): string | null {
  const candidates = isAbsolute(bin) || bin.includes('/') ? [bin] : path.split(delimiter).filter(Boolean).map((dir) => join(dir, bin));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      if (statSync(c).isFile()) return c;
    } catch {
      // not here
    }
  }
  return null;
}
