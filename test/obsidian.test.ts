// Obsidian over real HTTP, against a fake of its Local REST API plugin (HTTPS with a self-signed
// certificate made now by openssl, an API key) and a generated vault: commands run through the
// plugin, trusting the certificate by its file or its fingerprint and nothing else; the plugin
// down, refusing the key, or showing another certificate, each a 502 that names it; eval off by
// default (403, nothing written), needing the token even from loopback, and in the event log
// with its code's hash; the vault read from its folder, where no path leaves the vault.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { ConfigFile } from '../src/config/config.js';
import { FakeClock } from './support/clock.js';
import { COMMANDS, makeCertificate, startFakeObsidian, type FakeObsidian } from './support/fake-obsidian.js';
import { startTestServer, tableCounts, tempHome, type TestServer } from './support/system.js';
import { makeVault, SECRET } from './support/vault.js';

const QUIET = { notifications: { speech: { engine: 'none' as const }, sound: { player: 'none' as const } } };
const KEY = 'a1b2c3d4e5f6-local-rest-api-key';

describe('Obsidian through its Local REST API plugin', () => {
  const home = tempHome();
  let plugin: FakeObsidian;
  const servers: TestServer[] = [];
  const start = async (obsidian: NonNullable<ConfigFile['obsidian']>) => {
    const s = await startTestServer(home.dir, { ...QUIET, obsidian }, { clock: new FakeClock() });
    servers.push(s);
    return s;
  };
  before(async () => {
    plugin = await startFakeObsidian(home.dir, { apiKey: KEY, evalRoute: '/eval/' });
  });
  after(async () => {
    for (const s of servers) await s.close();
    await plugin.down();
    home.cleanup();
  });

  it('runs a command, trusting the certificate file the config names, and records it', async () => {
    const s = await start({ url: plugin.url, api_key: KEY, certificate: plugin.certFile });
    const list = await s.request('GET', '/api/obsidian/commands');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body, { count: 3, commands: COMMANDS });
    const r = await s.request('POST', '/api/obsidian/command', { id: 'editor:save-file' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { id: 'editor:save-file', ran: true });
    assert.deepEqual(plugin.requests.at(-1), { method: 'POST', path: '/commands/editor%3Asave-file/', authorization: `Bearer ${KEY}`, body: '' });
    const events = (await s.request('GET', '/api/events?type=obsidian.command')).body.events;
    assert.deepEqual(events.map((e: { details: unknown }) => e.details), [{ id: 'editor:save-file' }]);

    const unknown = await s.request('POST', '/api/obsidian/command', { id: 'no:such-command' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.message, 'Obsidian has no command no:such-command; GET /api/obsidian/commands lists them');
    await s.close();
    servers.pop();
  });

  it('trusts a certificate by its fingerprint, and sends nothing to a server showing another', async () => {
    const pinned = await start({ url: plugin.url, api_key: KEY, fingerprint: plugin.fingerprint.replace(/:/g, '').toLowerCase() });
    assert.equal((await pinned.request('POST', '/api/obsidian/command', { id: 'app:go-back' })).status, 200);
    await pinned.close();
    servers.pop();

    const other = makeCertificate(home.dir, 'other');
    const sent = plugin.requests.length;
    const wrong = await start({ url: plugin.url, api_key: KEY, fingerprint: other.fingerprint });
    const r = await wrong.request('POST', '/api/obsidian/command', { id: 'app:go-back' });
    assert.equal(r.status, 502);
    assert.equal(r.body.error, 'bad_gateway');
    assert.equal(r.body.message, `Obsidian's Local REST API plugin's certificate at ${plugin.url} has the SHA-256 fingerprint ${plugin.fingerprint}, not ${other.fingerprint} (obsidian.fingerprint): nothing was sent to it`);
    assert.equal(plugin.requests.length, sent, 'the API key never left');
    await wrong.close();
    servers.pop();

    const unpinned = await start({ url: plugin.url, api_key: KEY });
    const u = await unpinned.request('POST', '/api/obsidian/command', { id: 'app:go-back' });
    assert.equal(u.status, 502);
    assert.match(u.body.message, /certificate at https:\/\/127\.0\.0\.1:\d+ is not trusted .*: set obsidian\.certificate to its file \(the plugin serves it at .*\/obsidian-local-rest-api\.crt\) or obsidian\.fingerprint/);
    assert.equal(plugin.requests.length, sent);
    await unpinned.close();
    servers.pop();
  });

  it('says which key the plugin refused, and that it is not set up when no key is given', async () => {
    const s = await start({ url: plugin.url, api_key: 'wrong-key', certificate: plugin.certFile });
    const r = await s.request('POST', '/api/obsidian/command', { id: 'app:go-back' });
    assert.equal(r.status, 502);
    assert.match(r.body.message, /^Obsidian's Local REST API plugin at https:\/\/127\.0\.0\.1:\d+ refused the API key \(401\): check obsidian\.api_key/);
    await s.close();
    servers.pop();
    const none = await start({ url: plugin.url });
    const n = await none.request('GET', '/api/obsidian/commands');
    assert.equal(n.status, 409);
    assert.equal(n.body.error, 'unavailable');
    assert.match(n.body.message, /^Obsidian is not set up: set obsidian\.api_key/);
    await none.close();
    servers.pop();
  });

  it('eval: off by default (403, nothing written); on, it needs the token even from loopback, and each call is an event with the hash of its code', async () => {
    const off = await start({ url: plugin.url, api_key: KEY, certificate: plugin.certFile, eval_route: '/eval/' });
    const before = await tableCounts(off.system);
    const sent = plugin.requests.length;
    const r = await off.request('POST', '/api/obsidian/eval', { code: 'app.vault.getName()' });
    assert.equal(r.status, 403);
    assert.equal(r.body.error, 'forbidden');
    assert.match(r.body.message, /^Obsidian eval is off: set obsidian\.eval_enabled to true/);
    assert.deepEqual(await tableCounts(off.system), before);
    assert.equal(plugin.requests.length, sent);
    await off.close();
    servers.pop();

    const on = await start({ url: plugin.url, api_key: KEY, certificate: plugin.certFile, eval_enabled: true, eval_route: '/eval/' });
    const counts = await tableCounts(on.system);
    const noToken = await on.request('POST', '/api/obsidian/eval', { code: 'app.vault.getName()' });
    assert.equal(noToken.status, 401);
    assert.match(noToken.body.message, /needs "Authorization: Bearer <token>" even from this machine/);
    const badToken = await on.request('POST', '/api/obsidian/eval', { code: 'app.vault.getName()' }, { authorization: 'Bearer not-it' });
    assert.equal(badToken.status, 401);
    assert.deepEqual(await tableCounts(on.system), counts, 'refused calls write nothing');
    assert.equal(plugin.requests.length, sent);

    const tokenText = readFileSync(on.config.tokenFile, 'utf8').trim();
    const code = 'app.vault.getName()';
    const ok = await on.request('POST', '/api/obsidian/eval', { code }, { authorization: `Bearer ${tokenText}` });
    assert.equal(ok.status, 200);
    const sha256 = createHash('sha256').update(code).digest('hex');
    assert.deepEqual(ok.body, { sha256, status: 200, result: { evaluated: code.length } });
    assert.deepEqual(plugin.requests.at(-1), { method: 'POST', path: '/eval/', authorization: `Bearer ${KEY}`, body: JSON.stringify({ code }) });
    const events = (await on.request('GET', '/api/events?type=obsidian.eval')).body.events;
    assert.equal(events.length, 1);
    assert.deepEqual(events[0].details, { sha256, bytes: code.length, route: '/eval/', remote_address: '127.0.0.1' });
    assert.doesNotMatch(JSON.stringify(events), /getName/, 'the code itself is not kept, only its hash');
    await on.close();
    servers.pop();
  });

  it('answers 502 naming the plugin when it is down', async () => {
    const s = await start({ url: plugin.url, api_key: KEY, certificate: plugin.certFile, eval_enabled: true, eval_route: '/eval/' });
    await plugin.down();
    const r = await s.request('POST', '/api/obsidian/command', { id: 'app:go-back' });
    assert.equal(r.status, 502);
    assert.equal(r.body.error, 'bad_gateway');
    assert.equal(r.body.message, `Obsidian's Local REST API plugin does not answer at ${plugin.url} (connection refused): is Obsidian running, with the plugin enabled?`);
    assert.equal((await s.request('GET', '/api/obsidian/commands')).status, 502);
    const before = await tableCounts(s.system);
    const noBody = await s.request('POST', '/api/obsidian/command', {});
    assert.equal(noBody.status, 400);
    assert.match(noBody.body.fields.id, /is missing/);
    assert.deepEqual(await tableCounts(s.system), before);
    plugin = await startFakeObsidian(home.dir, { apiKey: KEY, evalRoute: '/eval/' });
  });
});

describe('the vault, read from its folder', () => {
  const home = tempHome();
  let s: TestServer;
  before(async () => {
    const vault = makeVault(home.dir, '2026-11-23');
    s = await startTestServer(home.dir, { ...QUIET, obsidian: { vault } }, { clock: new FakeClock() });
  });
  after(async () => {
    await s.close();
    home.cleanup();
  });

  it('answers a note by its path, with its front matter and tags (.md may be left out)', async () => {
    const r = await s.request('GET', '/api/vault/note?path=Projects/api.md');
    assert.equal(r.status, 200);
    assert.equal(r.body.path, 'Projects/api.md');
    assert.equal(r.body.title, 'api');
    assert.deepEqual(r.body.frontmatter, { tags: ['project/api', 'work'], status: 'active' });
    assert.deepEqual(r.body.tags, ['project/api', 'work', 'review'], 'no tag from code, no heading as a tag');
    assert.match(r.body.content, /Deploy on Fridays/);
    assert.equal(r.body.modified_at, '2026-11-20T10:05:00.000Z');
    assert.deepEqual((await s.request('GET', '/api/vault/note?path=Projects/api')).body.content, r.body.content);
    assert.equal((await s.request('GET', '/api/vault/note?path=api-link.md')).body.content, r.body.content, 'a link inside the vault is followed');
    const missing = await s.request('GET', '/api/vault/note?path=Projects/nope.md');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.message, 'no note Projects/nope.md in the vault');
  });

  it('never leaves the vault: .., absolute paths, links out, backslashes and NUL are refused, and nothing outside is read', async () => {
    for (const [path, words] of [
      ['../outside/secret.md', /climbs out with \.\./],
      ['Projects/../../outside/secret.md', /climbs out with \.\./],
      [`${home.dir}/outside/secret.md`, /is absolute/],
      ['/etc/passwd', /is absolute/],
      ['C:/Windows/win.ini', /is absolute/],
      ['leak.md', /leads outside the vault \(through a symbolic link\)/],
      ['Outside/secret.md', /leads outside the vault \(through a symbolic link\)/],
      ['..\\outside\\secret.md', /holds a backslash/],
      ['Projects/api.md\u0000', /holds a NUL character/],
    ] as const) {
      const r = await s.request('GET', `/api/vault/note?path=${encodeURIComponent(path)}`);
      assert.equal(r.status, 400, `${path}: ${r.text}`);
      assert.equal(r.body.error, 'validation_failed');
      assert.match(r.body.fields.path, words, path);
      assert.doesNotMatch(r.text, new RegExp(SECRET));
    }
    for (const q of ['search?q=outside', 'tagged?tag=project', 'recent?limit=200', 'tags']) {
      const r = await s.request('GET', `/api/vault/${q}`);
      assert.equal(r.status, 200);
      assert.doesNotMatch(r.text, /secret|leak\.md|\.trash/, `${q} reaches nothing outside the vault or hidden`);
    }
  });

  it('searches the text, lists notes by tag (nested ones too) and every tag, and the recently changed', async () => {
    const found = (await s.request('GET', '/api/vault/search?q=deploy')).body;
    assert.deepEqual(found.notes.map((n: { path: string }) => n.path), ['Projects/api.md', 'Projects/blog.md']);
    assert.deepEqual(found.notes[0].matches, [{ line: 7, text: 'Deploy on Fridays. #review' }]);
    assert.equal(found.searched, 4);
    assert.equal((await s.request('GET', '/api/vault/search?q=deploy fridays')).body.count, 1, 'every word');

    const tagged = (await s.request('GET', '/api/vault/tagged?tag=%23project')).body;
    assert.equal(tagged.tag, 'project');
    assert.deepEqual(tagged.notes.map((n: { path: string }) => n.path), ['Projects/api.md', 'Projects/blog.md']);
    assert.deepEqual((await s.request('GET', '/api/vault/tagged?tag=review')).body.notes.map((n: { path: string }) => n.path), ['Projects/api.md', 'Inbox.md'], 'case ignored');

    const tags = (await s.request('GET', '/api/vault/tags')).body.tags;
    assert.deepEqual(tags.slice(0, 2), [{ tag: 'Review', notes: 2 }, { tag: 'work', notes: 2 }], 'most used first; one tag whatever its case');
    assert.ok(tags.some((t: { tag: string }) => t.tag === 'project/api'));

    const recent = (await s.request('GET', '/api/vault/recent?limit=2')).body;
    assert.deepEqual(recent.notes.map((n: { path: string }) => n.path), ['Daily/2026-11-23.md', 'Projects/api.md']);
    assert.equal((await s.request('GET', '/api/vault/recent?since=2026-11-20T10:04:00Z')).body.count, 2);
  });

  it("answers today's daily note, named as the Daily notes plugin says, and says when a day has none", async () => {
    const today = await s.request('GET', '/api/vault/daily');
    assert.equal(today.status, 200);
    assert.equal(today.body.date, '2026-11-23');
    assert.equal(today.body.path, 'Daily/2026-11-23.md');
    assert.deepEqual(today.body.tags, ['work']);
    const none = await s.request('GET', '/api/vault/daily?date=2026-11-22');
    assert.equal(none.status, 404);
    assert.equal(none.body.message, 'no daily note for 2026-11-22: Daily/2026-11-22.md is not in the vault');
    const bad = await s.request('GET', '/api/vault/daily?date=yesterday');
    assert.equal(bad.status, 400);
    assert.match(bad.body.fields.date, /expected a day as YYYY-MM-DD/);
  });

  it('says so when no vault is set up', async () => {
    const other = tempHome();
    const t = await startTestServer(other.dir, QUIET, { clock: new FakeClock() });
    const r = await t.request('GET', '/api/vault/recent');
    assert.equal(r.status, 409);
    assert.match(r.body.message, /^no vault is set up: set obsidian\.vault/);
    await t.close();
    other.cleanup();
  });
});
