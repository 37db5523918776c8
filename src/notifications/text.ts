// The words of a notification: one sentence per intent ("Claude #2 in api finished",
// "Claude #3 in api needs permission to run Bash: npm test"), and several intents for one
// device folded into one notification that still says which agents ("Claude #1 (api) and
// Codex #1 (blog) finished"). Pure functions of the facts recorded with each intent.

export interface IntentWords {
  intent: string;
  instanceId: string | null;
  /** The agent's display name ("Claude #2"), null for intents of no instance. */
  name: string | null;
  /** The project it works in ("api"). */
  project?: string | null;
  /** The single-intent sentence, made when the intent was recorded. */
  sentence: string;
  /** The last assistant message, the question or the error, if any. */
  detail: string | null;
}

export interface IntentFacts {
  intent: string;
  name: string | null;
  project: string | null;
  tool: string | null;
  /** What the tool call is about (Bash's command). */
  input?: string | null;
  /** For mode_timer_ended: the mode that ended and the mode now. */
  endedMode?: string | null;
  mode?: string | null;
}

/** A tool's input in a spoken sentence: one line, cut at a word. */
export const INPUT_MAX_CHARS = 60;

/** "Claude #2 in api", or the name alone when there is no project or the name says it. */
function whoIn(name: string | null, project: string | null): string {
  const who = name ?? 'An agent';
  return project && project !== name ? `${who} in ${project}` : who;
}

/** "Claude #1 (api)": an agent in a list of several. */
export function labelOf(m: Pick<IntentWords, 'name' | 'project'>): string {
  const who = m.name ?? 'an agent';
  return m.project && m.project !== m.name ? `${who} (${m.project})` : who;
}

/** "Claude #2 in api finished", "Claude #3 in api needs permission to run Bash: npm test". */
export function sentenceOf(f: IntentFacts): string {
  const who = whoIn(f.name, f.project);
  switch (f.intent) {
    case 'finished':
      return `${who} finished`;
    case 'failed':
      return `${who} failed`;
    case 'needs_permission': {
      const input = f.input ? plainText(f.input, INPUT_MAX_CHARS) : '';
      return `${who} needs permission${f.tool ? ` to run ${f.tool}` : ''}${input ? `: ${input}` : ''}`;
    }
    case 'needs_input':
      return `${who} has a question`;
    case 'expired':
      return `${who} timed out`;
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

/** What one agent and several did, after their names ("Claude #1 (api) and Codex #1 (blog) finished"). */
const VERBS: Record<string, { one: string; many: string }> = {
  finished: { one: 'finished', many: 'finished' },
  failed: { one: 'failed', many: 'failed' },
  needs_permission: { one: 'needs permission', many: 'need permission' },
  needs_input: { one: 'has a question', many: 'have questions' },
  expired: { one: 'timed out', many: 'timed out' },
};

/** Agents named in one sentence before the rest are counted. */
const LISTED = 3;

function rank(intent: string): number {
  const i = ORDER.indexOf(intent);
  return i < 0 ? ORDER.length : i;
}

/** "A", "A and B", "A, B and C", "A, B, C and 2 others". */
function listOf(labels: readonly string[]): string {
  if (labels.length <= 1) return labels[0] ?? '';
  if (labels.length <= LISTED) return `${labels.slice(0, -1).join(', ')} and ${labels[labels.length - 1]}`;
  return `${labels.slice(0, LISTED).join(', ')} and ${labels.length - LISTED} others`;
}

/**
 * Title and message for one notification made of one or more intents. A single intent keeps
 * its sentence (and its detail when `includeDetail`); several of one kind name each agent with
 * its project ("Claude #1 (api) and Codex #1 (blog) finished"), most urgent kind first, each
 * agent once. The title is the short form ("Claude #2 (web) failed; 3 agents finished").
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
  const short: string[] = [];
  for (const [intent, list] of groups) {
    const verb = VERBS[intent];
    if (list.length === 1 || !verb) {
      parts.push(...list.map((m) => m.sentence));
      short.push(...list.map((m) => (verb ? `${labelOf(m)} ${verb.one}` : m.sentence)));
    } else {
      const projects = new Set(list.map((m) => m.project ?? null));
      const [shared] = projects;
      // All in one project: say it once ("Claude #1 and Claude #2 in api finished").
      const names = projects.size === 1 && shared ? `${listOf(list.map((m) => m.name ?? 'an agent'))} in ${shared}` : listOf(list.map(labelOf));
      parts.push(`${names} ${verb.many}`);
      short.push(`${list.length} agents ${verb.many}`);
    }
  }
  const title = parts.length === 1 ? parts[0]! : short.join('; ');
  let message = parts.join('. ');
  const only = members.length === 1 ? members[0]! : null;
  if (opts.includeDetail && only?.detail && opts.maxChars > 0) {
    const detail = plainText(only.detail, opts.maxChars);
    if (detail) message += `: ${detail}`;
  }
  return { title, message };
}
