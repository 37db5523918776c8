// Trusting a relay with a self-signed certificate by its fingerprint, as a pairing code
// carries it: the certificate is fetched once over TLS without checking it, compared with the
// sha256 fingerprint (constant time), and, when it matches, used as the one CA of the real
// connection, which is then checked as usual. Nothing is sent before the check.
import { timingSafeEqual, X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';

/** The relay presented another certificate than the one pinned: only a new pairing code mends it. */
export class CertificateMismatch extends Error {}

/** The sha256 fingerprint of a PEM certificate, as hex without colons. */
export function fingerprintOf(pem: Buffer): string {
  return new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
}

/** The relay's certificate as PEM, if its fingerprint is `fingerprint`; throws otherwise. */
export function pinnedCertificate(url: string, fingerprint: string): Promise<Buffer> {
  const u = new URL(url);
  const port = Number(u.port || 443);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port, servername: /^[\d.]+$|:/.test(u.hostname) ? undefined : u.hostname, rejectUnauthorized: false });
    socket.once('error', (err) => reject(new Error(`cannot reach the relay at ${u.host}: ${err.message}`)));
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate().raw;
      socket.destroy();
      if (!raw) return reject(new CertificateMismatch('the relay presented no certificate'));
      const pem = Buffer.from(`-----BEGIN CERTIFICATE-----\n${raw.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`);
      const want = Buffer.from(fingerprint.toLowerCase());
      const got = Buffer.from(fingerprintOf(pem));
      if (want.length !== got.length || !timingSafeEqual(want, got)) return reject(new CertificateMismatch(`the relay's certificate is not the one in the pairing code (fingerprint ${got.toString().slice(0, 16)}…): someone may be in between`));
      resolve(pem);
    });
  });
}
