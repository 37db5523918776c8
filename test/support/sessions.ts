// Shared by the managed-session tests: the fake agents under test/support, a wait for an
// outcome (never for a duration), and whether tmux is there for terminal sessions.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const FAKE_CLAUDE = fileURLToPath(new URL('./fake-claude.mjs', import.meta.url));
export const FAKE_CODEX = fileURLToPath(new URL('./fake-codex.mjs', import.meta.url));

/** Calls fn until ok holds of what it gives (at most ~10 s of tries), else fails naming what was awaited. */
export async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string, tries = 400): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < tries; i++) {
    last = await fn();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never saw ${what}; last: ${JSON.stringify(last)?.slice(0, 2000)}`);
}

export function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
