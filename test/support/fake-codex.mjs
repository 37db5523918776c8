#!/usr/bin/env node
// A fake `codex` for token-api tests: `codex exec --json [--skip-git-repo-check] [resume <thread>]
// [--] <prompt>` prints the JSON lines of Codex 0.171 (thread.started, turn.started, an
// agent_message item, turn.completed with usage) and exits 0. A resumed thread keeps its id and
// says so in its answer. `SLOW <n>` updates an item every 200 ms n times; SIGINT then exits 1
// without turn.completed, as Codex does.
import { randomUUID } from 'node:crypto';

const argv = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
if (argv[0] !== 'exec' || !argv.includes('--json')) {
  process.stderr.write('fake codex: only `exec --json` is faked\n');
  process.exit(2);
}
const r = argv.indexOf('resume');
const resumed = r >= 0 ? argv[r + 1] : null;
const prompt = argv.at(-1);
const thread = resumed ?? randomUUID();
out({ type: 'thread.started', thread_id: thread });
out({ type: 'turn.started' });
process.on('SIGINT', () => process.exit(1));
const slow = /SLOW (\d+)/.exec(prompt);
let i = 0;
const finish = () => {
  out({ type: 'item.completed', item: { id: 'item_1', type: 'agent_message', text: `${resumed ? `resumed ${resumed}: ` : ''}echo: ${prompt}` } });
  out({ type: 'turn.completed', usage: { input_tokens: 20, cached_input_tokens: 0, output_tokens: 4, reasoning_output_tokens: 0 } });
};
if (!slow) finish();
else {
  const t = setInterval(() => {
    out({ type: 'item.updated', item: { id: 'item_1', type: 'agent_message', text: `chunk${i}` } });
    if (++i >= Number(slow[1])) {
      clearInterval(t);
      finish();
    }
  }, 200);
}
