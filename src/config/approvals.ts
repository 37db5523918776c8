// The approvals' configuration: how long a permission request waits for a decision, where the
// phone's one-time links point, and the policies that answer by themselves. File keys (merged
// into the config file's schema) and the resolved, typed form; docs/configuration.md lists them.
import { homedir } from 'node:os';
import { z } from 'zod';

const policySchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a rule id of letters, digits, dot, dash or underscore'),
  /** Claude Code's rule form: "Read", "Bash(rm -rf *)", "mcp__github__*"; `*` matches anything. */
  tool: z.string().min(1).max(500),
  /** The session's working directory (a pattern; `~` is the home directory). */
  cwd: z.string().min(1).max(1000).optional(),
  behavior: z.enum(['allow', 'deny']),
  message: z.string().max(2000).optional(),
});

export const approvalsFileKeys = {
  approval_timeout_seconds: z.number().int().min(1).max(3600).optional(),
  approvals: z
    .strictObject({
      enabled: z.boolean().optional(),
      link_base_url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).max(500).optional(),
      policies: z.array(policySchema).max(500).optional(),
    })
    .optional(),
};

export type PolicyRule = { id: string; tool: string; cwd: string | null; behavior: 'allow' | 'deny'; message: string | null };

export interface ApprovalsConfig {
  /** Hold permission requests for a decision (false: the hook answers nothing at once). */
  enabled: boolean;
  timeoutMs: number;
  /** The base of the approve/deny links in phone notifications (null: this server's own address). */
  linkBaseUrl: string | null;
  policies: PolicyRule[];
}

type FileKeys = { approval_timeout_seconds?: number; approvals?: { enabled?: boolean; link_base_url?: string; policies?: z.infer<typeof policySchema>[] } };

export function resolveApprovalsConfig(file: FileKeys): { approvals: ApprovalsConfig } {
  const a = file.approvals ?? {};
  return {
    approvals: {
      enabled: a.enabled ?? true,
      timeoutMs: (file.approval_timeout_seconds ?? 120) * 1000,
      linkBaseUrl: a.link_base_url?.replace(/\/+$/, '') ?? null,
      policies: (a.policies ?? []).map((p) => ({ id: p.id, tool: p.tool, cwd: p.cwd ? p.cwd.replace(/^~(?=\/|$)/, homedir()) : null, behavior: p.behavior, message: p.message ?? null })),
    },
  };
}

/** Two rules with one id would make the record ambiguous. */
export function approvalsProblems(file: FileKeys): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const p of file.approvals?.policies ?? []) {
    if (seen.has(p.id)) out.push(`approvals.policies: the rule id ${p.id} is used twice`);
    seen.add(p.id);
  }
  return out;
}
