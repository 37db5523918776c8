// A terminal session in token-api's tmux server, through the real server: the fake `claude`
// (test/support/fake-claude.mjs without -p draws a prompt, echoes what is typed, and Escape
// interrupts a long answer) started in a pane, a first prompt typed once its prompt shows, the
// screen as a late viewer of /ws/sessions/{id} gets it at once, a cancel, the session found
// again after the server restarts, and the pane's exit status when the agent quits.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { FAKE_CLAUDE, until, hasTmux } from './support/sessions.js';
import { startTestServer, tempHome, type TestServer } from './support/system.js';

/** Screens a viewer of the session socket was sent, newest last. */
function viewer(url: string) {
  const ws = new WebSocket(url);
  const screens: string[] = [];
  const all: any[] = [];
  ws.on('message', (d) => {
    const m = JSON.parse(String(d));
    all.push(m);
    if (m.type === 'output' && m.kind === 'screen') screens.push(m.message.screen);
  });
  return { ws, screens, all, latest: async () => screens.at(-1) ?? '' };
}

const plain = (screen: string) => screen.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

describe('terminal sessions in tmux', { skip: hasTmux() ? false : 'tmux is not installed (.ci/run installs it)' }, () => {
  const home = tempHome('tapi-term-');
  const repo = join(home.dir, 'r');
  const untrusted = join(home.dir, 'u');
  const file = { repos: [{ name: 'r', path: repo }, { name: 'u', path: untrusted }], sessions: { claude_bin: FAKE_CLAUDE } };
  let server: TestServer;

  before(async () => {
    mkdirSync(repo);
    mkdirSync(untrusted);
    writeFileSync(join(untrusted, '.fake-untrusted'), '');
    server = await startTestServer(home.dir, file);
  });
  after(async () => {
    await server.close();
    try {
      execFileSync('tmux', ['-S', join(home.dir, 'tmux.sock'), 'kill-server'], { stdio: 'ignore' });
    } catch {
      // no server left
    }
    home.cleanup();
  });

  it('starts, takes a prompt, shows a late viewer the screen, cancels, survives a restart, and reports the exit', async () => {
    const started = await server.request('POST', '/api/sessions', { repo: 'r', kind: 'terminal', prompt: 'hello tmux' });
    assert.equal(started.status, 201, started.text);
    const s = started.body;
    assert.equal(s.kind, 'terminal');
    assert.equal(s.state, 'ready');
    assert.ok(s.pid > 0);

    // A person at the desk sees the same pane.
    // (the answer comes once tmux has the keys; the agent draws its answer a moment later)
    await until(async () => execFileSync('tmux', ['-S', join(home.dir, 'tmux.sock'), 'capture-pane', '-p', '-t', `tapi-${s.id}`]).toString(), (pane) => /● echo: hello tmux/.test(pane), 'the answer in the pane');

    // A viewer arriving late gets the whole current screen at once.
    const late = viewer(`${server.url.replace(/^http/, 'ws')}/ws/sessions/${s.id}`);
    await until(late.latest, (sc) => plain(sc).includes('● echo: hello tmux') && plain(sc).includes(s.claude_session_id), 'the screen');

    // A long answer, then Escape.
    assert.equal((await server.request('POST', `/api/sessions/${s.id}/send`, { prompt: 'SLOW 500' })).status, 202);
    await until(late.latest, (sc) => plain(sc).includes('chunk2'), 'the long answer streaming');
    assert.equal((await server.request('POST', `/api/sessions/${s.id}/cancel`)).status, 200);
    await until(late.latest, (sc) => plain(sc).includes('Interrupted'), 'the interrupt on screen');
    late.ws.close();

    // The server restarts; the pane lives on and the session is found again.
    await server.close();
    server = await startTestServer(home.dir, file);
    const again = await server.request('GET', `/api/sessions/${s.id}`);
    assert.equal(again.body.state, 'ready', JSON.stringify(again.body));
    assert.equal((await server.request('POST', `/api/sessions/${s.id}/send`, { prompt: 'after restart' })).status, 202);
    const v2 = viewer(`${server.url.replace(/^http/, 'ws')}/ws/sessions/${s.id}`);
    await until(v2.latest, (sc) => plain(sc).includes('● echo: after restart'), 'the prompt after the restart');
    v2.ws.close();

    // The agent quits with a status of its own: the pane's exit is the session's.
    assert.equal((await server.request('POST', `/api/sessions/${s.id}/send`, { prompt: 'EXIT 3' })).status, 202);
    const gone = await until(() => server.request('GET', `/api/sessions/${s.id}`), (r) => r.body.state === 'exited', 'the exit', 1200);
    // The pane's status as tmux reports it. tmux 3.3a now and then marks a pane dead and never
    // gives its status: the session then exits with none (the server logs it), never another one.
    assert.ok(gone.body.exit.code === 3 || gone.body.exit.code === null, JSON.stringify(gone.body.exit));
    assert.equal(gone.body.exit.reason, 'crashed');
    assert.ok(gone.body.exit.last_lines.some((l: string) => l.includes("after restart")), JSON.stringify(gone.body));
    assert.equal((await server.request('POST', `/api/sessions/${s.id}/send`, { prompt: 'late' })).status, 409);
  });

  it('never types a prompt into a question the agent asks (trust this folder?): 409 with the question and how to attach, until a person answers it', async () => {
    const tmux = (...args: string[]) => execFileSync('tmux', ['-S', join(home.dir, 'tmux.sock'), ...args]).toString();
    const started = await server.request('POST', '/api/sessions', { repo: 'u', kind: 'terminal', prompt: 'into the menu?' });
    assert.equal(started.status, 409, started.text);
    assert.match(started.body.message, /started, but the agent asks: "Accessing workspace: .*Is this a project you created or one you trust\?/);
    const attach = /attach with (tmux -S \S+ attach -t (tapi-ses-[0-9a-f]{12}))/.exec(started.body.message);
    assert.ok(attach, started.body.message);
    assert.equal(attach[1], `tmux -S ${join(home.dir, 'tmux.sock')} attach -t ${attach[2]}`);
    const id = attach[2]!.slice('tapi-'.length);
    const session = await server.request('GET', `/api/sessions/${id}`);
    assert.equal(session.body.state, 'ready', 'the agent still runs: the menu was not answered "No, exit"');

    const refused = await server.request('POST', `/api/sessions/${id}/send`, { prompt: 'still into the menu?' });
    assert.equal(refused.status, 409, refused.text);
    assert.match(refused.body.message, /was not sent the prompt: the agent asks: "Accessing workspace/);
    assert.doesNotMatch(tmux('capture-pane', '-p', '-t', attach[2]!), /into the menu/);

    // A person attaches and trusts the folder; then prompts go through.
    tmux('send-keys', '-t', attach[2]!, 'Down');
    tmux('send-keys', '-t', attach[2]!, 'Enter');
    await until(async () => tmux('capture-pane', '-p', '-t', attach[2]!), (screen) => /^❯/m.test(screen), 'the agent\'s prompt after trusting');
    const sent = await server.request('POST', `/api/sessions/${id}/send`, { prompt: 'after trusting' });
    assert.equal(sent.status, 202, sent.text);
    await until(async () => tmux('capture-pane', '-p', '-t', attach[2]!), (screen) => screen.includes('● echo: after trusting'), 'the answer on the screen');
    assert.equal((await server.request('DELETE', `/api/sessions/${id}`)).status, 200);
  });

  it('stops a terminal session by killing its pane', async () => {
    const started = await server.request('POST', '/api/sessions', { repo: 'r', kind: 'terminal' });
    assert.equal(started.status, 201, started.text);
    const s = started.body;
    const stopped = await server.request('DELETE', `/api/sessions/${s.id}`);
    assert.equal(stopped.status, 200, stopped.text);
    assert.equal(stopped.body.state, 'exited');
    assert.equal(stopped.body.exit.reason, 'stopped');
    let panes = '';
    try {
      panes = execFileSync('tmux', ['-S', join(home.dir, 'tmux.sock'), 'list-sessions', '-F', '#{session_name}'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    } catch {
      // no session left: the tmux server ended with the last one
    }
    assert.ok(!panes.includes(s.id), panes);
  });
});
