// End to end, as a person sees it: the real `token-api serve` process, the real hook script
// (sh + curl) sending Claude Code's hooks, and `token-api tui` running inside a real tmux
// session of 80x24, read back with `tmux capture-pane -p`. tmux runs on its own socket in
// the test's home, so no other tmux server is touched.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { hookEnv, runHookScript } from './support/hook-script.js';
import { CLI, startServerProcess, type ServerProcess } from './support/process.js';
import { hookPayload, tempHome } from './support/system.js';

const run = promisify(execFile);
const TSX = new URL('../node_modules/tsx/dist/esm/index.mjs', import.meta.url).href;

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('token-api tui in tmux against the real server', { skip: hasTmux() ? false : 'tmux is not installed (.ci/run installs it)' }, () => {
  const home = tempHome('token-api-tui-e2e-');
  const socket = join(home.dir, 'tmux.sock');
  const tmux = (...args: string[]) => run('tmux', ['-S', socket, ...args]);
  let server: ServerProcess | undefined;

  after(async () => {
    await tmux('kill-server').catch(() => undefined);
    await server?.kill();
    home.cleanup();
  });

  const screen = async () => (await tmux('capture-pane', '-p', '-t', 'tui')).stdout.split('\n');

  /** Polls the pane until `ok` holds (an outcome, not a duration, is what is awaited). */
  async function eventually(ok: (rows: string[]) => boolean, what: string): Promise<string[]> {
    let rows: string[] = [];
    for (let i = 0; i < 200; i++) {
      rows = await screen().catch(() => []);
      if (ok(rows)) return rows;
      await delay(50);
    }
    assert.fail(`the dashboard never showed ${what}; the screen was:\n${rows.join('\n')}`);
  }

  it('shows instances as hooks arrive, awaiting first, the mode and events in words; q quits', async () => {
    writeFileSync(join(home.dir, 'config.json'), JSON.stringify({ devices: [{ id: 'pixel-phone', type: 'mobile', tailscale_ip: '100.102.92.24' }], notifications: { speech: { engine: 'none' }, sound: { player: 'none' } } }));
    server = await startServerProcess(home.dir);
    const exitFile = join(home.dir, 'tui-exit');
    const command = `'${process.execPath}' --import '${TSX}' '${CLI}' tui --url ${server.url}; echo "exit $?" > '${exitFile}'; sleep 30`;
    await tmux('new-session', '-d', '-s', 'tui', '-x', '80', '-y', '24', command);
    let rows = await eventually((r) => r.some((l) => l.includes('● live')), 'the live header');
    assert.match(rows[0]!, /^ TOKEN-API {2}127\.0\.0\.1:\d+ {2}● live {2}\d\d:\d\d:\d\d( {2}speech ✗ sound ✗)? +\[q\]uit( \[r\]efresh)? \[\?\]help/);

    const hook = (session: string, name: string, extra: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}) =>
      runHookScript([name], JSON.stringify(hookPayload(session, name, extra)), hookEnv(server!.url, home.dir, env));
    assert.equal((await hook('desk', 'SessionStart', { source: 'startup' })).code, 0);
    assert.equal((await hook('desk', 'PreToolUse', { tool_name: 'Bash' })).code, 0);
    const phone = { SSH_CLIENT: '100.102.92.24 52311 22' };
    assert.equal((await hook('phone', 'SessionStart', { source: 'startup' }, phone)).code, 0);
    assert.equal((await hook('phone', 'PermissionRequest', { tool_name: 'Write' }, phone)).code, 0);

    rows = await eventually(
      (r) => r.some((l) => /^! Claude #2 +pixel-phone +token-api +awaiting/.test(l)) && r.some((l) => /Claude #2 needs permission for Write/.test(l)),
      'the awaiting instance and why',
    );
    const list = rows.slice(3, 5);
    assert.match(list[0]!, /^! Claude #2 +pixel-phone +token-api +awaiting /, 'awaiting first');
    assert.match(list[1]!, /^● Claude #1 +desktop +token-api +working {2}Bash/);
    assert.match(rows[1]!, /INSTANCES \(2 active, 1 awaiting\)/);
    assert.match(rows.join('\n'), /MODE: work_silence │ PRODUCTIVITY: active \(1 working\) │ FOCUS: off/);
    assert.match(rows.join('\n'), /\d\d:\d\d:\d\d {2}Claude #2 needs permission for Write/);
    assert.match(rows.join('\n'), /\d\d:\d\d:\d\d {2}Claude #2 \(token-api\) started on pixel-phone/);
    assert.ok(rows.slice(0, 24).every((l) => l.length <= 80), 'it fits 80 columns');

    // Keys through tmux: pick a mode, then see it come back over the feed.
    await tmux('send-keys', '-t', 'tui', 'm');
    await eventually((r) => r.some((l) => l.includes('Work mode')), 'the mode picker');
    await tmux('send-keys', '-t', 'tui', '3');
    await eventually((r) => r.some((l) => l.includes('break for how long?')), 'the duration picker');
    await tmux('send-keys', '-t', 'tui', '2');
    await eventually((r) => r.some((l) => /MODE: break 1[45]:\d\d left/.test(l)), 'the new mode, timed');

    // Resized, it uses the width it has.
    await tmux('resize-window', '-t', 'tui', '-x', '120', '-y', '30');
    rows = await eventually((r) => / {30,}\[q\]uit \[r\]efresh \[\?\]help/.test(r[0] ?? ''), 'the wider header');
    assert.equal(rows.filter((l) => l.startsWith('─')).at(0)?.length, 120, 'rules span the new width');

    await tmux('send-keys', '-t', 'tui', 'q');
    for (let i = 0; i < 200; i++) {
      let said: string | null = null;
      try {
        said = readFileSync(exitFile, 'utf8').trim();
      } catch {
        await delay(50);
        continue;
      }
      assert.equal(said, 'exit 0');
      return;
    }
    assert.fail('token-api tui did not exit on q');
  });
});
