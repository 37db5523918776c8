// Where a request came from: loopback callers are this machine (their pids are ours).
import type { Context } from 'koa';

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || a.startsWith('127.');
}

export function remoteAddress(ctx: Context): string | undefined {
  return ctx.req.socket.remoteAddress;
}

export function isLoopback(ctx: Context): boolean {
  return isLoopbackAddress(remoteAddress(ctx));
}
