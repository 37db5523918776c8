// A stand-in for Claude Code's native `type: "http"` hooks, run as its own process by
// bench/hooks.bench.ts: POSTs hook JSON one event at a time (keep-alive, as Node's fetch
// does) and prints each event's latency in milliseconds as a JSON array.
//   node bench/http-hook-client.mjs URL COUNT
import http from 'node:http';

const [url, countArg] = process.argv.slice(2);
const count = Number(countArg);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const target = new URL(url);

function post(body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-token-api-ssh-client': '', 'x-token-api-hook': '1' },
      },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode < 300 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const latencies = [];
for (let i = 0; i < count; i++) {
  const body = JSON.stringify({
    session_id: 'bench-native',
    transcript_path: '/home/u/.claude/projects/p/bench-native.jsonl',
    cwd: '/home/u/project',
    hook_event_name: i % 2 === 0 ? 'PreToolUse' : 'PostToolUse',
    tool_name: 'Bash',
    tool_input: { command: `npm test -- --grep case-${i}`, description: 'Run the tests' },
  });
  const t = performance.now();
  await post(body);
  latencies.push(performance.now() - t);
}
agent.destroy();
process.stdout.write(JSON.stringify(latencies));
