#!/usr/bin/env node
// The `token-api` command: runs the compiled CLI (built by `npm install` / `npm run build`).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('token-api: the compiled code is missing (dist/cli/main.js); run `npm install` or `npm run build` in the token-api folder.\n');
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
// Everything should be closed by now; do not let a stray handle keep a stopped server alive.
setTimeout(() => process.exit(process.exitCode ?? 0), 3000).unref();
