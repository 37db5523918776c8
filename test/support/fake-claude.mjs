#!/usr/bin/env node
// A fake `claude` for token-api tests, speaking the stream-json protocol of Claude Code 2.1.332:
// with -p it answers initialize, prints init/assistant/result per user line (SLOW <n> streams until
// an interrupt; TOOL: <cmd> asks over stdio when allowed); without -p it draws a terminal prompt.
// FLOOD <bytes/s> <s> streams typing deltas; RATELIMIT [resetsAt] reports a rate limit;
// FAKE_CLAUDE_MUTE=1 never answers the initialize request; FAKE_CLAUDE_CRASH=<code> exits mid-turn; in a terminal, EXIT <n> exits with n; FAKE_CLAUDE_ENV_FILE=<path> writes TOKEN_API_SESSION there;
// FAKE_CLAUDE_HOOK=<script> runs that hook script as Claude Code would for SessionStart (at start, and for /clear, which takes a new session id).
import readline from 'node:readline';
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';

const argv = process.argv.slice(2);
const opt = (name) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const has = (name) => argv.includes(name);
let sessionId = opt('--session-id') ?? opt('--resume') ?? randomUUID();
const stdioPerms = opt('--permission-prompt-tool') === 'stdio';
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
if (process.env.FAKE_CLAUDE_ENV_FILE) {
  // Written whole, then renamed into place: a test that sees the file never reads half of it.
  const { renameSync, writeFileSync } = await import('node:fs');
  const file = process.env.FAKE_CLAUDE_ENV_FILE;
  writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify({ token_api_session: process.env.TOKEN_API_SESSION ?? null, claude_config_dir: process.env.CLAUDE_CONFIG_DIR ?? null, cwd: process.cwd(), args: argv, pid: process.pid }));
  renameSync(`${file}.${process.pid}.tmp`, file);
}

/** Runs the hook script (FAKE_CLAUDE_HOOK) with the event's JSON on stdin, as Claude Code does, and waits for it. */
function hook(event, fields) {
  if (!process.env.FAKE_CLAUDE_HOOK) return;
  const body = JSON.stringify({ session_id: sessionId, hook_event_name: event, cwd: process.cwd(), ...fields });
  execFileSync('sh', [process.env.FAKE_CLAUDE_HOOK, event], { input: body, stdio: ['pipe', 'ignore', 'inherit'] });
}

if (!has('-p') && !has('--print')) {
  // A folder not trusted yet (marked by .fake-untrusted, as Claude Code keeps trust per folder)
  // first gets Claude Code's trust question, drawn as the real one is; trusting it is remembered.
  const fs = await import('node:fs');
  if (fs.existsSync('.fake-untrusted') && !fs.existsSync('.fake-trusted')) trustQuestion(() => (fs.writeFileSync('.fake-trusted', ''), terminal()));
  else terminal();
}
else headless();

