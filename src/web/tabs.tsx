// The tab registry: every section of the page, in the order the navigation shows them. A tab
// is an id (its #/<id> address), a label, an icon, a view (given the id after the tab's name,
// #/agents/<id>) and an optional badge count. Adding a tab is adding an entry here
// (src/web/README.md says how, and how a lazily loaded view is written).
import type { ComponentType } from 'preact';
import { Lazy } from './lazy.js';
import { awaitingCount, pendingApprovals } from './store.js';
import { Activity } from './views/activity.js';
import { Approvals } from './views/approvals.js';
import { AgentDetail } from './views/agent-detail.js';
import { Agents } from './views/agents.js';
import { ModeGate } from './views/mode.js';
import { Notifications, failedCount } from './views/notifications.js';
import { SessionChat } from './views/session-chat.js';
import { Sessions } from './views/sessions.js';

export interface Tab {
  id: string;
  label: string;
  icon: string;
  view: ComponentType<{ id: string | null }>;
  /** A count worth a badge on the tab (what waits for the person). */
  badge?: () => number;
}

const loadUsage = () => import('./views/usage.js').then((m) => m.Usage);

export const TABS: readonly Tab[] = [
  { id: 'agents', label: 'Agents', icon: 'agents', view: ({ id }) => (id ? <AgentDetail id={id} /> : <Agents />), badge: () => awaitingCount.value },
  { id: 'approvals', label: 'Approvals', icon: 'approvals', view: () => <Approvals />, badge: () => pendingApprovals.value.length },
  { id: 'sessions', label: 'Sessions', icon: 'sessions', view: ({ id }) => (id ? <SessionChat id={id} /> : <Sessions />) },
  { id: 'mode', label: 'Mode', icon: 'mode', view: () => <ModeGate /> },
  { id: 'usage', label: 'Usage', icon: 'usage', view: () => <Lazy load={loadUsage} props={{}} /> },
  { id: 'notifications', label: 'Alerts', icon: 'notifications', view: () => <Notifications />, badge: () => failedCount.value },
  { id: 'activity', label: 'Activity', icon: 'activity', view: () => <Activity /> },
];

export const tabOf = (id: string): Tab => TABS.find((t) => t.id === id) ?? TABS[0]!;
