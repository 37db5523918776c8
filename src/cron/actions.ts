// What a job's built-in action does: each `type` calls one function of the running system,
// given here as narrow dependencies (usage, backup, notifications, work mode), so the scheduler
// knows none of those subsystems. Returns the action's result (kept with the run); throws an
// Error whose message says what went wrong (the run then failed with it).
import type { CronAction } from '../protocol/cron.js';

export interface ActionDeps {
  usageSync(signal: AbortSignal): Promise<unknown>;
  usagePush(o: { to: string; device?: string; token?: string }, signal: AbortSignal): Promise<unknown>;
  backup(o: { dir?: string; keep?: number }): Promise<unknown>;
  notify(o: { message: string; title?: string; device?: string; urgency?: 'normal' | 'urgent' }): Promise<unknown>;
  setMode(o: { mode: string; minutes?: number }): Promise<unknown>;
}

export function runAction(action: CronAction, deps: ActionDeps, signal: AbortSignal): Promise<unknown> {
  switch (action.type) {
    case 'usage.sync':
      return deps.usageSync(signal);
    case 'usage.push':
      return deps.usagePush({ to: action.to, device: action.device, token: action.token }, signal);
    case 'backup':
      return deps.backup({ dir: action.dir, keep: action.keep });
    case 'notify':
      return deps.notify({ message: action.message, title: action.title, device: action.device, urgency: action.urgency });
    case 'mode.set':
      return deps.setMode({ mode: action.mode, minutes: action.minutes });
  }
}
