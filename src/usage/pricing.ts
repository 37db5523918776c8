// Cost in USD from the pricing table kept in the repository (pricing.json), with the config
// file's overrides on top. A model is found by its exact name, then without a provider prefix
// or a date suffix; a model not found has no cost (null) and is reported as unpriced. The
// same formula exists as SQL, so stored costs can be recomputed when the table changes.
import { createHash } from 'node:crypto';
import table from './pricing.json' with { type: 'json' };
import { pricingFileSchema, type Price } from './price-schema.js';
import type { TokenCounts } from './types.js';

/** Per-response threshold beyond which a long-context model charges its `above_200k` prices. */
export const TIER_THRESHOLD = 200_000;

export const builtinPricing: Readonly<Record<string, Price>> = pricingFileSchema.parse(table).models;

export interface Pricing {
  /** The price of a model, or null when it is not in the table. */
  priceOf(model: string): Price | null;
  /** USD for one response, or null for a model not in the table. */
  cost(model: string, t: TokenCounts): number | null;
  /** Changes whenever any price changes (stored costs are recomputed then). */
  fingerprint: string;
  models(): string[];
}

/** "anthropic/claude-sonnet-4-5-20250929" -> "claude-sonnet-4-5" */
export function normalizeModel(model: string): string {
  return model
    .replace(/^(anthropic|openai|azure|openrouter\/openai|openrouter\/anthropic)\//, '')
    .replace(/@.*$/, '')
    .replace(/-v\d+:\d+$/, '')
    .replace(/-\d{8}$/, '');
}

function tier(count: number, base: number, above: number | undefined): number {
  if (count <= 0) return 0;
  if (above !== undefined && count > TIER_THRESHOLD) return TIER_THRESHOLD * base + (count - TIER_THRESHOLD) * above;
  return count * base;
}

/** Cost of one response under a price, in USD. */
export function costUnder(p: Price, t: TokenCounts): number {
  const a = p.above_200k;
  return (
    (tier(t.input, p.input, a?.input) +
      tier(t.output, p.output, a?.output) +
      tier(t.cacheCreation, p.cache_write ?? 0, a?.cache_write) +
      tier(t.cacheRead, p.cache_read ?? 0, a?.cache_read)) /
    1_000_000
  );
}

function tierSql(column: string, base: number, above: number | undefined): string {
  if (above === undefined) return `(${column} * ${base})`;
  return `(CASE WHEN ${column} > ${TIER_THRESHOLD} THEN ${TIER_THRESHOLD} * ${base} + (${column} - ${TIER_THRESHOLD}) * ${above} WHEN ${column} > 0 THEN ${column} * ${base} ELSE 0 END)`;
}

/** The same formula as costUnder, over the columns of usage_records (same order of operations). */
export function costSql(p: Price): string {
  const a = p.above_200k;
  return (
    `((${tierSql('input_tokens', p.input, a?.input)} + ${tierSql('output_tokens', p.output, a?.output)} + ` +
    `${tierSql('cache_creation_tokens', p.cache_write ?? 0, a?.cache_write)} + ${tierSql('cache_read_tokens', p.cache_read ?? 0, a?.cache_read)}) / 1000000.0)`
  );
}

export function createPricing(overrides: Readonly<Record<string, Price>> = {}): Pricing {
  const prices = new Map<string, Price>(Object.entries({ ...builtinPricing, ...overrides }));
  const cache = new Map<string, Price | null>();
  const sorted = [...prices.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const fingerprint = createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);

  function priceOf(model: string): Price | null {
    let p = cache.get(model);
    if (p !== undefined) return p;
    p = prices.get(model) ?? prices.get(normalizeModel(model)) ?? null;
    if (cache.size < 10_000) cache.set(model, p);
    return p;
  }

  return {
    priceOf,
    cost(model, t) {
      const p = priceOf(model);
      return p ? costUnder(p, t) : null;
    },
    fingerprint,
    models: () => [...prices.keys()],
  };
}
