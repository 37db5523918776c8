// The terminal dashboard, wired: the feed client fills the store, the store and the clock make
// frames (view.ts), the screen paints them at most every 50 ms, keys become store events or
// HTTP actions. It talks only to the server (the feed for state, HTTP for actions) over the
// transport it is given: direct by default (so it runs as well on another machine with --url),
// or through a relay. Its clock ticks once a second for times.
import type { Clock, TimerHandle } from '../lib/clock.js';
import { createApiClient } from './api.js';
import { directTransport } from './direct-transport.js';
import { createFeedClient } from './feed-client.js';
import { createKeyHandler } from './keys.js';
import { createScreen } from './screen.js';
import { createDashboardStore, initialContext } from './store.js';
import type { Transport } from './transport.js';
import { render } from './view.js';

export type DashboardOptions = (
  | {
      /** The server's HTTP base URL (http://127.0.0.1:7777), reached directly. */
      baseUrl: string;
      token?: string;
    }
  /** Another way to the server (through a relay). */
  | { transport: Transport }
) & {
  clock: Clock;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  /** Reconnection delays (tests shorten them). */
  retryDelaysMs?: number[];
};

export function startDashboard(opts: DashboardOptions) {
  const { clock } = opts;
  const transport = 'transport' in opts ? opts.transport : directTransport({ baseUrl: opts.baseUrl, token: opts.token });
  const title = transport.relay ? `token-api ${transport.relay.room} via ${transport.relay.host}` : `token-api ${transport.target}`;
  const screen = createScreen({ input: opts.input, output: opts.output, clock, title });
  const size = screen.size();
  const store = createDashboardStore(initialContext(transport.target, size.width, size.height, transport.relay ?? null));
  const api = createApiClient(transport);

  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  let tick: TimerHandle | undefined;
  let stopped = false;

  const feed = createFeedClient({
    open: transport.openFeed,
    clock,
    retryDelaysMs: opts.retryDelaysMs,
    onMessage: (message) => {
      if (message.type === 'error') store.trigger.notice({ text: `server: ${message.message}`, kind: 'error', until: clock.now() + 5000 });
      else store.trigger.feed({ message });
      // Connected (again): whether speech and sound work there, for the header.
      if (message.type === 'snapshot') void api.outputs().then((r) => r.ok && store.trigger.outputs({ outputs: r.value }));
      if (message.type === 'snapshot' || message.type === 'resumed') sessionsAgain();
    },
    onStatus: (s) => {
      if (s.status === 'connecting') store.trigger.connecting({ attempt: s.attempt });
      else if (s.status === 'disconnected') store.trigger.disconnected({ reason: s.reason, retryAt: s.retryAt, attempt: s.attempt });
      else if (s.status === 'refused') store.trigger.refused({ reason: s.reason });
      // 'open': live once the snapshot (or the resume) arrives.
    },
    onProblem: (text) => store.trigger.notice({ text, kind: 'error', until: clock.now() + 5000 }),
  });

  /**
   * The feed is back (a new connection forgets what the last one followed): the session output
   * being shown is followed again from the last message shown, and the sessions list, which
   * may have missed changes, is read again.
   */
  function sessionsAgain(): void {
    const o = store.getSnapshot().context.overlay;
    if (o?.kind !== 'sessions') return;
    if (o.following && !o.following.exited) feed.send({ type: 'subscribe_session', session_id: o.following.id, after: o.following.after });
    if (o.sessions) void api.sessions().then((r) => r.ok && store.trigger.sessionsRead({ sessions: r.value }));
  }

  function stop(): void {
    if (stopped) return;
    stopped = true;
    clock.clearTimeout(tick);
    feed.stop();
    screen.destroy();
    resolveDone();
  }

  screen.setSource(() => render(store.getSnapshot().context, clock.now()));
  store.subscribe(() => screen.invalidate());
  screen.onResize((s) => store.trigger.resize(s));
  const onKey = createKeyHandler({ store, api, clock, refresh: () => feed.refresh(), feedSend: feed.send, quit: stop });
  screen.onKey((k) => onKey(k.full, k.ch));

  // Times on the screen (clock, time in state, countdowns) move once a second.
  const everySecond = () => {
    tick = clock.setTimeout(everySecond, 1000 - (clock.now() % 1000));
    screen.invalidate();
  };
  everySecond();
  screen.paintNow();
  feed.start();

  return { store, screen, feed, stop, done };
}

export type Dashboard = ReturnType<typeof startDashboard>;
