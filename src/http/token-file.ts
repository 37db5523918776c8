// The API token callers beyond loopback must present: a random secret in the data directory
// (`$TOKEN_API_HOME/token`), created on first start with mode 0600; `token-api token` prints it.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export class TokenFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenFileError';
  }
}

export interface TokenFile {
  token: string;
  created: boolean;
  /** Set when the file was readable by others and was made private (0600) again. */
  repairedMode: boolean;
}

const TOKEN_SHAPE = /^[A-Za-z0-9._~+/=-]{16,512}$/;

/** Reads the token file, creating it (0600) when missing. */
export function ensureTokenFile(file: string): TokenFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new TokenFileError(`cannot read the token file ${file}: ${(err as Error).message}`);
    const token = randomBytes(32).toString('base64url');
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      // Another process created it first: use theirs.
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return ensureTokenFile(file);
      throw new TokenFileError(`cannot create the token file ${file}: ${(e as Error).message}`);
    }
    return { token, created: true, repairedMode: false };
  }
  const token = text.trim();
  if (!TOKEN_SHAPE.test(token)) {
    throw new TokenFileError(`the token file ${file} does not hold a token (16 to 512 characters, no spaces); delete it and a new one is made on start`);
  }
  let repairedMode = false;
  if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) {
    chmodSync(file, 0o600);
    repairedMode = true;
  }
  return { token, created: false, repairedMode };
}
