#!/usr/bin/env node
// A fake `codex` for token-api tests: `codex exec --json [--skip-git-repo-check] [-c k=v]
// [--dangerously-bypass-approvals-and-sandbox] [resume <thread>] [--] <prompt>` prints the JSON
// lines of Codex 0.171 as the real CLI does against a model (test/e2e-codex.test.ts):
// thread.started (a resumed thread keeps its id), turn.started, an agent_message item,
// turn.completed with usage (cached_input_tokens, cache_write_input_tokens, reasoning), exit 0.
// `RUN <cmd>` first shows a command_execution item (item.started, then item.completed with its
// output and exit code). `SLOW <n>` updates an item every 200 ms n times; SIGINT then exits 1
// without turn.completed. Not faked: real Codex's turn.completed usage on a resumed thread counts
// the whole thread, and a command its sandbox refused is shown as no item at all.
import { execFileSync } from 'node:child_process';
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
let n = 0;
const run = /^RUN (.+)$/.exec(prompt);
if (run) {
  const id = `item_${n++}`;
  const command = `/bin/bash -lc '${run[1]}'`;
  out({ type: 'item.started', item: { id, type: 'command_execution', command, aggregated_output: '', exit_code: null, status: 'in_progress' } });
  let output = '';
  let code = 0;
  try {
    output = execFileSync('/bin/sh', ['-c', run[1]], { encoding: 'utf8' });
  } catch (err) {
    output = `${err.stdout ?? ''}${err.stderr ?? ''}`;
    code = err.status ?? 1;
  }
  out({ type: 'item.completed', item: { id, type: 'command_execution', command, aggregated_output: output, exit_code: code, status: code === 0 ? 'completed' : 'failed' } });
}
const slow = /SLOW (\d+)/.exec(prompt);
let i = 0;
const finish = () => {
  out({ type: 'item.completed', item: { id: `item_${n}`, type: 'agent_message', text: `${resumed ? `resumed ${resumed}: ` : ''}echo: ${prompt}` } });
  out({ type: 'turn.completed', usage: { input_tokens: 20, cached_input_tokens: 0, cache_write_input_tokens: 0, output_tokens: 4, reasoning_output_tokens: 0 } });
};
if (!slow) finish();
else {
  const t = setInterval(() => {
    out({ type: 'item.updated', item: { id: `item_${n}`, type: 'agent_message', text: `chunk${i}` } });
    if (++i >= Number(slow[1])) {
      clearInterval(t);
      finish();
    }
  }, 200);
}
