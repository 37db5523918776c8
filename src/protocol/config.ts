// zod schemas of GET and PUT /api/config. A change names settings to set, in the config file's
// own keys and checked by the file's own schema (so an unknown or mistyped key is refused as at
// start), and keys to remove (back to their defaults); the merged file is checked again as a whole.
import { z } from 'zod';
import { configFileSchema } from '../config/config.js';
import { WHOLE } from '../lib/validation-words.js';

export const configChangeSchema = z
  .strictObject({
    set: configFileSchema.optional().describe('config file keys and their new values; blocks merge key by key, lists and values replace'),
    unset: z
      .array(z.string().regex(/^[a-z][a-z_]*(?:\.[A-Za-z0-9_-]+)*$/, 'a config file key, dotted for a key in a block (such as obsidian.vault)'))
      .max(100)
      .optional()
      .describe('keys to remove from the file, so that their defaults apply'),
  })
  .superRefine((b, ctx) => {
    if (b.set === undefined && (b.unset === undefined || b.unset.length === 0)) {
      ctx.addIssue({ code: 'custom', message: 'names nothing to change; expected set (settings and their values) or unset (keys to remove), or both', params: WHOLE });
    }
  });

const configView = {
  file: z.string().describe('the config file'),
  exists: z.boolean(),
  settings: z.record(z.string(), z.unknown()).describe('what the file holds, secrets masked as ********'),
  effective: z.record(z.string(), z.unknown()).describe('the configuration the server runs with (defaults, file, environment, flags), as the server names it; secrets masked'),
  restart_required: z.array(z.string()).describe('keys changed in the file that take effect at the next start'),
};

export const configViewSchema = z.looseObject(configView);
export const configChangedSchema = z.looseObject({
  ...configView,
  changed: z.array(z.string()).describe('the keys this change changed'),
  applied: z.array(z.string()).describe('those of them already in effect (the cron, obsidian and metrics blocks)'),
});