function headless() {
  if (opt('--input-format') !== 'stream-json') {
    // One prompt, from stdin (or the last argument), one JSON result, like `claude -p --output-format json`.
    let text = '';
    process.stdin.on('data', (d) => (text += d));
    process.stdin.on('end', () => {
      const prompt = text || argv.at(-1);
      if (process.env.FAKE_CLAUDE_CRASH) { process.stderr.write('fake crash\n'); process.exit(Number(process.env.FAKE_CLAUDE_CRASH)); }
      out({ type: 'result', subtype: 'success', is_error: false, result: 'echo: ' + prompt, session_id: sessionId, usage: { input_tokens: 10, output_tokens: 5 }, total_cost_usd: 0.0001, config_dir: process.env.CLAUDE_CONFIG_DIR ?? null });
    });
    return;
  }
  const queue = [];
  const pending = new Map(); // request_id -> resolve (can_use_tool answers)
  let turn = null; // { abort: AbortController }
  let cost = 0;
  hook('SessionStart', { source: opt('--resume') ? 'resume' : 'startup' });
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    let m;
    try { m = JSON.parse(line); } catch { process.stderr.write(`Error parsing streaming input line (type=unknown, ${line.length} chars): SyntaxError\n`); process.exit(1); }
    if (m.type === 'control_request') {
      const r = m.request ?? {};
      if (r.subtype === 'initialize' && process.env.FAKE_CLAUDE_MUTE) return; // wedged: never answers
      if (r.subtype === 'initialize') return out({ type: 'control_response', response: { subtype: 'success', request_id: m.request_id, response: { pid: process.pid, commands: [], current_permission_mode: opt('--permission-mode') ?? 'default' } } });
      if (r.subtype === 'interrupt') { const still = queue.map((q) => q.uuid).filter(Boolean); turn?.abort.abort(); return out({ type: 'control_response', response: { subtype: 'success', request_id: m.request_id, response: { still_queued: still } } }); }
      return out({ type: 'control_response', response: { subtype: 'error', request_id: m.request_id, error: `Unsupported control request subtype: ${r.subtype}` } });
    }
    if (m.type === 'control_response') { pending.get(m.response?.request_id)?.(m.response?.response); pending.delete(m.response?.request_id); return; }
    if (m.type === 'user') { queue.push(m); if (!turn) drain(); }
  });
  rl.on('close', async () => { while (turn) await sleep(10); process.exit(0); });

  async function drain() {
    while (queue.length) {
      const m = queue.shift();
      turn = { abort: new AbortController() };
      await runTurn(m, turn.abort.signal);
      turn = null;
    }
  }
  async function runTurn(m, signal) {
    const text = typeof m.message.content === 'string' ? m.message.content : m.message.content.map((b) => b.text ?? '').join('');
    const base = { parent_tool_use_id: null, session_id: sessionId };
    const usage = { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    out({ type: 'system', subtype: 'init', cwd: process.cwd(), session_id: sessionId, permissionMode: opt('--permission-mode') ?? 'default', claude_code_version: 'fake', uuid: randomUUID() });
    const msg = (content) => out({ type: 'assistant', message: { id: 'msg_' + randomUUID(), type: 'message', role: 'assistant', model: 'fake', content, stop_reason: null, usage }, ...base, uuid: randomUUID() });
    const result = (extra) => { cost += 0.0001; out({ type: 'result', subtype: 'success', is_error: false, num_turns: 1, result: '', session_id: sessionId, total_cost_usd: cost, usage, uuid: randomUUID(), ...extra }); };
    if (text === '/clear') {
      // A new conversation in the same process, under a new session id.
      sessionId = randomUUID();
      hook('SessionStart', { source: 'clear' });
      return result({ result: 'cleared', session_id: sessionId });
    }
    const limited = /RATELIMIT ?(\d+)?/.exec(text);
    if (limited) {
      // As Claude Code reports a rejected request: the event (subscription logins), the synthetic error, a 429 result.
      if (limited[1]) out({ type: 'rate_limit_event', rate_limit_info: { status: 'rejected', resetsAt: Number(limited[1]), rateLimitType: 'five_hour' }, session_id: sessionId, uuid: randomUUID() });
      out({ type: 'assistant', error: 'rate_limit', message: { id: 'msg_' + randomUUID(), role: 'assistant', model: '<synthetic>', content: [{ type: 'text', text: "API Error: Request rejected (429) · This request would exceed your account's rate limit." }] }, ...base, uuid: randomUUID() });
      return result({ subtype: 'success', is_error: true, terminal_reason: 'api_error', api_error_status: 429 });
    }
    const flood = /FLOOD (\d+) (\d+)/.exec(text);
    if (flood) {
      // <bytes per second> <seconds> of typing (stream_event deltas), 50 lines a second, numbered.
      const size = Math.max(1, Math.round(Number(flood[1]) / 50));
      const lines = Number(flood[2]) * 50;
      for (let i = 0; i < lines && !signal.aborted; i++) {
        out({ type: 'stream_event', event: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `${i}:`.padEnd(size, 'x') } }, session_id: sessionId, uuid: randomUUID() });
        await sleep(20);
      }
      msg([{ type: 'text', text: `flooded ${lines}` }]);
      return result({ result: `flooded ${lines}` });
    }
    const slow = /SLOW (\d+)/.exec(text);
    if (slow) {
      let said = '';
      for (let i = 0; i < Number(slow[1]) && !signal.aborted; i++) { said += `chunk${i} `; await Promise.race([sleep(200), new Promise((r) => signal.addEventListener('abort', r, { once: true }))]); }
      if (signal.aborted) {
        msg([{ type: 'text', text: said }]);
        out({ type: 'user', message: { role: 'user', content: [{ type: 'text', text: '[Request interrupted by user]' }] }, ...base, uuid: randomUUID() });
        return result({ subtype: 'error_during_execution', is_error: true, terminal_reason: 'aborted_streaming', usage: { ...usage, input_tokens: 0, output_tokens: 0 } });
      }
      msg([{ type: 'text', text: said }]);
      return result({ result: said });
    }
    const tool = /TOOL: (.*)$/s.exec(text);
    if (tool) {
      const id = 'toolu_' + randomUUID().slice(0, 8);
      const input = { command: tool[1], description: 'fake' };
      msg([{ type: 'tool_use', id, name: 'Bash', input }]);
      let decision = { behavior: 'deny', message: 'no permission host' };
      if (stdioPerms) {
        const request_id = randomUUID();
        out({ type: 'control_request', request_id, request: { subtype: 'can_use_tool', tool_name: 'Bash', input, tool_use_id: id } });
        decision = await new Promise((res) => { pending.set(request_id, res); signal.addEventListener('abort', () => { out({ type: 'control_cancel_request', request_id }); res({ behavior: 'deny', message: 'interrupted' }); }, { once: true }); });
      }
      const ok = decision?.behavior === 'allow';
      out({ type: 'user', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: ok ? 'ran: ' + input.command : decision.message, is_error: !ok }] }, ...base, uuid: randomUUID() });
      msg([{ type: 'text', text: ok ? 'tool ran' : 'tool denied' }]);
      return result({ result: ok ? 'tool ran' : 'tool denied', permission_denials: ok ? [] : [{ tool_name: 'Bash', tool_use_id: id, tool_input: input }] });
    }
    if (process.env.FAKE_CLAUDE_CRASH) process.exit(Number(process.env.FAKE_CLAUDE_CRASH));
    msg([{ type: 'text', text: 'echo: ' + text }]);
    result({ result: 'echo: ' + text });
  }
}

