// Addresses and networks: loopback callers are this machine (their pids are ours); a list of
// networks (the gate's check networks) becomes one matcher; where browsers elsewhere reach a
// server listening on a host and port.
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

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

/** This machine's address as others see it: a Tailscale one (100.64.0.0/10) first, else any non-loopback IPv4. */
export function outwardAddress(interfaces = networkInterfaces()): string | null {
  const all = Object.values(interfaces).flatMap((list) => list ?? []).filter((i) => i.family === 'IPv4' && !i.internal);
  const tailscale = all.find((i) => {
    const [a, b] = i.address.split('.').map(Number);
    return a === 100 && b! >= 64 && b! <= 127;
  });
  return (tailscale ?? all[0])?.address ?? null;
}

/**
 * Where a browser elsewhere reaches a server listening on `host`:`port`: its public URL when
 * one is set, else its own address (this machine's outward one for a wildcard host); not
 * reachable when it listens on loopback only.
 */
export function publicBase(o: { host: string; publicUrl: string | null }, port: number, address = outwardAddress): { base: string; reachable: boolean } {
  if (o.publicUrl) return { base: o.publicUrl, reachable: true };
  const wildcard = o.host === '0.0.0.0' || o.host === '::';
  if (!wildcard && (isLoopbackAddress(o.host) || o.host === 'localhost')) return { base: `http://127.0.0.1:${port}`, reachable: false };
  const host = wildcard ? address() : o.host;
  if (!host) return { base: `http://127.0.0.1:${port}`, reachable: false };
  return { base: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, reachable: true };
}
