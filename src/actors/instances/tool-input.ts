// What a tool call is about, in a few words, from Claude Code's `tool_input`: the command
// Bash runs, the file Edit changes, the URL WebFetch reads. A person asked for permission
// hears it ("needs permission to run Bash: npm test"). Pure; kept short and on one line.

/** The field that says what each tool is about; tools not listed use the first of these present. */
const FIELD_OF: Record<string, string> = {
  Bash: 'command',
  BashOutput: 'bash_id',
  Edit: 'file_path',
  MultiEdit: 'file_path',
  Write: 'file_path',
  Read: 'file_path',
  NotebookEdit: 'notebook_path',
  WebFetch: 'url',
  WebSearch: 'query',
  Glob: 'pattern',
  Grep: 'pattern',
  Task: 'description',
  Agent: 'description',
};
const FALLBACK_FIELDS = ['command', 'file_path', 'path', 'url', 'query', 'pattern', 'description', 'prompt'];

/** Stored with the instance; notifications cut it further. */
export const TOOL_INPUT_MAX_CHARS = 200;

export function toolInputSummary(tool: string | null | undefined, input: unknown): string | null {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return null;
  const fields = input as Record<string, unknown>;
  const named = tool ? FIELD_OF[tool] : undefined;
  const key = named && typeof fields[named] === 'string' ? named : FALLBACK_FIELDS.find((k) => typeof fields[k] === 'string');
  if (!key) return null;
  const text = (fields[key] as string).replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  if (text === '') return null;
  return text.length > TOOL_INPUT_MAX_CHARS ? `${text.slice(0, TOOL_INPUT_MAX_CHARS - 1)}…` : text;
}
