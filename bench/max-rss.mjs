// Loaded with `node --import`: when the process exits, writes its peak resident set size
// (bytes) to the file named by BENCH_RSS_FILE. Measures token-api and ccusage alike.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  const file = process.env.BENCH_RSS_FILE;
  if (file) writeFileSync(file, String(process.resourceUsage().maxRSS * 1024));
});
