// What else must be told when the server stops: parts that hold their own connections (the
// WebSocket feed tells its clients it is going away) register a closer here; startServer's
// close() runs them all, each bounded in time, once the server has stopped accepting.
export interface Closer {
  name: string;
  close(): Promise<void> | void;
}

export interface Closers {
  /** Adds a closer; the returned function takes it out again. */
  add(closer: Closer): () => void;
  /** Runs every closer at once, each for at most timeoutMs; returns what failed or overran. */
  closeAll(timeoutMs: number): Promise<string[]>;
}

export function createClosers(): Closers {
  const list = new Set<Closer>();
  return {
    add(closer) {
      list.add(closer);
      return () => list.delete(closer);
    },
    async closeAll(timeoutMs) {
      const closers = [...list];
      list.clear();
      const results = await Promise.all(
        closers.map(async (c): Promise<string | null> => {
          let timer: NodeJS.Timeout | undefined;
          const overran = new Promise<string>((resolve) => {
            timer = setTimeout(() => resolve(`${c.name} did not close within ${timeoutMs} ms`), Math.max(0, timeoutMs));
          });
          try {
            return await Promise.race([Promise.resolve(c.close()).then(() => null), overran]);
          } catch (err) {
            return `${c.name} failed to close: ${(err as Error).message}`;
          } finally {
            clearTimeout(timer);
          }
        }),
      );
      return results.filter((r): r is string => r !== null);
    },
  };
}
