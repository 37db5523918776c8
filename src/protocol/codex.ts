// zod schema of Codex's `notify` payload (POST /api/codex/notify): what `token-api codex-notify`
// forwards unchanged. Loose, since Codex adds fields; the keys token-api reads are checked.
import { z } from 'zod';
import { exceedsDepth, MAX_PAYLOAD_DEPTH } from '../lib/json-depth.js';
import { WHOLE } from '../lib/validation-words.js';

export const codexNotifySchema = z
  .looseObject({
    type: z.string().min(1).max(64),
    'thread-id': z.string().min(1).max(256).optional(),
    'turn-id': z.union([z.string().max(256), z.number()]).transform(String).optional(),
    cwd: z.string().max(4096).optional(),
    'last-assistant-message': z.string().nullable().optional(),
    'input-messages': z.array(z.unknown()).optional(),
  })
  .refine((p) => !exceedsDepth(p), { message: `nests deeper than ${MAX_PAYLOAD_DEPTH} levels; expected at most ${MAX_PAYLOAD_DEPTH}`, params: WHOLE });
