// The web page as token-api serves it, and how a browser beyond loopback gets in, over real
// HTTP to the real server (no browser here; test/web-page.test.ts drives Chromium): the build
// (first load within budget, no server code or whole zod in it, the service worker's shell,
// icons), /app/ with its caching and security headers, precompressed answers, the redirect
// of browsers from /, and the login: token or one-time code -> HttpOnly SameSite=Strict
// cookie, CSRF on writes, the Origin rule first, the WebSocket feed with the cookie.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { publicBase } from '../src/lib/net.js';
import { builtWeb } from './support/browser.js';
import { FakeClock } from './support/clock.js';
import { connectFeed, startFeedServer, type FeedServer } from './support/feed.js';
import { tempHome } from './support/system.js';

const run = promisify(execFile);
const QUIET = { notifications: { speech: { engine: 'none' as const }, sound: { player: 'none' as const } } };
/** Requests carrying this header come from that address, as far as the access policy knows. */
const REMOTE = { 'x-test-peer': '100.70.1.2' };

async function raw(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: Buffer; json: any }> {
  const res = await fetch(url, { redirect: 'manual', ...init });
  const body = Buffer.from(await res.arrayBuffer());
  let json: unknown = null;
  try {
    json = JSON.parse(body.toString());
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, body, json };
}

/** The cookies a Set-Cookie list sets: name -> the whole header. */
function cookiesOf(headers: Headers): Map<string, string> {
  return new Map(headers.getSetCookie().map((c) => [c.slice(0, c.indexOf('=')), c]));
}
const valueOf = (setCookie: string) => setCookie.slice(setCookie.indexOf('=') + 1, setCookie.indexOf(';'));

