// Schemas of the approvals API: the id in the path, the list's query, a decision's body, a
// one-time link's query, and the answers (an approval, a list, the PermissionRequest hook's
// answer as Claude Code reads it).
import { z } from 'zod';
import { approvalViewSchema } from './feed.js';
import { idSchema, limitSchema } from './api.js';

export const approvalIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'an approval id of 1 to 128 letters, digits and . _ : -');

export const approvalParamsSchema = z.strictObject({ id: approvalIdSchema });

export const approvalsQuerySchema = z.strictObject({
  state: z.enum(['pending', 'decided', 'expired', 'answered_elsewhere', 'withdrawn']).optional(),
  instance: idSchema.optional(),
  limit: limitSchema(50, 500),
});

export const decisionBodySchema = z.strictObject({
  behavior: z.enum(['allow', 'deny']),
  /** What Claude Code tells the model (most useful with deny). */
  message: z.string().min(1).max(2000).optional(),
});

export const linkQuerySchema = z.strictObject({
  t: z.string().min(10).max(2000),
});

export const approvalSchema = approvalViewSchema;
export const approvalListSchema = z.looseObject({ approvals: z.array(approvalViewSchema), count: z.number().int() });

/** What the PermissionRequest hook prints for Claude Code. */
export const hookDecisionSchema = z.looseObject({
  hookSpecificOutput: z.looseObject({
    hookEventName: z.literal('PermissionRequest'),
    decision: z.looseObject({ behavior: z.enum(['allow', 'deny']), message: z.string().optional() }),
  }),
});
