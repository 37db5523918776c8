// Where the relay's WebSocket endpoints are, from its base URL (https:// or wss://, http:// or
// ws://): servers connect to /v1/relay/server, clients to /v1/relay/client, each with ?room=.
export const SERVER_PATH = '/v1/relay/server';
export const CLIENT_PATH = '/v1/relay/client';
export const TOKENS_PATH = '/v1/relay/tokens';
export const WHOAMI_PATH = '/v1/relay/whoami';

export function relaySocketUrl(base: string, path: typeof SERVER_PATH | typeof CLIENT_PATH, room: string): string {
  const u = new URL(base);
  u.protocol = u.protocol === 'https:' || u.protocol === 'wss:' ? 'wss:' : 'ws:';
  u.pathname = `${u.pathname.replace(/\/$/, '')}${path}`;
  u.search = `room=${encodeURIComponent(room)}`;
  return u.toString();
}
