// Reading an agent's terminal screen: the screens below are Claude Code 2.1.332's own, captured
// with tmux capture-pane (-e, as token-api captures them) in a folder it had not seen: the
// folder trust question, the API key question, then its input box, ready for a prompt.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readScreen } from '../src/sessions/terminal-screen.js';

const RULE = '─'.repeat(100);
const TRUST = [
  `\x1b[38;5;174m${RULE}\x1b[39m`,
  ' \x1b[1mAccessing workspace:\x1b[22m',
  '',
  ' /tmp/tx/repo2',
  '',
  " Quick safety check: Is this a project you created or one you trust? (Like your own code, a",
  " well-known open source project, or work from your team). If not, take a moment to review what's in",
  ' this folder first.',
  '',
  " Claude Code'll be able to read, edit, and execute files here.",
  '',
  ' \x1b[2mSecurity guide\x1b[22m',
  '',
  ' \x1b[38;5;153m❯\x1b[39m No, exit',
  '   Yes, I trust this folder',
  '',
  ' \x1b[2mEnter to confirm · Esc to cancel\x1b[22m',
].join('\n');
const API_KEY = [
  RULE,
  '  Detected a custom API key in your environment',
  '',
  '  ANTHROPIC_API_KEY: sk-ant-...sk-ant-test',
  '',
  '  Do you want to use this API key?',
  '',
  '    Yes',
  '  ❯ No (recommended)',
  '',
  '  Enter to confirm · Esc to cancel',
].join('\n');
const INPUT = [
  ' ▐▛███▜▌   Claude Code v2.1.332',
  '▝▜█████▛▘  Opus 5.5 · API Usage Billing',
  '  ▘▘ ▝▝    /tmp/tx/repo2',
  '',
  '                                                                                  ◐ medium · /effort',
  `\x1b[2m${RULE}\x1b[22m`,
  '❯\xa0',
  `\x1b[2m${RULE}\x1b[22m`,
  '  ⏸ manual mode on · ? for shortcuts · ← for agents',
].join('\n');

describe('what an agent\'s terminal screen shows', () => {
  it('a question with a menu, in its own words (at most 240 characters), never taken for the prompt', () => {
    const trust = readScreen(TRUST);
    assert.equal(trust.kind, 'question');
    assert.equal(
      trust.kind === 'question' && trust.question,
      "Accessing workspace: /tmp/tx/repo2 Quick safety check: Is this a project you created or one you trust? (Like your own code, a well-known open source project, or work from your team). If not, take a moment to review what's in this folder fi…",
    );
    assert.deepEqual(readScreen(API_KEY), { kind: 'question', question: 'Detected a custom API key in your environment ANTHROPIC_API_KEY: sk-ant-...sk-ant-test Do you want to use this API key?' });
  });

  it('the input box: its prompt under a rule, empty or with text typed', () => {
    assert.deepEqual(readScreen(INPUT), { kind: 'prompt' });
    assert.deepEqual(readScreen(INPUT.replace('❯\xa0', '❯ fix the failing test')), { kind: 'prompt' });
  });

  it('neither while the agent starts: a banner, a blank screen, a prompt sign not under a rule', () => {
    assert.deepEqual(readScreen(''), { kind: 'other' });
    assert.deepEqual(readScreen(INPUT.split('\n').slice(0, 5).join('\n')), { kind: 'other' });
    assert.deepEqual(readScreen('loading…\n❯ '), { kind: 'other' });
  });
});
