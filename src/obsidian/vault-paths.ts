// Paths inside the vault, and only there. A path from a request is relative to the vault's
// folder; absolute paths, drive letters, `..`, NUL and backslashes are refused before the disk
// is looked at, and what the path leads to, symbolic links followed, must still be inside the
// vault's real folder. Refusals are DomainErrors on the field `path`.
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { DomainError } from '../lib/domain-error.js';

const refuse = (why: string) => new DomainError('invalid', `the path ${why}; expected a path inside the vault, such as Projects/api.md`, 'path');

/** The vault's real folder; a DomainError when none is configured or it is not there. */
export function vaultRoot(vault: string | null): string {
  if (!vault) throw new DomainError('not_installed', 'no vault is set up: set obsidian.vault in the config file to the folder of your Obsidian vault');
  let root: string;
  try {
    root = realpathSync(vault);
  } catch (err) {
    throw new DomainError('not_installed', `the vault folder ${vault} (obsidian.vault) cannot be read: ${(err as Error).message}`);
  }
  if (!statSync(root).isDirectory()) throw new DomainError('not_installed', `the vault (obsidian.vault) ${vault} is not a folder`);
  return root;
}

/** Whether `real` (a real path) is the root or inside it. */
export function isInside(root: string, real: string): boolean {
  const rel = relative(root, real);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The checked parts of a path from a request (a note's `.md` added when it names no extension). */
export function cleanPath(path: string): string {
  if (path.includes('\0')) throw refuse('holds a NUL character');
  if (path.includes('\\')) throw refuse('holds a backslash (use /)');
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path) || isAbsolute(path)) throw refuse(`${JSON.stringify(path.slice(0, 100))} is absolute`);
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0) throw refuse('is empty');
  if (parts.includes('..')) throw refuse(`${JSON.stringify(path.slice(0, 100))} climbs out with ..`);
  const last = parts[parts.length - 1]!;
  if (!/\.[A-Za-z0-9]{1,8}$/.test(last)) parts[parts.length - 1] = `${last}.md`;
  return parts.join('/');
}

/** The real file a request's path names inside the vault; a DomainError when it leads out or is missing. */
export function notePath(root: string, path: string): { real: string; relative: string } {
  const clean = cleanPath(path);
  let real: string;
  try {
    real = realpathSync(join(root, ...clean.split('/')));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') throw new DomainError('not_found', `no note ${clean} in the vault`, 'path');
    throw err;
  }
  if (!isInside(root, real)) throw refuse(`${JSON.stringify(clean)} leads outside the vault (through a symbolic link)`);
  if (!statSync(real).isFile()) throw refuse(`${JSON.stringify(clean)} is a folder, not a note`);
  return { real, relative: clean };
}
