// Whether a local process still runs: signal 0 checks without sending anything (EPERM: it runs
// under another user). The process monitor and the expiry timer ask it; tests pass their own.
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
