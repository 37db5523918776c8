// Accounts (config: accounts), each a Claude Code config directory: which one a new session
// takes (the one its repository names, else the first not rate-limited), marking one limited
// when an agent says so (until the reset time it gave, else for sessions.rate_limit_fallback_
// minutes), clearing that by hand, and what each has done today. Limits are committed rows
// (account_limits), so they survive a restart.
import type { Clock } from '../lib/clock.js';
import { DomainError } from '../lib/domain-error.js';
import type { Database } from '../db/database.js';
import { accountActivity, accountLimits, upsertAccountLimitOp } from '../db/queries/sessions.js';
import type { AccountConfig, RepoConfig } from '../config/sessions.js';
import type { ActionBy } from '../machines/session-context.js';
import type { Hub } from '../actors/runtime/root-machines.js';

export interface AccountView {
  id: string;
  config_dir: string;
  limited: boolean;
  limited_until: string | null;
  limit_reason: string | null;
  sessions_running: number;
  sessions: number;
  /** Tokens the turns of its managed sessions reported since midnight UTC. */
  tokens_today: { input: number; output: number };
}

export async function createAccounts(deps: { db: Database; hub: Pick<Hub, 'record'>; clock: Clock; accounts: AccountConfig[]; fallbackMs: number }) {
  const { clock, accounts } = deps;
  const limits = new Map<string, { until: number; reason: string | null }>();
  for (const row of await accountLimits(deps.db)) {
    if (row.limited_until !== null) limits.set(row.account, { until: Date.parse(row.limited_until), reason: row.reason });
  }
  const limitedUntil = (id: string): number | null => {
    const l = limits.get(id);
    return l && l.until > clock.now() ? l.until : null;
  };
  const known = (id: string) => {
    const a = accounts.find((x) => x.id === id);
    if (!a) throw new DomainError('not_found', `no account "${id}"; GET /api/accounts lists them (accounts in the config file)`);
    return a;
  };

  async function setLimit(id: string, until: number | null, reason: string | null, event: { type: string; details: Record<string, unknown> }): Promise<void> {
    const at = clock.now();
    // In memory at once, so a second report of the same limit, arriving before the commit, sees it.
    if (until === null) limits.delete(id);
    else limits.set(id, { until, reason });
    await deps.hub.record({
      ops: [upsertAccountLimitOp({ account: id, limited_until: until === null ? null : new Date(until).toISOString(), reason, updated_at: new Date(at).toISOString() })],
      events: [{ type: event.type, at, details: { account: id, ...event.details } }],
    });
  }

  return {
    /** The account for a new session in `repo`: the one it names, else the first not limited; null when none is configured. */
    pick(repo: RepoConfig): AccountConfig | null {
      if (repo.account !== null) return known(repo.account);
      if (accounts.length === 0) return null;
      const free = accounts.find((a) => limitedUntil(a.id) === null);
      if (free) return free;
      const soonest = Math.min(...accounts.map((a) => limitedUntil(a.id) ?? Infinity));
      throw new DomainError('conflict', `every account is rate-limited; the first is free again at ${new Date(soonest).toISOString()} (POST /api/accounts/{id}/reset-limit clears one by hand)`);
    },
    /** An agent of this account hit its rate limit; `resetsAt` (ms) when it said when it lifts. */
    async markLimited(id: string, resetsAt: number | null, reason: string, session: string): Promise<void> {
      // A reset time the agent gave wins; a report without one does not extend a limit in force.
      const current = limitedUntil(id);
      if (current !== null && (resetsAt === null || resetsAt === current)) return;
      const until = resetsAt ?? clock.now() + deps.fallbackMs;
      await setLimit(id, until, reason, { type: 'account.limited', details: { until: new Date(until).toISOString(), reason, session } });
    },
    async resetLimit(id: string, by: ActionBy): Promise<AccountView> {
      known(id);
      await setLimit(id, null, null, { type: 'account.limit_reset', details: { by } });
      return (await this.list()).find((a) => a.id === id)!;
    },
    async list(): Promise<AccountView[]> {
      const day = new Date(clock.now()).toISOString().slice(0, 10);
      const activity = new Map((await accountActivity(deps.db, `${day}T00:00:00.000Z`)).map((r) => [r.account, r]));
      return accounts.map((a) => {
        const until = limitedUntil(a.id);
        const act = activity.get(a.id);
        return {
          id: a.id,
          config_dir: a.configDir,
          limited: until !== null,
          limited_until: until === null ? null : new Date(until).toISOString(),
          limit_reason: until === null ? null : (limits.get(a.id)?.reason ?? null),
          sessions_running: act?.running ?? 0,
          sessions: act?.total ?? 0,
          tokens_today: { input: act?.input_tokens ?? 0, output: act?.output_tokens ?? 0 },
        };
      });
    },
  };
}

export type Accounts = Awaited<ReturnType<typeof createAccounts>>;
