// Where a relay client command connects, from its options, shared by `relay request`,
// `relay feed` and `tui --relay`: a pairing code (--pairing-file, else $TOKEN_API_RELAY_PAIRING:
// end-to-end encrypted, the relay's self-signed certificate pinned by the fingerprint the code
// carries), or a relay URL, --room and the client token ($TOKEN_API_RELAY_TOKEN or --token-file,
// never on the command line, where other users of the machine could read it).
import { readFileSync } from 'node:fs';
import { RelayClientError, type RelayClientOptions } from '../relay/client.js';
import { decodePairingCode } from '../relay/pairings.js';
import { CertificateMismatch, pinnedCertificate } from '../relay/pin.js';

type Values = Record<string, string | boolean | undefined>;

/** A mistake in what was typed: said in a line, exit 2. */
export class RelayUsageError extends Error {}

export function readFileOrSay(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new RelayUsageError(`cannot read ${what} ${file}: ${(err as Error).message}`);
  }
}

/** The options read and checked (a usage error at once), and the certificate to pin on connecting. */
export interface RelayTarget {
  options: RelayClientOptions;
  /** The pairing code's fingerprint of a self-signed relay (when no --ca is given). */
  pin?: { url: string; fingerprint: string };
}

/** `urlOption`: the option naming the relay's URL (`url` for `relay request`, `relay` for `tui`). */
export function relayTargetOf(values: Values, urlOption: string, env: NodeJS.ProcessEnv = process.env): RelayTarget {
  const ca = typeof values.ca === 'string' ? readFileOrSay(values.ca, 'the certificate') : undefined;
  const pairingText = typeof values['pairing-file'] === 'string' ? readFileOrSay(values['pairing-file'], 'the pairing file').toString('utf8') : env.TOKEN_API_RELAY_PAIRING;
  if (pairingText) {
    const code = decodePairingCode(pairingText);
    if (!code) throw new RelayUsageError('that is not a pairing code (it starts with tapi1:, as token-api relay pair prints it)');
    const options = { url: code.url, room: code.room, token: code.token, pairing: { id: code.pairing, psk: code.psk }, ...(ca ? { ca } : {}) };
    return !ca && code.fingerprint && /^(https|wss):/.test(code.url) ? { options, pin: { url: code.url, fingerprint: code.fingerprint } } : { options };
  }
  const url = values[urlOption];
  if (typeof url !== 'string' || typeof values.room !== 'string') throw new RelayUsageError(`give --pairing-file FILE, or --${urlOption} URL and --room NAME`);
  const tokenText = typeof values['token-file'] === 'string' ? readFileOrSay(values['token-file'], 'the token file').toString('utf8').trim() : env.TOKEN_API_RELAY_TOKEN?.trim();
  if (!tokenText) throw new RelayUsageError('the client token goes in $TOKEN_API_RELAY_TOKEN or --token-file FILE');
  return { options: { url, room: values.room, token: tokenText, ...(ca ? { ca } : {}) } };
}

/** The options to connect with: the pinned certificate fetched and checked first, when there is one. */
export async function relayClientOptions(target: RelayTarget): Promise<RelayClientOptions> {
  if (!target.pin) return target.options;
  const ca = await pinnedCertificate(target.pin.url, target.pin.fingerprint).catch((err: Error) => Promise.reject(new RelayClientError(err.message, undefined, err instanceof CertificateMismatch ? 'certificate_mismatch' : undefined)));
  return { ...target.options, ca };
}
