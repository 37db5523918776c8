// Event rows keep a copy of what happened, bounded in size: long strings are cut first
// (a PostToolUse can carry megabytes of tool output), then the whole copy if still too big.
// It never throws: a value that cannot be serialised is recorded as such.
export function boundedJson(value: unknown, maxBytes: number): string {
  let full: string;
  try {
    full = JSON.stringify(value ?? null);
  } catch (err) {
    return JSON.stringify({ truncated: true, unserialisable: (err as Error).message });
  }
  if (Buffer.byteLength(full) <= maxBytes) return full;
  for (let limit = Math.floor(maxBytes / 4); limit >= 32; limit = Math.floor(limit / 2)) {
    const cut = JSON.stringify(cutStrings(value, limit, 0));
    if (Buffer.byteLength(cut) <= maxBytes) return cut;
  }
  const head = Buffer.from(full).subarray(0, Math.max(0, maxBytes - 96)).toString('utf8').replace(/\uFFFD+$/, '');
  return JSON.stringify({ truncated: true, original_bytes: Buffer.byteLength(full), preview: head });
}

function cutStrings(value: unknown, limit: number, depth: number): unknown {
  if (typeof value === 'string') {
    return value.length > limit ? `${value.slice(0, limit)}…[${value.length - limit} more chars]` : value;
  }
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const items = value.slice(0, limit).map((v) => cutStrings(v, limit, depth + 1));
    if (value.length > limit) items.push(`…[${value.length - limit} more items]`);
    return items;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = cutStrings(v, limit, depth + 1);
  return out;
}
