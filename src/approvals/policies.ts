// Policies that answer a permission request by themselves: the first configured rule whose
// tool (Claude Code's rule form, "Read", "Bash(rm -rf *)") and working directory match. Pure.
// A pattern's `*` matches any run of characters (slashes included); everything else is literal.
import type { PolicyRule } from '../config/approvals.js';

export interface PolicyQuestion {
  toolName: string;
  toolInput: unknown;
  cwd: string | null;
}

const cache = new Map<string, RegExp>();

function pattern(glob: string): RegExp {
  let re = cache.get(glob);
  if (!re) {
    re = new RegExp(`^${glob.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*')}$`);
    if (cache.size < 1000) cache.set(glob, re);
  }
  return re;
}

const SUBJECT_FIELDS = ['command', 'file_path', 'notebook_path', 'path', 'url', 'query', 'pattern'];

/** The text a rule's parenthesised pattern is matched against, whole: the command, the file, the URL... */
function subject(q: PolicyQuestion): string {
  if (!q.toolInput || typeof q.toolInput !== 'object' || Array.isArray(q.toolInput)) return '';
  const fields = q.toolInput as Record<string, unknown>;
  const key = SUBJECT_FIELDS.find((k) => typeof fields[k] === 'string');
  return key ? (fields[key] as string) : '';
}

export function ruleMatches(rule: PolicyRule, q: PolicyQuestion): boolean {
  const m = /^([^()]+?)(?:\((.*)\))?$/s.exec(rule.tool.trim());
  if (!m) return false;
  if (!pattern(m[1]!).test(q.toolName)) return false;
  if (m[2] !== undefined && !pattern(m[2]).test(subject(q))) return false;
  if (rule.cwd !== null && (q.cwd === null || !pattern(rule.cwd).test(q.cwd))) return false;
  return true;
}

/** The first rule that answers this request, or null (a person decides). */
export function matchPolicy(rules: readonly PolicyRule[], q: PolicyQuestion): PolicyRule | null {
  return rules.find((r) => ruleMatches(r, q)) ?? null;
}
