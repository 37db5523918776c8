// How deeply a parsed JSON value nests. Payloads kept as they arrive (hook events, Codex
// notify) are refused beyond MAX_PAYLOAD_DEPTH: JSON.stringify recurses, and a value nested a
// few thousand levels deep would make every later answer that contains it fail.
export const MAX_PAYLOAD_DEPTH = 64;

/** Whether `value` has arrays or objects nested more than `max` levels deep (iterative: safe for any depth). */
export function exceedsDepth(value: unknown, max: number = MAX_PAYLOAD_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}
