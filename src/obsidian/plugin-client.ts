// HTTPS to Obsidian's Local REST API plugin, trusting exactly the certificate the config names:
// its PEM file (`obsidian.certificate`, used as the only CA), or its SHA-256 fingerprint
// (`obsidian.fingerprint`: a first TLS handshake reads the certificate and compares it before
// anything is sent; the request itself then trusts only that certificate, its fingerprint
// checked again). The API key goes only to a server that passed. Every way the plugin can fail
// (down, slow, refusing the key, a certificate that does not match) is a DomainError
// `bad_gateway` whose message names the plugin and says what to check.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, type PeerCertificate } from 'node:tls';
import type { ObsidianSettings } from '../config/obsidian.js';
import { DomainError } from '../lib/domain-error.js';

export const PLUGIN = "Obsidian's Local REST API plugin";

export interface PluginAnswer {
  status: number;
  contentType: string;
  text: string;
}

/** Answers larger than this are cut off (a command or eval answer is small). */
const MAX_ANSWER_BYTES = 1024 * 1024;

const gateway = (message: string) => new DomainError('bad_gateway', message);

function pemOf(raw: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${raw.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

/** Words for a network or TLS failure reaching the plugin. */
function failureWords(err: NodeJS.ErrnoException, url: string): string {
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED') return `${PLUGIN} does not answer at ${url} (connection refused): is Obsidian running, with the plugin enabled?`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `${PLUGIN}'s host in ${url} is not found (obsidian.url)`;
  if (code === 'ECONNRESET' || code === 'EPIPE') return `${PLUGIN} at ${url} closed the connection (${code}); is obsidian.url the plugin's HTTPS port (27124) for an https:// URL?`;
  if (code === 'EPROTO' || /wrong version number|packet length too long/i.test(err.message)) {
    return `${PLUGIN} at ${url} does not speak TLS there (${err.message}); use http:// for the plugin's non-encrypted port, https:// for its HTTPS port`;
  }
  if (/SELF_SIGNED|UNABLE_TO_VERIFY|CERT_|unable to verify|self-signed|self signed/i.test(code + err.message)) {
    return `${PLUGIN}'s certificate at ${url} is not trusted (${err.message}): set obsidian.certificate to its file (the plugin serves it at ${url}/obsidian-local-rest-api.crt) or obsidian.fingerprint to its SHA-256 fingerprint`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `${PLUGIN}'s certificate at ${url} is not made out for that host (${err.message}); use the host it names, or pin it with obsidian.fingerprint`;
  return `${PLUGIN} at ${url} could not be reached: ${err.message}`;
}

export function createPluginClient(settings: () => ObsidianSettings) {
  /** The certificate a fingerprint named, as PEM, once a handshake showed it. */
  const pinned = new Map<string, string>();

  /** Reads the server's certificate without sending anything, and checks its fingerprint. */
  function certificateOf(u: URL, s: ObsidianSettings): Promise<string> {
    const want = s.fingerprint!;
    const known = pinned.get(`${u.host} ${want}`);
    if (known) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 443), servername: /^[\d.:[\]]+$/.test(u.hostname) ? undefined : u.hostname, rejectUnauthorized: false });
      const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`no TLS handshake within ${s.timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })), s.timeoutMs);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        const cert = socket.getPeerCertificate(true) as PeerCertificate;
        socket.end();
        if (!cert?.raw) return reject(gateway(`${PLUGIN} at ${u.origin} showed no certificate`));
        if (cert.fingerprint256 !== want) {
          return reject(gateway(`${PLUGIN}'s certificate at ${u.origin} has the SHA-256 fingerprint ${cert.fingerprint256}, not ${want} (obsidian.fingerprint): nothing was sent to it`));
        }
        const pem = pemOf(cert.raw);
        pinned.set(`${u.host} ${want}`, pem);
        resolve(pem);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(gateway(failureWords(err, u.origin)));
      });
    });
  }

  async function tlsOptions(u: URL, s: ObsidianSettings): Promise<RequestOptions & { ca?: string | Buffer; checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined }> {
    if (u.protocol !== 'https:') return {};
    if (s.fingerprint) {
      const want = s.fingerprint;
      const ca = await certificateOf(u, s);
      // The fingerprint is the identity: the host name in the certificate does not matter.
      return { ca, checkServerIdentity: (_host, cert) => (cert.fingerprint256 === want ? undefined : new Error(`the certificate's fingerprint ${cert.fingerprint256} is not ${want}`)) };
    }
    if (s.certificate) {
      let ca: Buffer;
      try {
        ca = readFileSync(s.certificate);
        new X509Certificate(ca);
      } catch (err) {
        throw new DomainError('not_installed', `cannot use obsidian.certificate ${s.certificate}: ${(err as Error).message}`);
      }
      return { ca };
    }
    return {};
  }

  return {
    /** One request to the plugin, with the API key; throws DomainError for what is not an answer. */
    async request(method: 'GET' | 'POST', path: string, body?: { type: string; text: string }): Promise<PluginAnswer> {
      const s = settings();
      if (!s.apiKey) throw new DomainError('not_installed', `Obsidian is not set up: set obsidian.api_key in the config file (${PLUGIN}'s settings in Obsidian show the key)`);
      const base = new URL(s.url);
      const u = new URL(path.replace(/^\//, ''), base.href.endsWith('/') ? base.href : `${base.href}/`);
      const options: RequestOptions = {
        method,
        headers: {
          authorization: `Bearer ${s.apiKey}`,
          accept: 'application/json',
          ...(body ? { 'content-type': body.type, 'content-length': String(Buffer.byteLength(body.text)) } : { 'content-length': '0' }),
        },
        timeout: s.timeoutMs,
        ...(await tlsOptions(base, s)),
      };
      const send = base.protocol === 'https:' ? httpsRequest : httpRequest;
      return new Promise((resolve, reject) => {
        const req = send(u, { ...options, agent: false }, (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= MAX_ANSWER_BYTES) chunks.push(c);
          });
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status === 401 || status === 403) {
              return reject(gateway(`${PLUGIN} at ${base.origin} refused the API key (${status}): check obsidian.api_key against the key in the plugin's settings`));
            }
            if (status >= 500) return reject(gateway(`${PLUGIN} at ${base.origin} failed (${status}): ${text.slice(0, 300) || 'no message'}`));
            resolve({ status, contentType: String(res.headers['content-type'] ?? ''), text });
          });
          res.on('error', (err) => reject(gateway(failureWords(err, base.origin))));
        });
        req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${s.timeoutMs / 1000} s (obsidian.timeout_seconds)`), { code: 'ETIMEDOUT' })));
        req.on('error', (err: NodeJS.ErrnoException) => reject(err instanceof DomainError ? err : gateway(err.code === 'ETIMEDOUT' ? `${PLUGIN} at ${base.origin} gave ${err.message}` : failureWords(err, base.origin))));
        req.end(body?.text);
      });
    },
  };
}

export type PluginClient = ReturnType<typeof createPluginClient>;
