// Starts the outbound relay connection of `serve` from the config's `relay` section: reads the
// room's server key (TOKEN_API_RELAY_KEY, else relay.key_file) and the CA to trust, and hands
// the connector the function that runs a relayed request in this server.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { ConfigError, type Config } from '../config/config.js';
import type { Clock } from '../lib/clock.js';
import { startRelayConnector, type ConnectorDeps, type RelayConnector } from './connector.js';
import { readPairings } from './pairings.js';

export function readServerKey(relay: NonNullable<Config['relay']>, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.TOKEN_API_RELAY_KEY?.trim();
  if (fromEnv) return fromEnv;
  try {
    const key = readFileSync(relay.keyFile, 'utf8').trim();
    if (key) return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`cannot read the relay server key ${relay.keyFile}: ${(err as Error).message}`);
  }
  throw new ConfigError(
    `the config names a relay (${relay.url}, room ${relay.room}) but no server key: put the key \`token-api relay room add ${relay.room}\` printed in ${relay.keyFile} (mode 0600), or set TOKEN_API_RELAY_KEY`,
  );
}

export function readCa(relay: NonNullable<Config['relay']>): Buffer | undefined {
  if (!relay.caFile) return undefined;
  try {
    return readFileSync(relay.caFile);
  } catch (err) {
    throw new ConfigError(`cannot read relay.ca_file ${relay.caFile}: ${(err as Error).message}`);
  }
}

export function startRelayLink(o: { relay: NonNullable<Config['relay']>; clock: Clock; logger: Logger } & Pick<ConnectorDeps, 'run' | 'openFeed'>): RelayConnector {
  const { relay } = o;
  return startRelayConnector({
    url: relay.url,
    room: relay.room,
    serverKey: readServerKey(relay),
    ca: readCa(relay),
    run: o.run,
    openFeed: o.openFeed,
    pairing: (id) => {
      try {
        return readPairings(relay.pairingsFile).find((p) => p.id === id);
      } catch (err) {
        o.logger.error({ err, file: relay.pairingsFile }, 'relay: cannot read the pairings');
        return undefined;
      }
    },
    clock: o.clock,
    logger: o.logger,
  });
}
