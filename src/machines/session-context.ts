// The context, input and events of a managed session (src/machines/session.ts), with the zod
// schema a persisted snapshot's context is checked against before it is restored.
import { z } from 'zod';

/** headless: a child speaking JSON lines; terminal: the interactive agent in token-api's tmux server. */
export const SESSION_KINDS = ['headless', 'terminal'] as const;
export const SESSION_AGENTS = ['claude', 'codex'] as const;
/** Who asked for an action: a caller on loopback, one with the API token, or a signed link. */
export const ACTORS_BY = ['loopback', 'token', 'link', 'server'] as const;
export type ActionBy = (typeof ACTORS_BY)[number];

export const sessionExitSchema = z.object({
  code: z.number().int().nullable(),
  signal: z.string().nullable(),
  /** stopped: asked to stop; ended: the agent exited by itself with 0; crashed: any other exit. */
  reason: z.enum(['stopped', 'ended', 'crashed', 'server_restart', 'start_timeout']),
  lastLines: z.array(z.string()),
  at: z.number(),
});
export type SessionExit = z.infer<typeof sessionExitSchema>;

export const sessionContextSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(SESSION_KINDS),
  agent: z.enum(SESSION_AGENTS),
  repo: z.string(),
  cwd: z.string(),
  /** The agent's own session id: chosen by token-api for Claude Code (`claude --session-id`); for Codex, its thread id once the first turn reports it. */
  claudeSessionId: z.string(),
  /** The account (config: accounts) whose CLAUDE_CONFIG_DIR the agent runs with; null: the default. */
  account: z.string().nullable(),
  pid: z.number().int().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
  /** Prompts sent, and turns the agent finished (a cancelled turn counts as finished). */
  prompts: z.number().int(),
  turns: z.number().int(),
  exit: sessionExitSchema.nullable(),
});
export type SessionContext = z.infer<typeof sessionContextSchema>;

export type SessionInput = Pick<SessionContext, 'id' | 'name' | 'kind' | 'agent' | 'repo' | 'cwd' | 'claudeSessionId' | 'account'> & { at: number };

export type SessionEvent =
  | { type: 'session.spawned'; pid: number; at: number }
  | { type: 'session.ready'; at: number }
  | { type: 'session.send'; at: number; by: ActionBy }
  | { type: 'session.result'; at: number }
  | { type: 'session.cancel'; at: number; by: ActionBy }
  | { type: 'session.stop'; at: number; by: ActionBy }
  | { type: 'session.rename'; name: string; at: number }
  /** The agent named its own session id (Codex's thread.started): its instance is found by it. */
  | { type: 'session.agent_session'; sessionId: string; at: number }
  | { type: 'session.exited'; at: number; code: number | null; signal: string | null; reason: SessionExit['reason']; lastLines: string[] };
