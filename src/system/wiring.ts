// What happens after an actor changes, in one place and in this order. `within` a transaction,
// subscribers hear each instance transition synchronously, and what they forward joins it;
// `plan`ners turn emitted intents into rows of the same transaction; `after` COMMIT, the
// subscribers run once SQLite has it, in the order below, before the HTTP answer is sent.
// Each subsystem exposes its handlers; src/system/system.ts attaches them (at the moment each
// is ready, as the comments there say) through the functions below, and detaches them at stop.
import type { DeviceActivity } from '../actors/instances/device-activity.js';
import type { InstanceSnapshot } from '../actors/instances/instance-kind.js';
import type { Hub } from '../actors/runtime/root-machines.js';
import type { SubscriberOrder } from '../actors/runtime/subscribers.js';
import type { FeedHandlers } from '../feed/feed.js';
import type { FleetHub } from '../fleet/fleet-hub.js';
import type { Reporter } from '../fleet/reporter.js';
import type { Cron } from '../cron/service.js';
import type { MetricsStore } from '../metrics/store.js';
import type { Notifications } from '../notifications/service.js';
import type { UsageService } from '../usage/service.js';
import type { Approvals } from '../approvals/service.js';
import type { startUsageWatcher } from '../usage/watcher.js';

/** The hub's subscribers by name, in the order each phase calls them. */
export const ORDER = {
  within: [
    'instances.index', // instance transitions -> numbers, profiles, transcripts, pids in use
    'gate', // the working set -> `instances.working` to the gate actor, same transaction
    'approvals', // a session that no longer awaits -> its pending approvals answered elsewhere, same transaction
  ],
  plan: [
    'notifications', // `notify` intents -> notification.routed event, intent (and notification) rows
  ],
  after: [
    'devices.activity', // event rows -> which devices the person used lately
    'notifications', // planned notifications -> delivery now, or their coalescing window
    'notifications.answered', // with webhook.answered_update: a wait that is over -> "answered" webhook
    'usage', // a new instance claims its session's records; a turn's end -> read its transcript
    'feed', // changes and event rows -> numbered WebSocket messages
    'approvals', // an approval that left pending -> its held hook calls answered
    'fleet', // any commit -> this machine sends its new changes to its hub
  ],
} as const satisfies SubscriberOrder;

export function createWiring(hub: Pick<Hub, 'subscribers'>) {
  const on = hub.subscribers;
  return {
    instancesIndex: (index: { observe(id: string, snapshot: InstanceSnapshot): void }) => on.within('instance', 'instances.index', index.observe),
    gate: (observe: (id: string, snapshot: InstanceSnapshot) => void) => on.within('instance', 'gate', observe),
    deviceActivity: (activity: Pick<DeviceActivity, 'afterCommit'>) => on.after('devices.activity', activity.afterCommit),
    notifications(n: Pick<Notifications, 'plan' | 'afterCommit' | 'afterCommitAnswered'>): () => void {
      const detach = [on.plan('notifications', n.plan), on.after('notifications', n.afterCommit)];
      if (n.afterCommitAnswered) detach.push(on.after('notifications.answered', n.afterCommitAnswered));
      return () => detach.forEach((d) => d());
    },
    approvals(a: Pick<Approvals, 'observeInstance' | 'afterCommit'>): () => void {
      const detach = [on.within('instance', 'approvals', a.observeInstance), on.after('approvals', a.afterCommit)];
      return () => detach.forEach((d) => d());
    },
    /** On a hub, the feed hears the instances other machines report. */
    fleetFeed: (fleet: Pick<FleetHub, 'onRemote'>, feed: Pick<FeedHandlers, 'remoteInstances'>) => fleet.onRemote(feed.remoteInstances),
    /** On a hub, with webhook.answered_update: another machine's agent that no longer waits -> "answered" webhook. */
    fleetNotifications: (fleet: Pick<FleetHub, 'onRemote'>, n: Pick<Notifications, 'remoteChanged'>): (() => void) => {
      const changed = n.remoteChanged;
      return changed ? fleet.onRemote(changed) : () => {};
    },
    fleet: (reporter: Pick<Reporter, 'changed'>) => on.after('fleet', () => reporter.changed()),
    usage: (watcher: Pick<ReturnType<typeof startUsageWatcher>, 'afterCommit'>) => on.after('usage', watcher.afterCommit),
    /**
     * The feed also hears what services commit themselves: delivery outcomes, usage updates and
     * syncs, metric changes, and scheduled runs (without their output, which the runs route serves).
     */
    feed(
      feed: FeedHandlers,
      s: { notifications: Pick<Notifications, 'onUpdate'>; usage: Pick<UsageService, 'onUpdate' | 'onSyncStatus'>; metrics: Pick<MetricsStore, 'onChange'>; cron: Pick<Cron, 'onRun'> },
    ): () => void {
      const detach = [
        on.after('feed', feed.afterCommit),
        s.notifications.onUpdate(feed.notification),
        s.usage.onUpdate(feed.usage),
        s.usage.onSyncStatus((st) => feed.passOn({ type: 'sync_status', payload: { ...st } })),
        s.metrics.onChange(feed.metric),
        s.cron.onRun((r) => feed.passOn({ type: 'cron_job_executed', payload: { job: r.job, run: { ...r.run, output: undefined } } })),
      ];
      return () => detach.forEach((d) => d());
    },
  };
}

export type Wiring = ReturnType<typeof createWiring>;
