// The inspector and the machine export, through the real command: `serve --inspect` serves
// the page and relays every actor's inspection events (loopback only); `machines export`
// writes each machine's definition as JSON.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { postJson, runCli, startServerProcess, type ServerProcess } from './support/process.js';
import { hookPayload, tempHome } from './support/system.js';

interface Inspected {
  type: string;
  name?: string;
  sessionId?: string;
  event?: { type: string };
}

describe('token-api serve --inspect', () => {
  const home = tempHome('token-api-inspect-');
  let server: ServerProcess | undefined;
  let ws: WebSocket | undefined;
  after(async () => {
    ws?.terminate();
    await server?.kill('SIGTERM');
    home.cleanup();
  });

  it('prints the inspector page, which relays every actor and its events', async () => {
    server = await startServerProcess(home.dir, ['--inspect', '--inspect-port', '0']);
    let url: string | undefined;
    for (let i = 0; i < 200 && !url; i++) {
      url = /inspector: open (http:\/\/127\.0\.0\.1:\d+) in a browser/.exec(server.stderr())?.[1];
      if (!url) await delay(25);
    }
    assert.ok(url, server.stderr());
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /stately\.ai\/inspect/);

    const seen: Inspected[] = [];
    ws = new WebSocket(url.replace('http:', 'ws:'));
    ws.on('message', (m) => seen.push(JSON.parse(m.toString()) as Inspected));
    await new Promise((resolve, reject) => {
      ws!.once('open', resolve);
      ws!.once('error', reject);
    });
    await postJson(`${server.url}/api/mode`, { mode: 'break', minutes: 5 });
    await postJson(`${server.url}/api/hooks`, hookPayload('inspected', 'UserPromptSubmit'));
    const want = (p: (e: Inspected) => boolean) => seen.some(p);
    for (let i = 0; i < 200; i++) {
      if (want((e) => e.type === '@xstate.event' && e.event?.type === 'hook.user_prompt_submit')) break;
      await delay(25);
    }
    const actors = seen.filter((e) => e.type === '@xstate.actor').map((e) => e.name);
    for (const name of ['#mode', '#gate', 'claude-inspected', 'timer']) assert.ok(actors.includes(name), `actor ${name} in ${actors.join(', ')}`);
    assert.ok(want((e) => e.type === '@xstate.event' && e.event?.type === 'mode.update'));
    assert.ok(want((e) => e.type === '@xstate.event' && e.event?.type === 'instances.working'), 'the gate hears of the working instance');
  });

  it('serves the page on loopback only', { skip: nonLoopback() ? false : 'no non-loopback address here' }, async () => {
    const port = /inspector: open http:\/\/127\.0\.0\.1:(\d+)/.exec(server!.stderr())![1];
    await assert.rejects(fetch(`http://${nonLoopback()}:${port}`));
  });

  it('says so when the inspector port is taken', async () => {
    const port = /inspector: open http:\/\/127\.0\.0\.1:(\d+)/.exec(server!.stderr())![1]!;
    const other = tempHome();
    const r = await runCli(['serve', '--home', other.dir, '--port', '0', '--inspect', '--inspect-port', port]);
    other.cleanup();
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`inspector port ${port} is already in use`));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});

function nonLoopback(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
}

describe('token-api machines export', () => {
  it('writes instance, mode and gate definitions as JSON', async () => {
    const h = tempHome();
    const out = join(h.dir, 'defs');
    const r = await runCli(['machines', 'export', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['instance', 'mode', 'gate'].map((n) => join(out, `${n}.json`)));
    const read = (n: string) => JSON.parse(readFileSync(join(out, `${n}.json`), 'utf8'));
    const mode = read('mode');
    assert.equal(mode.id, 'mode');
    assert.equal(mode.version, '1');
    assert.deepEqual(Object.keys(mode.states), ['steady', 'timed']);
    assert.equal(mode.states.timed.invoke.src, 'modeTimer');
    const gate = read('gate');
    assert.deepEqual(Object.keys(gate.states), ['idle', 'productive', 'grace']);
    assert.equal(gate.states.grace.invoke.src, 'graceTimer');
    assert.deepEqual(Object.keys(read('instance').states), ['idle', 'working', 'awaiting', 'stopped']);
    h.cleanup();
  });

  it('explains its subcommand', async () => {
    const none = await runCli(['machines']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /a subcommand is needed/);
    const help = await runCli(['machines', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /machines export \[--out DIR\]/);
    const bad = await runCli(['machines', 'import']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown subcommand "import"/);
  });
});
