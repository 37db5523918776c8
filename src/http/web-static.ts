// Serves the web page (dist/web, built by `npm run build`) under /app/, before the access
// check: the files hold no data, and the login form must load without a token. Hashed files
// are cached for a year (immutable); index.html, sw.js and the manifest are revalidated
// (no-cache, ETag, 304). The .br/.gz copies the build wrote are sent as they are, chosen by
// Accept-Encoding: nothing is compressed while answering. Every answer carries a strict
// content security policy and the usual hardening headers. `GET /` from a browser (Accept
// prefers HTML, no query) is sent to /app/; scripts and the legacy `/?app=` check are not.
import type { Context, Next } from 'koa';
import { assetFor, DEFAULT_WEB_ROOT, etagMatches, loadBuiltPage, PAGE_HEADERS, WEB_PREFIX, type Asset } from '../lib/web-assets.js';
import { HttpError } from './errors.js';

export { CONTENT_SECURITY_POLICY, DEFAULT_WEB_ROOT, WEB_PREFIX } from '../lib/web-assets.js';

export function setPageHeaders(ctx: Context): void {
  for (const [k, v] of Object.entries(PAGE_HEADERS)) ctx.set(k, v);
}

/** Koa middleware: the page under /app/, and browsers asking for / sent there. */
export function webStatic(root: string = DEFAULT_WEB_ROOT) {
  let assets: Map<string, Asset> | null = null;
  const load = (): Map<string, Asset> | null => (assets ??= loadBuiltPage(root));
  return async function web(ctx: Context, next: Next): Promise<void> {
    const read = ctx.method === 'GET' || ctx.method === 'HEAD';
    if (read && ctx.path === '/' && ctx.querystring === '' && ctx.accepts('json', 'html') === 'html') {
      ctx.redirect(WEB_PREFIX);
      return;
    }
    if (ctx.path === '/app') {
      if (!read) throw new HttpError(405, 'method_not_allowed', `${ctx.method} is not allowed here; the web page is read with GET`);
      ctx.redirect(WEB_PREFIX);
      return;
    }
    if (!ctx.path.startsWith(WEB_PREFIX)) return next();
    if (!read) {
      ctx.set('Allow', 'GET, HEAD');
      throw new HttpError(405, 'method_not_allowed', `${ctx.method} is not allowed on the web page's files; they are read with GET`);
    }
    const files = load();
    if (!files) throw new HttpError(503, 'unavailable', `the web page is not built: run \`npm run build\` in token-api's folder (it writes ${root})`);
    const rel = ctx.path.slice(WEB_PREFIX.length);
    const asset = assetFor(files, rel);
    if (!asset) throw new HttpError(404, 'not_found', `no file ${ctx.path.slice(0, 200)} in the web page`);
    setPageHeaders(ctx);
    ctx.set('Cache-Control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    ctx.set('ETag', asset.etag);
    ctx.vary('Accept-Encoding');
    ctx.type = asset.type;
    const inm = ctx.get('If-None-Match');
    if (inm && etagMatches(inm, asset.etag)) {
      ctx.status = 304;
      return;
    }
    // Brotli whenever the browser takes it (smaller), whatever order it lists encodings in.
    if (asset.br && ctx.acceptsEncodings('br', 'identity') === 'br') {
      ctx.set('Content-Encoding', 'br');
      ctx.body = asset.br;
    } else if (asset.gz && ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
      ctx.set('Content-Encoding', 'gzip');
      ctx.body = asset.gz;
    } else {
      ctx.body = asset.body;
    }
  };
}
