// The shape of a model's price (USD per million tokens), shared by the pricing table in the
// repository and the `usage_pricing` overrides of the config file.
import { z } from 'zod';

const perMillion = z.number().nonnegative('a price in USD per million tokens (0 or more)').max(100_000);

const ratesSchema = z.strictObject({
  input: perMillion,
  output: perMillion,
  /** Writing the prompt cache (Claude's cache_creation_input_tokens); 0 when absent. */
  cache_write: perMillion.optional(),
  /** Reading the prompt cache (Claude's cache_read_input_tokens, Codex's cached input); 0 when absent. */
  cache_read: perMillion.optional(),
});

export const priceSchema = ratesSchema.extend({
  /** Prices beyond the first 200,000 tokens of each kind in one response (long-context models). */
  above_200k: ratesSchema.optional(),
});

export type Price = z.infer<typeof priceSchema>;

/** The tokens of each kind in one response that `above_200k` prices apply beyond. */
export const TIER_THRESHOLD = 200_000;

export const modelNameSchema = z.string().regex(/^[A-Za-z0-9._:/@+-]{1,200}$/, 'a model name such as claude-sonnet-4-5');

export const pricingOverridesSchema = z.record(modelNameSchema, priceSchema);

export const pricingFileSchema = z.object({
  unit: z.literal('USD per million tokens'),
  note: z.string().optional(),
  models: pricingOverridesSchema,
});
