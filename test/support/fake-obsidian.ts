// A stand-in for Obsidian's Local REST API plugin (Obsidian itself cannot run here): HTTPS on
// a loopback port with a self-signed certificate made at test time by the openssl command line
// (as the plugin makes its own), the plugin's Bearer API key, GET /commands/, POST
// /commands/{id}/ (204, or 404 for a command it does not have), and an eval route as a plugin
// that adds one would serve (it answers what it was given; it runs nothing). Every request it
// got is kept, so a test sees what token-api sent, and to whom.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface FakeObsidian {
  url: string;
  /** The PEM file of its certificate, and the certificate's SHA-256 fingerprint. */
  certFile: string;
  fingerprint: string;
  requests: { method: string; path: string; authorization: string | undefined; body: string }[];
  /** Stops answering: its port refuses connections. */
  down(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1 and localhost, in `dir` as `<name>.key` and `<name>.pem`. */
export function makeCertificate(dir: string, name: string): { keyFile: string; certFile: string; fingerprint: string } {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.pem`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=Obsidian Local REST API',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' });
  return { keyFile, certFile, fingerprint: new X509Certificate(readFileSync(certFile)).fingerprint256 };
}

export const COMMANDS = [
  { id: 'editor:save-file', name: 'Save current file' },
  { id: 'daily-notes', name: "Daily notes: Open today's daily note" },
  { id: 'app:go-back', name: 'Navigate back' },
];

export async function startFakeObsidian(dir: string, o: { apiKey: string; evalRoute?: string }): Promise<FakeObsidian> {
  const cert = makeCertificate(dir, 'obsidian');
  const requests: FakeObsidian['requests'] = [];
  const server: Server = createServer({ key: readFileSync(cert.keyFile), cert: readFileSync(cert.certFile) }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const path = req.url ?? '/';
      requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body });
      const json = (status: number, v: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(v));
      };
      if (req.headers.authorization !== `Bearer ${o.apiKey}`) return json(401, { errorCode: 40101, message: 'Authorization required. Find your API Key in the Local REST API settings.' });
      if (req.method === 'GET' && path === '/commands/') return json(200, { commands: COMMANDS });
      const cmd = /^\/commands\/([^/]+)\/$/.exec(path);
      if (req.method === 'POST' && cmd) {
        if (!COMMANDS.some((c) => c.id === decodeURIComponent(cmd[1]!))) return json(404, { errorCode: 40400, message: 'Not Found' });
        res.writeHead(204);
        return res.end();
      }
      if (req.method === 'POST' && o.evalRoute && path === o.evalRoute) {
        const { code } = JSON.parse(body) as { code: string };
        return json(200, { evaluated: code.length });
      }
      json(404, { errorCode: 40400, message: 'Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    certFile: cert.certFile,
    fingerprint: cert.fingerprint,
    requests,
    down: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
