// The web page on a hub, in Chromium: a machine (a real token-api on its own SQLite file)
// reports to the hub over its WebSocket; the Agents tab names every agent's machine (the hub's
// own too), filters by machine, an agent's page names its machine and reads its timeline there
// through the hub; three missed heartbeats (the hub's clock is injected) grey that machine's
// agents with the reason, without removing them. A page on a server no machine reports to
// shows no machine at all (test/web-page.test.ts covers that page).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { browserSkip, builtWeb, launchBrowser, newContext, PHONE, type Browser } from './support/browser.js';
import { FakeClock } from './support/clock.js';
import { runCli } from './support/process.js';
import { hookPayload, startTestServer, tempHome, type TestServer } from './support/system.js';

const until = async (what: string, probe: () => Promise<unknown>): Promise<void> => {
  const deadline = Date.now() + 20_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('the web page on a hub: the machine column', { skip: browserSkip }, () => {
  const hubHome = tempHome('token-api-web-hub-');
  const machineHome = tempHome('token-api-web-machine-');
  const hubClock = new FakeClock(Date.now());
  let hub: TestServer;
  let machine: TestServer;
  let browser: Browser;

  before(async () => {
    const webRoot = (await builtWeb()).dir;
    const add = await runCli(['machines', 'add', 'laptop', '--home', hubHome.dir]);
    assert.equal(add.code, 0, add.stderr);
    hub = await startTestServer(hubHome.dir, {}, { clock: hubClock, webRoot });
    writeFileSync(join(machineHome.dir, 'hub-token'), add.stdout, { mode: 0o600 });
    machine = await startTestServer(machineHome.dir, { hub: { url: hub.url } }, { webRoot });
    // One agent on the hub itself, two on the laptop (one running a tool).
    assert.equal((await hub.hook(hookPayload('on-hub', 'SessionStart', { source: 'startup' }), `?pid=${process.pid}`)).status, 200);
    for (const sid of ['on-laptop', 'asks-laptop']) {
      assert.equal((await machine.hook(hookPayload(sid, 'SessionStart', { source: 'startup' }), `?pid=${process.pid}`)).status, 200);
      assert.equal((await machine.hook(hookPayload(sid, 'UserPromptSubmit', { prompt: 'go' }), `?pid=${process.pid}`)).status, 200);
    }
    await machine.hook(hookPayload('asks-laptop', 'PreToolUse', { tool_name: 'Bash', tool_input: { command: 'ls' } }), `?pid=${process.pid}`);
    await until('the laptop\'s agents on the hub', async () => (await hub.request('GET', '/api/instances?machine=laptop')).body.count === 2);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await machine?.close();
    await hub?.close();
    hubHome.cleanup();
    machineHome.cleanup();
  });

  it('names each agent\'s machine, filters by machine, reads a remote agent\'s timeline on its machine, and greys an offline machine\'s agents with the reason', async () => {
    const ctx = await newContext(browser, PHONE);
    const page = await ctx.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${hub.url}/app/#/agents`);
    const cards = page.locator('[data-testid=agents] li');
    await page.locator('[data-testid=agents] li[data-machine=laptop]').nth(1).waitFor();
    const hubName = (await hub.request('GET', '/v1/machines')).body.machines.find((m: any) => m.local).name;
    // Every card names its machine: the hub's own agent carries the hub's name.
    await page.locator(`[data-testid=agents] li[data-machine="${hubName}"]`).waitFor();
    assert.equal(await cards.count(), 3);
    assert.match((await page.locator('[data-testid=agents] li[data-machine=laptop]').first().textContent()) ?? '', /^[\s\S]*laptop · /);

    // The filter keeps one machine's agents.
    const laptopId = (await hub.request('GET', '/v1/machines/laptop')).body.machine.id;
    await page.selectOption('#machine-filter', laptopId);
    await until('only the laptop\'s agents', async () => (await cards.count()) === 2);
    assert.deepEqual(new Set(await cards.evaluateAll((l) => l.map((e) => e.getAttribute('data-machine')))), new Set(['laptop']));
    await page.selectOption('#machine-filter', 'local');
    await until('only the hub\'s agent', async () => (await cards.count()) === 1);
    assert.equal(await cards.first().getAttribute('data-machine'), hubName);
    await page.selectOption('#machine-filter', '');
    await until('every agent again', async () => (await cards.count()) === 3);

    // A laptop agent's page: its machine, and its timeline, read on the laptop through the hub.
    await page.locator('[data-testid=agents] li[data-machine=laptop] a', { hasText: 'Bash' }).click();
    assert.match(await page.locator('[data-testid=agent-machine]').innerText(), /^laptop$/);
    await page.locator('[data-testid=timeline] li.tl-tool').first().waitFor();
    assert.match((await page.locator('[data-testid=timeline]').textContent()) ?? '', /Bash/);
    await page.goBack();

    // Three heartbeats unheard (hub time): the laptop's agents stay, greyed, with the reason.
    hubClock.advance(61_000);
    await page.locator('[data-testid=agents] li[data-machine=laptop][data-offline=true]').nth(1).waitFor();
    assert.equal(await cards.count(), 3, 'nothing removed');
    assert.equal(await page.locator(`[data-testid=agents] li[data-machine="${hubName}"][data-offline]`).count(), 0, 'the hub\'s own agent is not greyed');
    const greyed = page.locator('[data-testid=agents] li[data-offline=true]').first();
    // The card greys at once from the feed; the time it was last heard comes with the machines'
    // list, read again when a machine goes offline.
    await until('the time the laptop was last heard', async () => /laptop is offline: not heard from since \d\d:\d\d/.test(await greyed.innerText()));
    assert.match(await greyed.innerText(), /last known working/);
    assert.equal(await greyed.evaluate((e) => getComputedStyle(e).filter), 'grayscale(1)');
    assert.match(await page.locator('#machine-filter').innerText(), /laptop \(offline\)/);
    assert.deepEqual(problems, []);
    await ctx.close();
  });
});
