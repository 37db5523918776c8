// What an agent's terminal screen shows, read from its text (tmux capture-pane): its prompt,
// ready for typing (`❯` at the start of a line, under a rule, as Claude Code draws its input
// box), or a question with a menu (an indented `❯` on the chosen option, as in the folder
// trust and API key screens), which a typed prompt must never answer.
export type ScreenState = { kind: 'prompt' } | { kind: 'question'; question: string } | { kind: 'other' };

const RULE = /^─{3,}/;
const MENU_CURSOR = /^\s+❯\s+\S/;
const INPUT = /^❯(\s|$)/;
/** A question is given in this many characters at most. */
const QUESTION_MAX = 240;

/** Colours and other escape sequences (capture-pane -e keeps them). */
const ESCAPES = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/g;

export function readScreen(text: string): ScreenState {
  const lines = text.replace(ESCAPES, '').split('\n').map((l) => l.trimEnd());
  const cursor = lines.findIndex((l) => MENU_CURSOR.test(l));
  if (cursor !== -1) {
    // The question: the lines above the menu, up to the rule or the top (the options are indented).
    let top = cursor;
    while (top > 0 && !RULE.test(lines[top - 1]!.trim())) top -= 1;
    let end = cursor;
    while (end > top && /^\s{2,}\S/.test(lines[end - 1]!) && !/[?:]$/.test(lines[end - 1]!)) end -= 1;
    const words = lines.slice(top, end).map((l) => l.trim()).filter((l) => l !== '').join(' ');
    return { kind: 'question', question: words.length > QUESTION_MAX ? `${words.slice(0, QUESTION_MAX - 1)}…` : words || lines[cursor]!.trim() };
  }
  for (let i = 0; i < lines.length; i++) {
    if (!INPUT.test(lines[i]!)) continue;
    let above = i - 1;
    while (above >= 0 && lines[above]!.trim() === '') above -= 1;
    if (above >= 0 && RULE.test(lines[above]!.trim())) return { kind: 'prompt' };
  }
  return { kind: 'other' };
}
