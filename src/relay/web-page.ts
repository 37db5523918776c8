// The web page on the relay: the same build `serve` answers at /app/ (dist/web), so a phone away
// from home opens the relay's address and gets the page that then talks to home through the
// relay. Its index.html carries one more tag, <meta name="token-api-relay">, which is how the
// page knows where it runs (its relay transport then loads; nothing else differs). Files are
// read once; hashed ones cached for a year, the rest revalidated by ETag.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { assetFor, DEFAULT_WEB_ROOT, etagMatches, etagOf, loadBuiltPage, PAGE_HEADERS, WEB_PREFIX, type Asset } from '../lib/web-assets.js';

export const RELAY_MARK = '<meta name="token-api-relay" content="1">';

/** index.html marked as the relay's, with its compressed copies made again. */
function marked(index: Asset): Asset {
  const body = Buffer.from(index.body.toString('utf8').replace('<head>', `<head>\n${RELAY_MARK}`));
  return { ...index, body, etag: etagOf(body), br: brotliCompressSync(body), gz: gzipSync(body) };
}

/** A request handler for GET/HEAD /app/…: true when it answered, false for anything else. */
export function relayWebPage(root: string = DEFAULT_WEB_ROOT): (req: IncomingMessage, res: ServerResponse, send: (status: number, body: string) => void) => boolean {
  let files: Map<string, Asset> | null = null;
  const load = (): Map<string, Asset> | null => {
    if (files) return files;
    const built = loadBuiltPage(root);
    if (built?.has('index.html')) built.set('index.html', marked(built.get('index.html')!));
    return (files = built);
  };
  return (req, res, send) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (read && (path === '/app' || (path === '/' && /text\/html/.test(req.headers.accept ?? '')))) {
      res.writeHead(302, { Location: WEB_PREFIX, 'Content-Length': 0 });
      res.end();
      return true;
    }
    if (!path.startsWith(WEB_PREFIX)) return false;
    if (!read) {
      res.setHeader('Allow', 'GET, HEAD');
      send(405, JSON.stringify({ error: 'method_not_allowed', message: `${req.method} is not allowed on the web page's files; they are read with GET` }));
      return true;
    }
    const built = load();
    if (!built) {
      send(503, JSON.stringify({ error: 'unavailable', message: `the web page is not built: run \`npm run build\` in token-api's folder (it writes ${root})` }));
      return true;
    }
    const asset = assetFor(built, path.slice(WEB_PREFIX.length));
    if (!asset) {
      send(404, JSON.stringify({ error: 'not_found', message: `no file ${path.slice(0, 200)} in the web page` }));
      return true;
    }
    const headers: Record<string, string> = { ...PAGE_HEADERS, 'Cache-Control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache', ETag: asset.etag, Vary: 'Accept-Encoding', 'Content-Type': asset.type };
    const inm = req.headers['if-none-match'];
    if (inm && etagMatches(inm, asset.etag)) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    const accepts = req.headers['accept-encoding'] ?? '';
    let body = asset.body;
    if (asset.br && /\bbr\b/.test(accepts)) {
      headers['Content-Encoding'] = 'br';
      body = asset.br;
    } else if (asset.gz && /\bgzip\b/.test(accepts)) {
      headers['Content-Encoding'] = 'gzip';
      body = asset.gz;
    }
    headers['Content-Length'] = String(body.length);
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
