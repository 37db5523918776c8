// `token-api tui --pairing-file` end to end, as a person sees it: the relay (`token-api relay
// serve`) with a self-signed certificate made here by openssl, `token-api serve` connected out
// to it, a pairing code from `token-api relay pair`, and the dashboard as a real process inside
// a real tmux session of 80x24, read back with `tmux capture-pane -p`. The code pins the
// relay's certificate (no --ca) and the session is end-to-end encrypted: the header says so,
// the home server's instance shows, a mode picked in the dashboard reaches home, and the
// relay's log and database never hold the instance's name, which only the feed carries. A code
// whose fingerprint is not the relay's certificate is refused, and not tried again on its own.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { CLI, getJson, postJson, runCli, startServerProcess, type ServerProcess } from './support/process.js';
import { configureRelay, HAVE_OPENSSL, selfSignedCert, startRelayProcess, type RelayProcess } from './support/relay.js';
import { decodePairingCode, encodePairingCode } from '../src/relay/pairings.js';
import { tempHome } from './support/system.js';

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

const skip = !hasTmux() ? 'tmux is not installed (.ci/run installs it)' : !HAVE_OPENSSL ? 'the openssl CLI is missing (.ci/run installs it)' : false;

describe('token-api tui --pairing-file in tmux, through a TLS relay, end-to-end encrypted', { skip }, () => {
  const dir = tempHome('token-api-tui-relay-e2e-');
  const relayHome = join(dir.dir, 'relay');
  const serverHome = join(dir.dir, 'server');
  const socket = join(dir.dir, 'tmux.sock');
  const tmux = (...args: string[]) => run('tmux', ['-S', socket, ...args]);
  let relay: RelayProcess | undefined;
  let server: ServerProcess | undefined;

  after(async () => {
    await tmux('kill-server').catch(() => undefined);
    await server?.kill('SIGTERM');
    await relay?.stop();
    dir.cleanup();
  });

  const screen = async () => (await tmux('capture-pane', '-p', '-t', 'tui')).stdout.split('\n');
  async function eventually(ok: (rows: string[]) => boolean, what: string): Promise<string[]> {
    let rows: string[] = [];
    for (let i = 0; i < 600; i++) {
      rows = await screen().catch(() => []);
      if (ok(rows)) return rows;
      await delay(50);
    }
    assert.fail(`the dashboard never showed ${what}; the screen was:\n${rows.join('\n')}`);
  }

  it('shows the home instance with "live, e2e", and a mode picked in it reaches home', async () => {
    const pem = selfSignedCert(dir.dir);
    const room = await runCli(['relay', 'room', 'add', 'home', '--home', relayHome, '--json']);
    assert.equal(room.code, 0, room.stderr);
    relay = await startRelayProcess(relayHome, ['--tls-cert', pem.cert, '--tls-key', pem.key]);
    configureRelay(serverHome, { url: relay.url, room: 'home', serverKey: JSON.parse(room.stdout).server_key, ca: pem.cert });
    writeFileSync(join(serverHome, 'config.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(serverHome, 'config.json'), 'utf8')), notifications: { speech: { engine: 'none' }, sound: { player: 'none' } } }));
    server = await startServerProcess(serverHome);
    const secret = 'Quokka-Lantern-5150';
    const registered = await postJson(`${server.url}/api/instances/register`, { instance_id: 'paired-1', agent_type: 'claude', tab_name: secret, working_dir: '/home/me/src/token-api' });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));

    const paired = await runCli(['relay', 'pair', '--home', serverHome, '--role', 'admin', '--name', 'terminal', '--json']);
    assert.equal(paired.code, 0, paired.stderr);
    const codeFile = join(dir.dir, 'pairing');
    writeFileSync(codeFile, `${JSON.parse(paired.stdout).code}\n`, { mode: 0o600 });

    const command = `'${process.execPath}' --import '${TSX}' '${CLI}' tui --pairing-file '${codeFile}'; sleep 30`;
    await tmux('new-session', '-d', '-s', 'tui', '-x', '80', '-y', '24', command);
    const rows = await eventually((r) => r.some((l) => l.includes(secret)), 'the home instance');
    assert.match(rows[0]!, /^ TOKEN-API {2}home via relay {2}● live, e2e {2}\d\d:\d\d:\d\d/);

    await tmux('send-keys', '-t', 'tui', 'm');
    await eventually((r) => r.some((l) => l.includes('Work mode')), 'the mode picker');
    await tmux('send-keys', '-t', 'tui', '3');
    await eventually((r) => r.some((l) => l.includes('break for how long?')), 'the duration picker');
    await tmux('send-keys', '-t', 'tui', '2');
    await eventually((r) => r.some((l) => /MODE: break 1[45]:\d\d left/.test(l)), 'the new mode, back over the feed');
    assert.equal((await getJson(`${server.url}/api/mode`)).body.mode, 'break');

    // The relay routed ciphertext: its files and its output never held the instance's name.
    const files = readdirSync(relayHome, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    for (const f of files) assert.ok(!readFileSync(join(f.parentPath, f.name)).includes(secret), `${f.name} holds no plaintext`);
    assert.ok(!relay.output().includes(secret));

    // A code whose certificate is not the relay's (a relay in between, or one given a new
    // certificate): refused, said, and not tried again on its own.
    const code = decodePairingCode(JSON.parse(paired.stdout).code)!;
    const otherFile = join(dir.dir, 'pairing-other-cert');
    writeFileSync(otherFile, `${encodePairingCode({ ...code, fingerprint: createHash('sha256').update('another certificate').digest('hex') })}\n`, { mode: 0o600 });
    await tmux('new-session', '-d', '-s', 'tui-other', '-x', '80', '-y', '24', `'${process.execPath}' --import '${TSX}' '${CLI}' tui --pairing-file '${otherFile}'; sleep 30`);
    const other = async () => (await tmux('capture-pane', '-p', '-t', 'tui-other')).stdout.split('\n');
    let refused: string[] = [];
    for (let i = 0; i < 600 && !refused.some((l) => l.includes('○ refused, r retries')); i++) {
      await delay(50);
      refused = await other().catch(() => []);
    }
    assert.match(refused[0]!, /○ refused, r retries/, refused.join('\n'));
    assert.match(refused[23]!, /the relay's certificate is not the one in the pairing code/);
  });
});
