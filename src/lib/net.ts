// Addresses and networks: loopback callers are this machine (their pids are ours); a list of
// networks (the gate's check networks) becomes one matcher.
import { BlockList, isIP } from 'node:net';

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || a.startsWith('127.');
}

/** "::ffff:1.2.3.4" is the IPv4 host 1.2.3.4. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export function parseNetwork(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [address = '', prefixText, extra] = text.trim().split('/');
  if (extra !== undefined) return null;
  const version = isIP(address);
  if (version === 0) return null;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return null;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** A matcher for a list of networks (already validated by the config schema). */
export function networkMatcher(networks: readonly string[]): (address: string | undefined) => boolean {
  const list = new BlockList();
  for (const n of networks) {
    const net = parseNetwork(n);
    if (net) list.addSubnet(net.address, net.prefix, net.family);
  }
  return (address) => {
    if (!address) return false;
    const a = plainAddress(address);
    const version = isIP(a);
    if (version === 0) return false;
    return list.check(a, version === 4 ? 'ipv4' : 'ipv6');
  };
}
