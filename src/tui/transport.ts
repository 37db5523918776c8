// How the dashboard reaches a server, as a dependency: an HTTP request (for its actions) and the
// live feed (for its picture). `direct-transport.ts` is the default (fetch and a WebSocket to the
// server); `token-api tui --relay` hands in one built on a relay client, whose one connection
// carries both. The dashboard knows nothing else of the way there.

/** A server's answer to a request: its status and body as text. */
export interface HttpAnswer {
  status: number;
  body: string;
}

export interface FeedLinkHandlers {
  /** The feed is reachable: reconnection delays start over. */
  onOpen(): void;
  /** One feed message, as JSON text. */
  onMessage(text: string): void;
  /** The far end was heard from without a message (a ping). */
  onAlive(): void;
  /**
   * The link ended (or never opened), in words. `final`: trying again will not help until the
   * person acts (a revoked or expired client token), so the dashboard waits for `r`.
   */
  onClose(reason: string, final?: boolean): void;
}

/** One attempt at the feed: open, opening or ended. */
export interface FeedLink {
  /** Sends a feed request (get_snapshot, ping) as JSON text; false when the link is not open. */
  send(text: string): boolean;
  /** Ends it (the dashboard quits); no onClose follows. */
  close(): void;
  /** Drops it as dead; onClose follows with the reason given. */
  terminate(reason: string): void;
}

export interface Transport {
  /** Where the dashboard is connected, for the header: host:port, or the room and the relay. */
  target: string;
  /** Set when the way goes through a relay: its host, and whether end to end encrypted. */
  relay?: { host: string; room: string; e2e: boolean };
  /** Resolves with the answer, or rejects with an Error whose message says, in words, why there is none. */
  request(method: string, path: string, body?: unknown): Promise<HttpAnswer>;
  /** Opens the feed; `query` as /ws takes it (`since=…`), empty for a fresh snapshot. Handlers are called later, never from within. */
  openFeed(query: string, handlers: FeedLinkHandlers): FeedLink;
}
