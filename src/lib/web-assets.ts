// The built web page (dist/web, written by `npm run build`) as files in memory, read once, each
// with its compressed copies, type and ETag, and the headers every answer of the page carries
// (a strict content security policy and the usual hardening). Shared by the server
// (src/http/web-static.ts) and the relay (src/relay/web-page.ts), which serve the same page.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** What every answer of the page carries. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
};

export interface Asset {
  body: Buffer;
  br?: Buffer;
  gz?: Buffer;
  type: string;
  etag: string;
  immutable: boolean;
}

const walk = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));

export const etagOf = (body: Buffer): string => `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;

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
      etag: etagOf(body),
      // esbuild names: app-ABCDEFGH.js, c/chunk-ABCDEFGH.js (8 characters of hash).
      immutable: /-[A-Z0-9]{8}\.(js|css|map)$/.test(rel),
      ...(existsSync(`${file}.br`) ? { br: readFileSync(`${file}.br`) } : {}),
      ...(existsSync(`${file}.gz`) ? { gz: readFileSync(`${file}.gz`) } : {}),
    });
  }
  return assets;
}

/** The build in `root`, or null while there is none (the page is not built yet). */
export const loadBuiltPage = (root: string): Map<string, Asset> | null => (existsSync(join(root, 'index.html')) ? loadWebAssets(root) : null);

export function etagMatches(header: string, etag: string): boolean {
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*');
}

/** The file a path under /app/ names: a path with no extension is a place in the page (the page itself). */
export function assetFor(files: Map<string, Asset>, rel: string): Asset | undefined {
  return files.get(rel === '' ? 'index.html' : rel) ?? (extname(rel) === '' ? files.get('index.html') : undefined);
}