function trustQuestion(trusted) {
  const w = (s) => process.stdout.write(s);
  let choice = 0;
  const draw = () => {
    w('\x1b[2J\x1b[H' + '─'.repeat(60) + '\r\n Accessing workspace:\r\n\r\n ' + process.cwd() + '\r\n\r\n');
    w(' Quick safety check: Is this a project you created or one you trust? (Like your own code, a\r\n well-known open source project, or work from your team). If not, take a moment to review what\'s in\r\n this folder first.\r\n\r\n');
    w(" Claude Code'll be able to read, edit, and execute files here.\r\n\r\n Security guide\r\n\r\n");
    w((choice === 0 ? ' ❯ ' : '   ') + 'No, exit\r\n' + (choice === 1 ? ' ❯ ' : '   ') + 'Yes, I trust this folder\r\n\r\n Enter to confirm · Esc to cancel\r\n');
  };
  draw();
  process.stdin.setRawMode?.(true);
  const onData = (buf) => {
    // Keys may come several to a read: arrows move the choice, Enter confirms it, anything
    // else (pasted text) is ignored, as the menu does.
    for (const key of buf.toString('utf8').match(/\x1b\[[AB]|\r|[^]/g) ?? []) {
      if (key === '\x1b[A' || key === '\x1b[B') { choice = 1 - choice; draw(); continue; }
      if (key !== '\r') continue;
      if (choice === 0) process.exit(1);
      process.stdin.off('data', onData);
      return trusted();
    }
  };
  process.stdin.on('data', onData);
}

function terminal() {
  // Draws a prompt like Claude Code's; Enter submits; Esc interrupts a "SLOW" answer.
  const w = (s) => process.stdout.write(s);
  let line = '';
  let busy = null;
  const prompt = () => w('\r\n\x1b[2m────────\x1b[0m\r\n❯ ');
  w('\x1b[2J\x1b[H fake Claude Code · ' + sessionId + '\r\n');
  prompt();
  process.stdin.setRawMode?.(true);
  process.stdin.on('data', (buf) => {
    const s = buf.toString('utf8').replace(/\x1b\[200~|\x1b\[201~/g, '');
    if (s === '\x1b') { if (busy) { clearInterval(busy); busy = null; w('\r\n  ⎿  Interrupted · What should Claude do instead?'); prompt(); } return; }
    if (s === '\x03') { if (busy) { clearInterval(busy); busy = null; prompt(); return; } process.exit(0); }
    for (const ch of s) {
      if (ch === '\r') {
        const text = line; line = '';
        const exit = /^EXIT (\d+)$/.exec(text);
        if (exit) process.exit(Number(exit[1]));
        const slow = /SLOW (\d+)/.exec(text);
        if (slow) { let i = 0; w('\r\n● '); busy = setInterval(() => { w(`chunk${i++} `); if (i >= Number(slow[1])) { clearInterval(busy); busy = null; prompt(); } }, 200); }
        else { w('\r\n● echo: ' + text); prompt(); }
      } else if (ch === '\x7f') { if (line) { line = line.slice(0, -1); w('\b \b'); } }
      else { line += ch; w(ch); }
    }
  });
}
