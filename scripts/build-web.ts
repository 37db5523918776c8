// Builds the web page (src/web) into dist/web, run by `npm run build` (and so by `npm install`):
// esbuild bundles and hashes the code and CSS (lazy views in chunks of their own), then this
// script writes index.html, the service worker (its shell list and version filled in), the
// manifest, the icons, .br/.gz copies for the server to send as they are, and build.json: the
// files of the first load and their compressed sizes (read by test/web-build.test.ts and the bench).
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { writeIcons } from './web-icons.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const WEB_BASE = '/app/';
const COMPRESSIBLE = /\.(js|css|html|svg|webmanifest|json)$/;

export interface FileSize {
  file: string;
  raw: number;
  gzip: number;
  br: number;
}

export interface BuildReport {
  /** Files of the first load: index.html, the entry's CSS and the JS it imports statically. */
  firstLoad: { files: string[]; raw: number; gzip: number; br: number };
  /** Every file (no maps, no compressed copies), with its sizes. */
  files: FileSize[];
  /** Source files bundled into the first load (paths relative to the repository). */
  firstLoadInputs: string[];
  /** The service worker's cache version (a hash of the shell's names). */
  version: string;
  ms: number;
}

const walk = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
const brotli = (b: Buffer) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });

function indexHtml(css: string | null, js: string): string {
  return `<!doctype html>
<html lang="en" data-theme="dark">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="color-scheme" content="dark light">
<meta name="theme-color" content="#0b0b0c">
<meta name="description" content="token-api: your coding agents, the work mode and token usage, live">
<title>token-api</title>
<link rel="manifest" href="${WEB_BASE}manifest.webmanifest">
<link rel="icon" href="${WEB_BASE}icons/icon.svg" type="image/svg+xml">
<link rel="apple-touch-icon" href="${WEB_BASE}icons/icon-180.png">
${css ? `<link rel="stylesheet" href="${WEB_BASE}${css}">\n` : ''}<script type="module" src="${WEB_BASE}${js}"></script>
</head>
<body><div id="app"></div><noscript>token-api's page needs JavaScript; <code>token-api tui</code> is the terminal dashboard.</noscript></body>
</html>
`;
}

