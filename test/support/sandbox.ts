// Hostile environments for one child process, never for the machine: a directory made
// read-only, or a small tmpfs standing for a full disk, inside a private mount namespace
// (`unshare -m`, which needs root), so only that process sees them. Without root, a
// read-only directory is a chmod instead, and a full disk is not available (the caller skips).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { CLI } from './process.js';

/** tsx by path, so that a child started through sh and unshare still finds it. */
const TSX = new URL('../../node_modules/tsx/dist/esm/index.mjs', import.meta.url).href;

export const IS_ROOT = process.getuid?.() === 0;

let namespaces: boolean | undefined;
/** Whether this process may make private mount namespaces and mount in them. */
export function canUseMountNamespaces(): boolean {
  if (namespaces === undefined) {
    namespaces = IS_ROOT && spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs /mnt'], { stdio: 'ignore' }).status === 0;
  }
  return namespaces;
}

/** A command prefix that runs the rest with `dir` mounted read-only (root with namespaces only). */
export function readOnlyPrefix(dir: string): string[] {
  return ['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"', dir];
}

/** A command prefix that runs the rest with a tmpfs of `size` (such as "2m") mounted on `dir`, hiding what was there. */
export function tmpfsPrefix(dir: string, size: string): string[] {
  return ['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o "size=$1" tmpfs "$0" && shift && exec "$@"', dir, size];
}

/** The token-api command line (TypeScript through tsx) behind a prefix. */
export function cliCommand(prefix: string[], args: string[]): [string, string[]] {
  const cmd = [...prefix, process.execPath, '--import', TSX, CLI, ...args];
  return [cmd[0]!, cmd.slice(1)];
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCliIn(prefix: string[], args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const [file, argv] = cliCommand(prefix, args);
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface PrefixedServer {
  url: string;
  child: ChildProcess;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `token-api serve` behind a prefix, on a free port; resolves once it listens. */
export async function startServerIn(prefix: string[], home: string, extraArgs: string[] = []): Promise<PrefixedServer> {
  const [file, argv] = cliCommand(prefix, ['serve', '--home', home, '--port', '0', '--log-level', 'warn', ...extraArgs]);
  const child = spawn(file, argv, { env: { ...process.env, CODEX_HOME: `${home}/codex-home` }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stdout!.resume();
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${err}`)), 60_000);
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        child.stderr!.off('data', onData);
        resolve(m[1]!);
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${err}`));
    });
  });
  return {
    url,
    child,
    stderr: () => err,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        // A server that does not stop is killed, and reported as such (null).
        const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', (code) => {
          clearTimeout(kill);
          resolve(code);
        });
        child.kill(signal);
      });
    },
  };
}

/** A stack frame line, as a stack trace shows it. */
export const STACK_FRAME = /^\s+at .+(:\d+:\d+\)?|\(native\)|\(<anonymous>\))$/m;
