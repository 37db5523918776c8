// The configuration of managed sessions: the repositories a session may start in (`repos`), and
// how token-api runs the agents (`sessions`: binaries, limits, time allowed). Keys and defaults
// are documented in docs/configuration.md.
import { resolve } from 'node:path';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

const repoNameSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a repository name of letters, digits, dot, dash or underscore');

export const repoSchema = z.strictObject({
  name: repoNameSchema,
  path: z.string().min(1),
  /** The agent a session started here runs when the request names none. */
  agent: z.enum(['claude', 'codex']).optional(),
  /** Claude Code's permission mode for sessions started here. */
  permission_mode: z.enum(['default', 'acceptEdits', 'auto', 'plan', 'dontAsk', 'bypassPermissions']).optional(),
  /** The account (an `accounts` id) sessions started here always use. */
  account: z.string().optional(),
});

export const accountSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'an account id of letters, digits, dot, dash or underscore'),
  /** A Claude Code config directory (CLAUDE_CONFIG_DIR): its login, settings and transcripts. */
  config_dir: z.string().min(1),
});

export const sessionsFileKeys = {
  repos: z.array(repoSchema).optional(),
  accounts: z.array(accountSchema).optional(),
  sessions: z
    .strictObject({
      claude_bin: z.string().min(1).optional(),
      codex_bin: z.string().min(1).optional(),
      prompt_max_bytes: z.number().int().min(1).max(16 * 1024 * 1024).optional(),
      stop_grace_seconds: z.number().min(0).max(600).optional(),
      oneshot_timeout_seconds: z.number().positive().max(3600).optional(),
      terminal_ready_seconds: z.number().positive().max(600).optional(),
      start_timeout_seconds: z.number().positive().max(600).optional(),
      rate_limit_fallback_minutes: z.number().positive().max(7 * 24 * 60).optional(),
    })
    .optional(),
};

export type SessionsFile = { [K in keyof typeof sessionsFileKeys]?: z.infer<(typeof sessionsFileKeys)[K]> };

export interface RepoConfig {
  name: string;
  /** Absolute path. */
  path: string;
  agent: 'claude' | 'codex';
  permissionMode: 'default' | 'acceptEdits' | 'auto' | 'plan' | 'dontAsk' | 'bypassPermissions';
  account: string | null;
}

export interface AccountConfig {
  id: string;
  /** Absolute path: the CLAUDE_CONFIG_DIR of its sessions. */
  configDir: string;
}

export interface SessionsConfig {
  repos: RepoConfig[];
  accounts: AccountConfig[];
  sessions: {
    /** The `claude` executable: a name looked up on PATH, or a path. */
    claudeBin: string;
    /** The `codex` executable: a name looked up on PATH, or a path. */
    codexBin: string;
    promptMaxBytes: number;
    stopGraceMs: number;
    oneshotTimeoutMs: number;
    /** How long a new terminal session may take to show the agent's prompt before a first prompt is typed. */
    terminalReadyMs: number;
    /** How long a headless agent may take to answer its initialize request before it is stopped. */
    startTimeoutMs: number;
    /** How long an account stays limited when the agent said so without a reset time. */
    rateLimitFallbackMs: number;
  };
}

const expandHome = (p: string) => (p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p);

/** Problems across keys, as "key: message" lines. */
export function sessionsProblems(file: SessionsFile): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const [i, r] of (file.repos ?? []).entries()) {
    if (seen.has(r.name)) problems.push(`repos.${i}.name: "${r.name}" is named twice`);
    seen.add(r.name);
    if (r.account !== undefined && !(file.accounts ?? []).some((a) => a.id === r.account)) problems.push(`repos.${i}.account: "${r.account}" is not one of the accounts`);
  }
  const ids = new Set<string>();
  for (const [i, a] of (file.accounts ?? []).entries()) {
    if (ids.has(a.id)) problems.push(`accounts.${i}.id: "${a.id}" is named twice`);
    ids.add(a.id);
  }
  return problems;
}

export function resolveSessionsConfig(file: SessionsFile): SessionsConfig {
  const s = file.sessions ?? {};
  return {
    repos: (file.repos ?? []).map((r) => ({ name: r.name, path: resolve(expandHome(r.path)), agent: r.agent ?? 'claude', permissionMode: r.permission_mode ?? 'default', account: r.account ?? null })),
    accounts: (file.accounts ?? []).map((a) => ({ id: a.id, configDir: resolve(expandHome(a.config_dir)) })),
    sessions: {
      claudeBin: s.claude_bin ? (s.claude_bin.includes('/') ? resolve(expandHome(s.claude_bin)) : s.claude_bin) : 'claude',
      codexBin: s.codex_bin ? (s.codex_bin.includes('/') ? resolve(expandHome(s.codex_bin)) : s.codex_bin) : 'codex',
      promptMaxBytes: s.prompt_max_bytes ?? 256 * 1024,
      stopGraceMs: (s.stop_grace_seconds ?? 5) * 1000,
      oneshotTimeoutMs: (s.oneshot_timeout_seconds ?? 300) * 1000,
      terminalReadyMs: (s.terminal_ready_seconds ?? 20) * 1000,
      startTimeoutMs: (s.start_timeout_seconds ?? 60) * 1000,
      rateLimitFallbackMs: (s.rate_limit_fallback_minutes ?? 60) * 60_000,
    },
  };
}
