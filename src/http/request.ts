// The request line and the peer, read one way for every path in: the Koa routes, the fast paths
// in front of Koa, the access policy and the WebSocket upgrade. The peer is the socket's address
// unless the system was given a `peerAddress` (tests stand in for other hosts with it).
import type { IncomingMessage } from 'node:http';
import type { Context, Next } from 'koa';
import { isLoopbackAddress } from '../lib/net.js';

export interface RequestLine {
  method: string;
  /** The path without the query string. */
  path: string;
  /** The query string without its `?` ('' when there is none). */
  query: string;
}

/** Where a request comes from, when not its socket's address. */
export type PeerAddress = (req: IncomingMessage) => string | undefined;

export interface Peer {
  address: string | undefined;
  /** The caller is on this machine (its pids are ours). */
  local: boolean;
}

/** The URL split once into path and query. */
export function requestLine(req: IncomingMessage): RequestLine {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return { method: req.method ?? 'GET', path: q === -1 ? url : url.slice(0, q), query: q === -1 ? '' : url.slice(q + 1) };
}

export function peerOf(req: IncomingMessage, peerAddress?: PeerAddress): Peer {
  const address = peerAddress ? peerAddress(req) : req.socket.remoteAddress;
  return { address, local: isLoopbackAddress(address) };
}

/** Koa middleware: `ctx.state.peer` for the access policy and the routes after it. */
export function peerMiddleware(peerAddress?: PeerAddress) {
  return async function peer(ctx: Context, next: Next): Promise<void> {
    ctx.state.peer = peerOf(ctx.req, peerAddress);
    await next();
  };
}

/** The peer `peerMiddleware` found (the socket's, for an app built without it). */
export function peerOfContext(ctx: Context): Peer {
  return (ctx.state.peer as Peer | undefined) ?? peerOf(ctx.req);
}

/** A browser fetching a page ahead (a link preview, a prerender): it must not act, only look. */
export const isPrefetch = (ctx: Context): boolean => /prefetch|prerender/i.test(`${ctx.get('sec-purpose')} ${ctx.get('purpose')} ${ctx.get('x-moz')}`);
