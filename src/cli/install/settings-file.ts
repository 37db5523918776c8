// Reading and writing a person's settings file safely: refuse a read-only file, keep a
// timestamped backup of the original bytes, write a temporary file beside it and rename it
// over the original (through a symlink to its target), keeping the file's mode.
import { chmodSync, closeSync, copyFileSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export class InstallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InstallError';
  }
}

export interface SettingsText {
  /** The path given. */
  path: string;
  /** Where the bytes live (the target when `path` is a symlink). */
  realPath: string;
  exists: boolean;
  text: string;
  mode: number;
}

export function readSettingsText(path: string): SettingsText {
  if (!existsSync(path)) return { path, realPath: path, exists: false, text: '', mode: 0o644 };
  const realPath = lstatSync(path).isSymbolicLink() ? realpathSync(path) : path;
  const st = statSync(realPath);
  if (!st.isFile()) throw new InstallError(`${path} is not a file`);
  let text: string;
  try {
    text = readFileSync(realPath, 'utf8');
  } catch (err) {
    throw new InstallError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return { path, realPath, exists: true, text, mode: st.mode & 0o7777 };
}

/** A read-only settings file was made so on purpose: it is not ours to change. */
export function assertWritable(file: SettingsText): void {
  if (file.exists && (file.mode & 0o222) === 0) {
    throw new InstallError(`${file.path} is read-only; nothing was changed. Make it writable (chmod u+w '${file.path}') if token-api may edit it.`);
  }
}

function stamp(at: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}${p(at.getMonth() + 1)}${p(at.getDate())}-${p(at.getHours())}${p(at.getMinutes())}${p(at.getSeconds())}`;
}

/** Copies the original next to it as `<name>.token-api-backup-YYYYMMDD-HHMMSS`; returns its path. */
export function backupFile(file: SettingsText, at = new Date()): string | null {
  if (!file.exists) return null;
  let target = `${file.realPath}.token-api-backup-${stamp(at)}`;
  for (let n = 2; existsSync(target); n++) target = `${file.realPath}.token-api-backup-${stamp(at)}-${n}`;
  try {
    copyFileSync(file.realPath, target);
    chmodSync(target, file.mode);
  } catch (err) {
    throw new InstallError(`cannot write a backup of ${file.path} beside it (${(err as Error).message}); nothing was changed`);
  }
  return target;
}

/** Writes `text` to a temporary file beside the target, flushes it, and renames it into place. */
export function writeAtomically(file: SettingsText, text: string): void {
  const dir = dirname(file.realPath);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EEXIST' || e.code === 'ENOTDIR' ? `a part of ${dir} is a file, not a directory` : `cannot create ${dir} (${e.message})`;
    throw new InstallError(`cannot write ${file.path}: ${why}; nothing was changed`);
  }
  const tmp = join(dir, `.${basename(file.realPath)}.token-api-${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, 'w', file.mode);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(tmp, file.mode);
    renameSync(tmp, file.realPath);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // not created
    }
    throw new InstallError(`cannot write ${file.path}: ${(err as Error).message}; nothing was changed`);
  }
}
