// How much memory the server's heap may hold beyond what is live. Under a steady stream of hook
// events V8 lets the heap reach several times what is live before it collects (about 200 MB
// resident for some 25 MB of live objects): two young-generation semi-spaces of 16 MB, and an
// old generation allowed to double. A server that runs all day next to the agents is better off
// collecting sooner, at a few percent of CPU:
// - SERVER_NODE_FLAGS go on the node command lines token-api writes (`npm start`, the service
//   definitions): semi-spaces of 4 MB (V8 sizes them when the process starts, so only a flag can);
// - `serve` asks V8 to grow the old generation by at most HEAP_GROWING_PERCENT over what is live
//   (read at each collection, so setting it once the process runs takes effect). A
//   `--heap-growing-percent` given to node itself wins.
import { setFlagsFromString } from 'node:v8';

export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

export const HEAP_GROWING_PERCENT = 25;

export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv): void {
  if (execArgv.some((a) => /^--heap[-_]growing[-_]percent/.test(a))) return;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
