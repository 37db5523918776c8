// The load generator, run as its own process so that it never shares the server's event
// loop: autocannon with a rotating set of request bodies. Input: one JSON argument;
// output: one JSON line with throughput and latency percentiles.
import autocannon from 'autocannon';

interface LoadArgs {
  url: string;
  method?: string;
  connections: number;
  durationS: number;
  overallRate?: number;
  bodies?: string[];
  paths?: string[];
  headers?: Record<string, string>;
}

const args = JSON.parse(process.argv[2] ?? '{}') as LoadArgs;
let i = 0;
const instance = autocannon(
  {
    url: args.url,
    method: (args.method ?? 'GET') as 'GET',
    connections: args.connections,
    duration: args.durationS,
    overallRate: args.overallRate,
    headers: { 'content-type': 'application/json', ...(args.headers ?? {}) },
    requests: [
      {
        setupRequest: (req: autocannon.Request) => {
          const n = i++;
          if (args.bodies && args.bodies.length > 0) req.body = args.bodies[n % args.bodies.length];
          if (args.paths && args.paths.length > 0) req.path = args.paths[n % args.paths.length];
          return req;
        },
      },
    ],
  },
  (err, result) => {
    if (err) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    process.stdout.write(
      `${JSON.stringify({
        rps: result.requests.average,
        total: result.requests.total,
        p50_ms: result.latency.p50,
        p90_ms: result.latency.p90,
        p99_ms: result.latency.p99,
        max_ms: result.latency.max,
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
      })}\n`,
    );
  },
);
process.once('SIGINT', () => instance.stop());
