// zod schemas of the Obsidian routes: a command to run, code to evaluate, the vault queries
// (a note by path, search, tags, recent notes, the daily note) and their answers. Whether a
// path stays inside the vault is checked against the disk by src/obsidian/vault-paths.ts.
import { z } from 'zod';
import { timestampSchema } from './api.js';

const iso = z.string().describe('an ISO 8601 time, UTC');
const limit = (dflt: number) =>
  z.coerce
    .number({ error: `a whole number from 1 to 200 (default ${dflt})` })
    .int(`a whole number from 1 to 200 (default ${dflt})`)
    .min(1)
    .max(200)
    .optional();

export const commandBodySchema = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[^\u0000-\u001f]+$/, 'a command id such as editor:save-file (GET /api/obsidian/commands lists them)')
    // A lone surrogate cannot go into the plugin's URL (encodeURIComponent throws on it).
    .regex(/^(?:[^\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/, 'text without lone surrogates (broken UTF-16)'),
});

export const evalBodySchema = z.strictObject({
  code: z.string().min(1, 'JavaScript that is not empty').max(100_000, 'at most 100000 characters of JavaScript'),
});

export const notePathQuerySchema = z.strictObject({
  path: z.string().min(1).max(1024).describe('relative to the vault, such as Projects/api.md (.md may be left out)'),
});
export const searchQuerySchema = z.strictObject({
  q: z.string().trim().min(1, 'words to look for').max(200),
  limit: limit(20),
});
export const taggedQuerySchema = z.strictObject({
  tag: z.string().regex(/^#?[\p{L}\p{N}_\-/]{1,200}$/u, 'a tag such as project or project/api (# may be left out)'),
  limit: limit(50),
});
export const recentQuerySchema = z.strictObject({
  limit: limit(20),
  since: timestampSchema.optional().describe('only notes changed since this time'),
});
export const dailyQuerySchema = z.strictObject({
  date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'a day as YYYY-MM-DD')
    .refine((v) => Number.isFinite(Date.parse(v)), 'a day that exists, as YYYY-MM-DD')
    .optional()
    .describe('default today, in this machine\'s zone'),
});

export const commandListSchema = z.looseObject({ count: z.number().int(), commands: z.array(z.looseObject({ id: z.string(), name: z.string() })) });
export const commandRanSchema = z.looseObject({ id: z.string(), ran: z.literal(true) });
export const evalAnswerSchema = z.looseObject({
  sha256: z.string().describe('the SHA-256 of the code, as the event log has it'),
  status: z.number().int().describe("the plugin's status"),
  result: z.unknown().describe("the plugin's answer: JSON when it answered JSON, else text"),
});

const noteSummary = { path: z.string(), title: z.string(), size: z.number().int(), modified_at: iso };
export const noteSchema = z.looseObject({ ...noteSummary, content: z.string(), frontmatter: z.record(z.string(), z.unknown()).nullable(), tags: z.array(z.string()) });
export const dailyNoteSchema = noteSchema.extend({ date: z.string() });
export const searchAnswerSchema = z.looseObject({
  query: z.string(),
  searched: z.number().int(),
  count: z.number().int(),
  notes: z.array(z.looseObject({ ...noteSummary, matches: z.array(z.looseObject({ line: z.number().int(), text: z.string() })) })),
});
export const taggedAnswerSchema = z.looseObject({ tag: z.string(), count: z.number().int(), notes: z.array(z.looseObject({ ...noteSummary, tags: z.array(z.string()) })) });
export const tagListSchema = z.looseObject({ count: z.number().int(), tags: z.array(z.looseObject({ tag: z.string(), notes: z.number().int() })) });
export const recentAnswerSchema = z.looseObject({ count: z.number().int(), notes: z.array(z.looseObject(noteSummary)) });