describe('the web page build', () => {
  it('keeps the first load under 150 KB compressed, with no server code and no whole zod in it', async () => {
    const { report, dir } = await builtWeb();
    assert.ok(report.firstLoad.gzip < 150 * 1024, `first load ${report.firstLoad.gzip} bytes gzipped`);
    // A tighter guard than the budget, so that a mistake (zod's whole namespace, a
    // chart library loaded eagerly) shows at once: today it is about 52 KB.
    assert.ok(report.firstLoad.gzip < 80 * 1024, `first load ${report.firstLoad.gzip} bytes gzipped: over the 80 KB guard`);
    // A client: its own files, src/protocol and src/lib, nothing of the server.
    const server = report.firstLoadInputs.filter((p) => p.startsWith('src/') && !/^src\/(web|protocol|lib)\//.test(p));
    assert.deepEqual(server, [], 'server modules bundled into the page');
    // zod's English messages come along; the other locales only with `import { z } from 'zod'`.
    assert.ok(!report.firstLoadInputs.some((p) => /zod\/v4\/locales\/(?!en\.js)/.test(p)), 'zod locales are bundled: a module imports { z } from zod');
    assert.ok(!report.firstLoadInputs.some((p) => /node_modules\/uplot\/dist\/uPlot\.esm/.test(p)), 'uPlot belongs to the usage chunk, not the first load');
    // The relay's transport, its login and WebCrypto load only on a page a relay served.
    assert.deepEqual(report.firstLoadInputs.filter((p) => p.startsWith('src/web/relay/')), [], 'the relay mode belongs to its own chunk');
    // The service worker caches exactly the files of the first load, and they exist.
    const sw = readFileSync(join(dir, 'sw.js'), 'utf8');
    const shell = JSON.parse(/const SHELL = (\[.*?\]);/.exec(sw)![1]!) as string[];
    for (const f of report.firstLoad.files.filter((f) => f !== 'index.html')) assert.ok(shell.includes(`/app/${f}`), `${f} in the shell`);
    for (const url of shell) assert.ok(url === '/app/' || existsSync(join(dir, url.slice('/app/'.length))), `${url} exists`);
    // Icons: the sizes the manifest says.
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.webmanifest'), 'utf8')) as { icons: { src: string; sizes: string; type: string }[]; start_url: string; scope: string };
    assert.equal(manifest.start_url, '/app/');
    assert.equal(manifest.scope, '/app/');
    for (const icon of manifest.icons.filter((i) => i.type === 'image/png')) {
      const png = readFileSync(join(dir, icon.src.slice('/app/'.length)));
      assert.equal(png.subarray(1, 4).toString(), 'PNG');
      assert.equal(`${png.readUInt32BE(16)}x${png.readUInt32BE(20)}`, icon.sizes, icon.src);
    }
  });
});

describe('serving the web page', () => {
  const home = tempHome();
  const clock = new FakeClock(Date.now());
  let s: FeedServer;
  before(async () => {
    const { dir } = await builtWeb();
    s = await startFeedServer(home.dir, { ...QUIET, web: { link_minutes: 5, session_days: 30 } }, { webRoot: dir, clock, peerAddress: (req) => (req.headers['x-test-peer'] as string | undefined) ?? req.socket.remoteAddress });
  });
  after(async () => {
    await s.close();
    home.cleanup();
  });

  it('answers /app/ with the page, revalidated, with the security headers; hashed files are immutable', async () => {
    const page = await raw(`${s.url}/app/`, { headers: REMOTE });
    assert.equal(page.status, 200, 'the page loads beyond loopback without a token (it holds no data)');
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /connect-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    const html = page.body.toString();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    const js = /src="(\/app\/app-[A-Z0-9]{8}\.js)"/.exec(html)![1]!;
    const asset = await raw(`${s.url}${js}`, { headers: { 'accept-encoding': 'identity' } });
    assert.equal(asset.status, 200);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(asset.headers.get('content-type') ?? '', /text\/javascript/);
    // Revalidation: the same ETag is a 304 with no body.
    const again = await raw(`${s.url}/app/`, { headers: { 'if-none-match': page.headers.get('etag')! } });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    // A place in the page (no extension) is the page; a missing file is a 404 in the error shape.
    assert.equal((await raw(`${s.url}/app/agents`)).body.toString(), html);
    const missing = await raw(`${s.url}/app/nope-12345678.js`);
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error, 'not_found');
    assert.equal((await raw(`${s.url}/app/%2e%2e/package.json`)).status, 404);
    const post = await raw(`${s.url}/app/`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.json.error, 'method_not_allowed');
  });

  it('sends the precompressed copy the browser accepts, and the plain file otherwise', async () => {
    const html = (await raw(`${s.url}/app/`)).body.toString();
    const js = /src="(\/app\/app-[A-Z0-9]{8}\.js)"/.exec(html)![1]!;
    const plain = await raw(`${s.url}${js}`, { headers: { 'accept-encoding': 'identity' } });
    const br = await raw(`${s.url}${js}`, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    const gz = await raw(`${s.url}${js}`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(br.headers.get('content-encoding'), 'br');
    assert.equal(gz.headers.get('content-encoding'), 'gzip');
    assert.equal(plain.headers.get('content-encoding'), null);
    assert.match(br.headers.get('vary') ?? '', /accept-encoding/i);
    // fetch decodes what it is sent: all three are the same file.
    assert.deepEqual(br.body, plain.body);
    assert.deepEqual(gz.body, plain.body);
    assert.ok(brotliDecompressSync(readFileSync(join((await builtWeb()).dir, js.slice(5) + '.br'))).equals(plain.body));
    assert.ok(gunzipSync(readFileSync(join((await builtWeb()).dir, js.slice(5) + '.gz'))).equals(plain.body));
  });

  it('sends a browser from / to /app/, and keeps / as it was for scripts and the legacy gate check', async () => {
    const browser = await raw(`${s.url}/`, { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
    assert.equal(browser.status, 302);
    assert.equal(browser.headers.get('location'), '/app/');
    const script = await raw(`${s.url}/`, { headers: { accept: '*/*' } });
    assert.equal(script.status, 200);
    assert.equal(script.json.service, 'token-api');
    const gateCheck = await raw(`${s.url}/?app=youtube`, { headers: { accept: 'text/html' } });
    assert.equal(gateCheck.status, 200);
    assert.match(gateCheck.body.toString(), /^(allowed|blocked)$/);
  });

  it('lets a browser beyond loopback in with the token once: an HttpOnly SameSite=Strict cookie, and writes need the CSRF token', async () => {
    const before = await raw(`${s.url}/api/web/session`, { headers: REMOTE });
    assert.equal(before.status, 401);
    const wrong = await raw(`${s.url}/api/web/login`, { method: 'POST', headers: { ...REMOTE, 'content-type': 'application/json' }, body: JSON.stringify({ token: 'not-it' }) });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.error, 'unauthorized');
    assert.equal(wrong.headers.getSetCookie().length, 0);
    const bad = await raw(`${s.url}/api/web/login`, { method: 'POST', headers: { ...REMOTE, 'content-type': 'application/json' }, body: JSON.stringify({ token: 'x', code: 'y', extra: 1 }) });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error, 'validation_failed');
    assert.ok(bad.json.fields.extra, JSON.stringify(bad.json));

    const token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
    const ok = await raw(`${s.url}/api/web/login`, { method: 'POST', headers: { ...REMOTE, 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.equal(ok.headers.get('cache-control'), 'no-store');
    const cookies = cookiesOf(ok.headers);
    const session = cookies.get('ta_session')!;
    const csrf = cookies.get('ta_csrf')!;
    assert.match(session, /; HttpOnly/);
    assert.match(session, /; SameSite=Strict/);
    assert.match(session, /; Path=\//);
    assert.doesNotMatch(session, /; Secure/, 'plain http: no Secure flag (the browser would drop the cookie)');
    assert.doesNotMatch(csrf, /HttpOnly/, 'the page reads the CSRF cookie');
    const cookie = `ta_session=${valueOf(session)}; ta_csrf=${valueOf(csrf)}`;

    const who = await raw(`${s.url}/api/web/session`, { headers: { ...REMOTE, cookie } });
    assert.equal(who.status, 200);
    assert.equal(who.json.via, 'cookie');
    assert.equal((await raw(`${s.url}/api/instances`, { headers: { ...REMOTE, cookie } })).status, 200, 'reads need only the cookie');

    const write = (headers: Record<string, string>) =>
      raw(`${s.url}/api/mode`, { method: 'POST', headers: { ...REMOTE, cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ mode: 'break', minutes: 15 }) });
    const modeBefore = (await s.get('/api/mode')).body.mode as string;
    assert.notEqual(modeBefore, 'break');
    const noCsrf = await write({});
    assert.equal(noCsrf.status, 403);
    assert.match(noCsrf.json.message, /X-CSRF-Token/);
    assert.equal((await write({ 'x-csrf-token': 'forged' })).status, 403);
    assert.equal((await s.get('/api/mode')).body.mode, modeBefore, 'a refused write changed nothing');
    const done = await write({ 'x-csrf-token': valueOf(csrf) });
    assert.equal(done.status, 200, JSON.stringify(done.json));
    assert.equal(done.json.mode, 'break');

    // The Origin rule comes first: another origin is refused whatever the cookie.
    const cross = await write({ 'x-csrf-token': valueOf(csrf), origin: 'http://100.70.1.2:9999', host: new URL(s.url).host });
    assert.equal(cross.status, 403);
    assert.match(cross.json.message, /another origin/);

    // The live feed takes the cookie too (browsers cannot set Authorization on a WebSocket).
    await assert.rejects(connectFeed(s.wsUrl, { headers: REMOTE }), (err: Error & { status?: number }) => err.status === 401);
    const feed = await connectFeed(s.wsUrl, { headers: { ...REMOTE, cookie } });
    assert.equal((await feed.next('snapshot')).type, 'snapshot');
    await feed.close();

    // A session that has expired lets nobody in.
    clock.advance(31 * 86_400_000);
    assert.equal((await raw(`${s.url}/api/instances`, { headers: { ...REMOTE, cookie } })).status, 401);
  });

  it('logs in with a one-time code from POST /api/web/link, once, within web.link_minutes; links are made on this machine or with the token only', async () => {
    const link = await s.post('/api/web/link', undefined);
    assert.equal(link.status, 200, JSON.stringify(link.body));
    assert.equal(link.body.reachable, false, 'the test server listens on loopback only');
    const code = /#code=([A-Za-z0-9_-]+)$/.exec(link.body.url)![1]!;
    assert.match(link.body.url, /\/app\/#code=/);
    const use = () => raw(`${s.url}/api/web/login`, { method: 'POST', headers: { ...REMOTE, 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
    const first = await use();
    assert.equal(first.status, 200);
    assert.ok(cookiesOf(first.headers).has('ta_session'));
    const second = await use();
    assert.equal(second.status, 401, 'a code works once');
    assert.match(second.json.message, /token-api web link/);

    const late = (await s.post('/api/web/link', undefined)).body.url as string;
    clock.advance(5 * 60_000 + 1);
    const expired = await raw(`${s.url}/api/web/login`, { method: 'POST', headers: { ...REMOTE, 'content-type': 'application/json' }, body: JSON.stringify({ code: /#code=(.+)$/.exec(late)![1] }) });
    assert.equal(expired.status, 401, 'an expired code');

    // Beyond loopback: a cookie session may not mint links; nobody without the token may.
    const cookie = `ta_session=${valueOf(cookiesOf(first.headers).get('ta_session')!)}; ta_csrf=${valueOf(cookiesOf(first.headers).get('ta_csrf')!)}`;
    const fromCookie = await raw(`${s.url}/api/web/link`, { method: 'POST', headers: { ...REMOTE, cookie, 'x-csrf-token': valueOf(cookiesOf(first.headers).get('ta_csrf')!) } });
    assert.equal(fromCookie.status, 403);
    assert.equal((await raw(`${s.url}/api/web/link`, { method: 'POST', headers: REMOTE })).status, 401);
    const token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
    assert.equal((await raw(`${s.url}/api/web/link`, { method: 'POST', headers: { ...REMOTE, authorization: `Bearer ${token}` } })).status, 200);

    // Logging out clears both cookies.
    const out = await raw(`${s.url}/api/web/logout`, { method: 'POST', headers: { ...REMOTE, cookie, 'x-csrf-token': valueOf(cookiesOf(first.headers).get('ta_csrf')!) } });
    assert.equal(out.status, 204);
    for (const c of cookiesOf(out.headers).values()) assert.match(c, /Max-Age=0/);
  });

  it('`token-api web link` prints a QR code that holds the link, and the link itself', async () => {
    const r = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'web', 'link', '--url', s.url], { env: { ...process.env, TOKEN_API_HOME: home.dir } });
    const lines = r.stdout.trimEnd().split('\n');
    const url = lines.at(-1)!;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/app\/#code=[A-Za-z0-9_-]{20,}$/);
    const qr = lines.slice(0, -2);
    assert.ok(qr.length >= 15, `${qr.length} lines of QR code`);
    assert.ok(qr.every((l) => l.startsWith('\u001b[47m\u001b[30m')), 'dark modules on an explicit white background');
    assert.match(r.stderr, /works here alone/, 'says the link cannot reach a phone while token-api listens on loopback');
    // The code in the printed link logs a browser in.
    const code = /#code=(.+)$/.exec(url)![1];
    const login = await raw(`${s.url}/api/web/login`, { method: 'POST', headers: { ...REMOTE, 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
    assert.equal(login.status, 200);
    const help = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'web', '--help']);
    assert.match(help.stdout, /token-api web link/);
  });

  it('puts web.public_url, else this machine’s outward address, in the link', () => {
    assert.deepEqual(publicBase({ host: '127.0.0.1', publicUrl: null }, 7777), { base: 'http://127.0.0.1:7777', reachable: false });
    assert.deepEqual(publicBase({ host: '0.0.0.0', publicUrl: null }, 7777, () => '100.101.102.103'), { base: 'http://100.101.102.103:7777', reachable: true });
    assert.deepEqual(publicBase({ host: '0.0.0.0', publicUrl: 'https://desk.example.ts.net' }, 7777), { base: 'https://desk.example.ts.net', reachable: true });
  });
});

describe('the session cookie under TLS', () => {
  const home = tempHome();
  let s: FeedServer;
  before(async () => {
    const { dir } = await builtWeb();
    s = await startFeedServer(home.dir, { ...QUIET, web: { public_url: 'https://desk.example.ts.net' } }, { webRoot: dir, peerAddress: () => '100.70.1.2' });
  });
  after(async () => {
    await s.close();
    home.cleanup();
  });

  it('is Secure when the page is published over https, and the published origin counts as the page’s own', async () => {
    const token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
    const r = await raw(`${s.url}/api/web/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://desk.example.ts.net' }, body: JSON.stringify({ token }) });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    for (const c of cookiesOf(r.headers).values()) assert.match(c, /; Secure/);
    const other = await raw(`${s.url}/api/web/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, body: JSON.stringify({ token }) });
    assert.equal(other.status, 403);
  });
});