export async function buildWeb(o: { outDir?: string; log?: (line: string) => void } = {}): Promise<BuildReport> {
  const t0 = performance.now();
  const out = resolve(o.outDir ?? join(ROOT, 'dist/web'));
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const entry = join(ROOT, 'src/web/main.tsx');
  const result = await esbuild.build({
    entryPoints: { app: entry },
    absWorkingDir: ROOT,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'safari16'],
    minify: true,
    sourcemap: 'linked',
    legalComments: 'none',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(ROOT, 'src/web/tsconfig.json'),
    define: { 'process.env.NODE_ENV': '"production"' },
    entryNames: '[name]-[hash]',
    chunkNames: 'c/[name]-[hash]',
    assetNames: 'a/[name]-[hash]',
    outdir: out,
    metafile: true,
    logLevel: 'silent',
  });
  const outputs = result.metafile.outputs;
  const [entryOut, entryMeta] = Object.entries(outputs).find(([, m]) => m.entryPoint !== undefined)!;
  const rel = (p: string) => relative(out, resolve(ROOT, p)).split('\\').join('/');
  const js = rel(entryOut);
  const css = entryMeta.cssBundle ? rel(entryMeta.cssBundle) : null;

  // The first load: the entry and every chunk it imports statically (never those behind import()).
  const closure = new Set<string>();
  const visit = (p: string) => {
    if (closure.has(p)) return;
    closure.add(p);
    for (const i of outputs[p]?.imports ?? []) if (i.kind === 'import-statement' && !i.external) visit(i.path);
  };
  visit(entryOut);
  if (entryMeta.cssBundle) closure.add(entryMeta.cssBundle);
  const firstFiles = ['index.html', ...[...closure].map(rel)];
  const firstLoadInputs = [...new Set([...closure].flatMap((p) => Object.keys(outputs[p]?.inputs ?? {})))].sort();

  writeFileSync(join(out, 'index.html'), indexHtml(css, js));
  const icons = writeIcons(join(out, 'icons'));
  const manifest = {
    name: 'token-api',
    short_name: 'token-api',
    description: 'Your coding agents, the work mode and token usage, live',
    id: WEB_BASE,
    start_url: WEB_BASE,
    scope: WEB_BASE,
    display: 'standalone',
    orientation: 'any',
    background_color: '#0b0b0c',
    theme_color: '#0b0b0c',
    icons: [
      ...icons.map((i) => ({ src: `${WEB_BASE}icons/${i.file}`, sizes: `${i.size}x${i.size}`, type: 'image/png', purpose: i.maskable ? 'maskable' : 'any' })),
      { src: `${WEB_BASE}icons/icon.svg`, sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
    ],
  };
  writeFileSync(join(out, 'manifest.webmanifest'), `${JSON.stringify(manifest, null, 2)}\n`);

  // The service worker keeps its URL (no hash); its cache is versioned by the shell's names.
  const shell = [WEB_BASE, ...firstFiles.filter((f) => f !== 'index.html').map((f) => WEB_BASE + f), `${WEB_BASE}manifest.webmanifest`, `${WEB_BASE}icons/icon.svg`, `${WEB_BASE}icons/icon-192.png`];
  const version = createHash('sha256').update(shell.join('\n')).digest('hex').slice(0, 12);
  const sw = readFileSync(join(ROOT, 'src/web/sw.js'), 'utf8').replaceAll('__VERSION__', version).replace('__SHELL__', JSON.stringify(shell));
  writeFileSync(join(out, 'sw.js'), sw);

  const files: FileSize[] = [];
  for (const f of walk(out)) {
    if (/\.(map|br|gz)$/.test(f)) continue;
    const buf = readFileSync(f);
    const file = relative(out, f).split('\\').join('/');
    const compressible = COMPRESSIBLE.test(file);
    const gz = compressible ? gzipSync(buf, { level: 9 }) : buf;
    const br = compressible ? brotli(buf) : buf;
    files.push({ file, raw: buf.length, gzip: gz.length, br: br.length });
    // The server sends these as they are; it never compresses while answering.
    if (compressible && buf.length > 512) {
      writeFileSync(`${f}.gz`, gz);
      writeFileSync(`${f}.br`, br);
    }
  }
  files.sort((a, b) => a.file.localeCompare(b.file));
  const first = files.filter((f) => firstFiles.includes(f.file));
  const sum = (k: 'raw' | 'gzip' | 'br') => first.reduce((a, f) => a + f[k], 0);
  const report: BuildReport = {
    firstLoad: { files: firstFiles, raw: sum('raw'), gzip: sum('gzip'), br: sum('br') },
    files,
    firstLoadInputs,
    version,
    ms: Math.round(performance.now() - t0),
  };
  writeFileSync(join(out, 'build.json'), `${JSON.stringify(report, null, 2)}\n`);
  o.log?.(`web page built into ${relative(process.cwd(), out) || '.'} in ${report.ms} ms: first load ${(report.firstLoad.gzip / 1024).toFixed(1)} KB gzip, ${(report.firstLoad.br / 1024).toFixed(1)} KB brotli`);
  return report;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outIndex = process.argv.indexOf('--out');
  buildWeb({ outDir: outIndex > 0 ? process.argv[outIndex + 1] : undefined, log: (l) => process.stderr.write(`${l}\n`) }).catch((err: Error & { errors?: { text: string; location?: { file: string; line: number } | null }[] }) => {
    const detail = err.errors?.map((e) => `  ${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`).join('\n');
    process.stderr.write(`building the web page failed: ${detail || err.message}\n`);
    process.exit(1);
  });
}
