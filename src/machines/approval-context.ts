// The approval machine's context, input and events, as types and zod schemas. The schema
// validates an approval snapshot read back from SQLite before the actor is restored.
import { z } from 'zod';

export const BEHAVIORS = ['allow', 'deny'] as const;
export type Behavior = (typeof BEHAVIORS)[number];

/** Who decided: a call from this machine, a caller with the API token, a signed link, a configured policy. */
export const DECIDERS = ['loopback', 'token', 'link', 'policy'] as const;
export type Decider = (typeof DECIDERS)[number];

export const decisionSchema = z.object({
  behavior: z.enum(BEHAVIORS),
  /** What Claude Code tells the model (a deny's reason). */
  message: z.string().nullable(),
  by: z.enum(DECIDERS),
  /** The policy rule that answered (by: policy). */
  ruleId: z.string().nullable(),
  at: z.number(),
});
export type Decision = z.infer<typeof decisionSchema>;

export const approvalContextSchema = z.object({
  id: z.string(),
  /** The instance the request came from (null when the hook could not be tied to one). */
  instanceId: z.string().nullable(),
  /** Claude Code's session id. */
  sessionId: z.string(),
  toolName: z.string(),
  /** The tool's input as Claude Code sent it (bounded JSON text). */
  toolInput: z.string(),
  /** A one-line summary of the input, for people. */
  summary: z.string(),
  cwd: z.string().nullable(),
  project: z.string().nullable(),
  createdAt: z.number(),
  /** When the request is given up (approval_timeout_seconds after it came). */
  expiresAt: z.number(),
  decision: decisionSchema.nullable(),
  /** How it ended without a decision: answered in the terminal, the hook went away, the time ran out. */
  resolution: z.object({ how: z.string(), at: z.number() }).nullable(),
});
export type ApprovalContext = z.infer<typeof approvalContextSchema>;

export type ApprovalInput = Omit<ApprovalContext, 'decision' | 'resolution'> & {
  /** A policy's answer, given at creation: the approval starts decided. */
  decision?: Decision;
};

interface At {
  /** Epoch milliseconds; machines never read the clock. */
  at: number;
}

export type ApprovalEvent =
  /** A person (or a policy) decided. */
  | ({ type: 'approval.decide'; behavior: Behavior; message: string | null; by: Decider; ruleId: string | null } & At)
  /** The session moved on without this hook's answer (the person answered in the terminal, or the turn went on). */
  | ({ type: 'approval.answered_elsewhere'; how: string } & At)
  /** The hook stopped waiting (its connection closed, it was killed). */
  | ({ type: 'approval.withdrawn'; reason: string } & At)
  /** From the expiry timer when the deadline has come. */
  | ({ type: 'approval.expiry_due' } & At);

export type ApprovalStateValue = 'pending' | 'decided' | 'expired' | 'answered_elsewhere' | 'withdrawn';
export const APPROVAL_STATES: readonly ApprovalStateValue[] = ['pending', 'decided', 'expired', 'answered_elsewhere', 'withdrawn'];
