// What the relay connector (src/relay/) gets from this server: a relayed request runs in this
// process (src/http/in-process.ts) as a caller beyond loopback whose address is "relay", with
// the API token, never looped back over HTTP, which auth would trust as loopback; a relayed
// feed stream is parsed like /ws's query and handed to the live feed as one more client.
import type { WebSocket } from 'ws';
import type { Feed } from '../feed/feed.js';
import { queryObject } from '../http/feed-upgrade.js';
import type { RequestListener } from '../http/handler.js';
import { runInProcess } from '../http/in-process.js';
import { parseInWords, sentenceOfFields, fieldsInWords } from '../lib/validation-words.js';
import { feedQuerySchema } from '../protocol/feed.js';
import type { ConnectorDeps } from '../relay/connector.js';

/** The peer address relayed requests and streams carry: never loopback, never in a network of the config. */
export const RELAY_PEER = 'relay';

export function relayServes(o: { requestListener: RequestListener; apiToken: string; feed: Pick<Feed, 'refusal' | 'accept'> }): Pick<ConnectorDeps, 'run' | 'openFeed'> {
  return {
    run: (r) => runInProcess(o.requestListener, { ...r, headers: { ...r.headers, authorization: `Bearer ${o.apiToken}` }, remoteAddress: RELAY_PEER }),
    openFeed(socket, query) {
      const raw = queryObject(query);
      if (raw === null) return 'the query repeats a parameter; expected since and types, each at most once';
      const parsed = parseInWords(feedQuerySchema, raw);
      if (!parsed.success) return sentenceOfFields(fieldsInWords(parsed.error), 'query parameter');
      const refused = o.feed.refusal();
      if (refused) return refused;
      // The stream speaks the part of the WebSocket interface the feed uses (src/relay/stream-socket.ts).
      o.feed.accept(socket as unknown as WebSocket, { since: parsed.data.since, types: parsed.data.types, remote: RELAY_PEER });
      return null;
    },
  };
}
