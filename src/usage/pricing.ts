// Cost in USD from the pricing table kept in the repository (pricing.json), with the config
// file's overrides on top. A model is found by its exact name, then without a provider prefix
// or a date suffix, then by family: a model the table does not know (Claude Code 2.1's default
// claude-opus-5-5, say) is priced as the newest known model of its family (claude-opus-4-7)
// and reported as estimated. A model of no known family has no cost (null) and is reported
// as unpriced. The same formula exists as SQL (costSql, src/db/queries/usage.ts), so stored
// costs can be recomputed.
import { createHash } from 'node:crypto';
import table from './pricing.json' with { type: 'json' };
import { pricingFileSchema, TIER_THRESHOLD, type Price } from '../config/price-schema.js';
import type { TokenCounts } from './types.js';

export const builtinPricing: Readonly<Record<string, Price>> = pricingFileSchema.parse(table).models;

export interface Pricing {
  /** The price of a model (its family's newest when it is not in the table), or null. */
  priceOf(model: string): Price | null;
  /** True when priceOf gives a model its family's price (an estimate). */
  isEstimated(model: string): boolean;
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

/** "claude-opus-5-5" -> { family: "claude-opus", version: [5, 5] }; "claude-3-5-sonnet" -> "claude-sonnet" [3, 5]; "gpt-5.4-mini" -> "gpt-mini" [5, 4]. */
export function modelFamily(model: string): { family: string; version: number[] } {
  const words = normalizeModel(model).split(/[-.]/);
  const version = words.filter((w) => /^\d+$/.test(w)).map(Number);
  return { family: words.filter((w) => !/^\d+$/.test(w)).join('-'), version };
}

const newer = (a: number[], b: number[]) => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return false;
};

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

export function createPricing(overrides: Readonly<Record<string, Price>> = {}): Pricing {
  const prices = new Map<string, Price>(Object.entries({ ...builtinPricing, ...overrides }));
  const cache = new Map<string, Price | null>();
  const sorted = [...prices.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // The rule for unknown models is part of the fingerprint: stored costs are recomputed when it changes.
  const fingerprint = createHash('sha256').update(JSON.stringify(sorted)).update('family-estimates-1').digest('hex').slice(0, 16);
  /** The newest known model of each family. */
  const newest = new Map<string, { version: number[]; price: Price }>();
  for (const [name, price] of sorted) {
    const { family, version } = modelFamily(name);
    if (version.length === 0) continue;
    const known = newest.get(family);
    if (!known || newer(version, known.version)) newest.set(family, { version, price });
  }

  const exact = (model: string) => prices.get(model) ?? prices.get(normalizeModel(model)) ?? null;
  const byFamily = (model: string) => newest.get(modelFamily(model).family)?.price ?? null;

  function priceOf(model: string): Price | null {
    let p = cache.get(model);
    if (p !== undefined) return p;
    p = exact(model) ?? byFamily(model);
    if (cache.size < 10_000) cache.set(model, p);
    return p;
  }

  return {
    priceOf,
    isEstimated: (model) => exact(model) === null && byFamily(model) !== null,
    cost(model, t) {
      const p = priceOf(model);
      return p ? costUnder(p, t) : null;
    },
    fingerprint,
    models: () => [...prices.keys()],
  };
}
