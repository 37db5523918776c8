// The shape every benchmark reports, gathered by bench/run.ts into one table and
// bench/results.json. A benchmark file is `bench/<area>.bench.ts` exporting `run`.
export interface BenchResult {
  /** What was measured, e.g. "POST /api/hooks, 50 concurrent senders". */
  metric: string;
  p50_ms?: number;
  p99_ms?: number;
  /** Operations per second, or MB/s where `unit` says so. */
  throughput?: number;
  unit?: string;
  /** The goal in words, e.g. ">= 0.45 of bare node:http". */
  target: string;
  /** Whether the figure meets the target; 'info' when there is no target to meet. */
  verdict: 'pass' | 'fail' | 'info';
  /** Ratios and anything else worth printing. */
  notes?: string;
  /** Raw figures of every run, for results.json. */
  runs?: unknown[];
}

export interface BenchOptions {
  quick: boolean;
  /** How many times each measurement is repeated (the median is reported). */
  repeats: number;
  log: (line: string) => void;
}

export type BenchModule = { run(opts: BenchOptions): Promise<BenchResult[]> };
