// Serves the web page (dist/web, built by `npm run build`) under /app/, before the access
// check: the files hold no data, and the login form must load without a token. Hashed files
// are cached for a year (immutable); index.html, sw.js and the manifest are revalidated
// (no-cache, ETag, 304). The .br/.gz copies the build wrote are sent as they are, chosen by
// Accept-Encoding: nothing is compressed while answering. Every answer carries a strict
// content security policy and the usual hardening headers. `GET /` from a browser (Accept
// prefers HTML, no query) is sent to /app/; scripts and the legacy `/?app=` check are not.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context, Next } from 'koa';
import { HttpError } from './errors.js';

export const WEB_PREFIX = '/app/';
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
};

// Scripts and styles come from this origin alone, never inline (the page and uPlot set styles
// through the CSSOM, which the policy allows). A terminal view (@xterm/xterm) writes style
// attributes for 24-bit colours: it will need "style-src 'self' 'unsafe-inline'".
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  body: Buffer;
  br?: Buffer;
  gz?: Buffer;
  type: string;
  etag: string;
  immutable: boolean;
}

const walk = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));

/** Every file of a build, with its compressed copies, read once. */
export function loadWebAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const file of walk(dir)) {
    if (/\.(br|gz)$/.test(file)) continue;
    const rel = relative(dir, file).split('\\').join('/');
    const body = readFileSync(file);
    assets.set(rel, {
      body,
      type: TYPES[extname(file)] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      // esbuild names: app-ABCDEFGH.js, c/chunk-ABCDEFGH.js (8 characters of hash).
      immutable: /-[A-Z0-9]{8}\.(js|css|map)$/.test(rel),
      ...(existsSync(`${file}.br`) ? { br: readFileSync(`${file}.br`) } : {}),
      ...(existsSync(`${file}.gz`) ? { gz: readFileSync(`${file}.gz`) } : {}),
    });
  }
  return assets;
}

export function setPageHeaders(ctx: Context): void {
  ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
  ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
}

function etagMatches(header: string, etag: string): boolean {
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*');
}

/** Koa middleware: the page under /app/, and browsers asking for / sent there. */
export function webStatic(root: string = DEFAULT_WEB_ROOT) {
  let assets: Map<string, Asset> | null = null;
  const load = (): Map<string, Asset> | null => {
    if (!assets && existsSync(join(root, 'index.html'))) assets = loadWebAssets(root);
    return assets;
  };
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
    // A path with no extension is a place in the page: answer with the page itself.
    const asset = files.get(rel === '' ? 'index.html' : rel) ?? (extname(rel) === '' ? files.get('index.html') : undefined);
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
