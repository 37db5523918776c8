// The words of a notification: one sentence per intent ("Claude #2 finished in token-api"),
// and several intents for one device folded into one notification ("3 agents finished").
// Pure functions of the facts recorded with each intent.

export interface IntentWords {
  intent: string;
  instanceId: string | null;
  /** The agent's display name ("Claude #2"), null for intents of no instance. */
  name: string | null;
  /** The single-intent sentence, made when the intent was recorded. */
  sentence: string;
  /** The last assistant message, the question or the error, if any. */
  detail: string | null;
}

export interface IntentFacts {
  intent: string;
  name: string | null;
  workingDir: string | null;
  tool: string | null;
  /** For mode_timer_ended: the mode that ended and the mode now. */
  endedMode?: string | null;
  mode?: string | null;
}

function project(workingDir: string | null): string | null {
  if (!workingDir) return null;
  const parts = workingDir.split(/[\\/]+/).filter(Boolean);
  return parts.length > 0 ? parts[parts.length - 1]! : null;
}

/** "Claude #2 finished in token-api", "Claude #1 needs permission to run Bash". */
export function sentenceOf(f: IntentFacts): string {
  const who = f.name ?? 'An agent';
  const where = project(f.workingDir);
  const inWhere = where ? ` in ${where}` : '';
  switch (f.intent) {
    case 'finished':
      return `${who} finished${inWhere}`;
    case 'failed':
      return `${who} failed${inWhere}`;
    case 'needs_permission':
      return `${who} needs permission${f.tool ? ` to run ${f.tool}` : ''}`;
    case 'needs_input':
      return `${who} has a question${inWhere}`;
    case 'expired':
      return `${who} timed out${inWhere}`;
    case 'mode_timer_ended':
      return `The ${f.endedMode ?? 'mode'} timer ended${f.mode ? `; mode is now ${f.mode}` : ''}`;
    default:
      return `${who}: ${f.intent.replaceAll('_', ' ')}`;
  }
}

/** Text fit to be read aloud or shown in a phone notification: no markup, bounded. */
export function plainText(text: string, maxChars: number): string {
  const plain = text
    .replace(/```[\s\S]*?```/g, ' ')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\*\*|__|~~|\*/g, '')
    .replace(/^\s*(#+|>+)\s*/gm, '')
    .replace(/\|/g, ' ')
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (plain.length <= maxChars) return plain;
  if (maxChars <= 1) return '';
  const cut = plain.slice(0, maxChars - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > maxChars / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.]+$/, '')}…`;
}

const ORDER = ['needs_permission', 'needs_input', 'failed', 'finished', 'expired', 'mode_timer_ended'];

const PLURAL: Record<string, (n: number) => string> = {
  finished: (n) => `${n} agents finished`,
  failed: (n) => `${n} agents failed`,
  needs_permission: (n) => `${n} agents need permission`,
  needs_input: (n) => `${n} agents have questions`,
  expired: (n) => `${n} agents timed out`,
};

function rank(intent: string): number {
  const i = ORDER.indexOf(intent);
  return i < 0 ? ORDER.length : i;
}

/**
 * Title and message for one notification made of one or more intents. A single intent keeps
 * its sentence (and its detail when `includeDetail`); several are counted per kind of intent,
 * most urgent first, each agent once.
 */
export function compose(members: readonly IntentWords[], opts: { includeDetail: boolean; maxChars: number }): { title: string; message: string } {
  if (members.length === 0) return { title: 'token-api', message: '' };
  const groups = new Map<string, IntentWords[]>();
  for (const m of [...members].sort((a, b) => rank(a.intent) - rank(b.intent))) {
    const list = groups.get(m.intent) ?? [];
    const who = m.instanceId ?? m.sentence;
    if (!list.some((x) => (x.instanceId ?? x.sentence) === who)) list.push(m);
    groups.set(m.intent, list);
  }
  const parts: string[] = [];
  for (const [intent, list] of groups) {
    const plural = PLURAL[intent];
    if (list.length === 1 || !plural) parts.push(...list.map((m) => m.sentence));
    else parts.push(plural(list.length));
  }
  const title = parts.length === 1 ? parts[0]! : `${members.length} notifications`;
  let message = parts.join('. ');
  const only = members.length === 1 ? members[0]! : null;
  if (opts.includeDetail && only?.detail && opts.maxChars > 0) {
    const detail = plainText(only.detail, opts.maxChars);
    if (detail) message += `: ${detail}`;
  }
  return { title, message };
}
