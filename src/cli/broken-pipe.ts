// `token-api hooks status | head -1`: once the reader of stdout (or stderr) has gone, a write
// fails with EPIPE, an 'error' event nobody listens to, and Node prints a stack trace. Every
// command ends quietly instead, as command-line tools do when their output is cut short.
export function endQuietlyOnBrokenPipe(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
}
