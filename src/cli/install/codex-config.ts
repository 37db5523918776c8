// token-api's `notify` in Codex's config.toml. The file is edited as text, one top-level key
// only, so the person's comments and layout stay; it is parsed before (refusing invalid TOML)
// and after (the result must equal the original but for `notify`) with smol-toml, or nothing
// is written. A notify program the person already had is kept: token-api's command runs it
// after itself (`codex-notify -- their command`), and uninstall puts it back.
import { parse } from 'smol-toml';
import { isDeepStrictEqual } from 'node:util';
import { InstallError } from './settings-file.js';

export const NOTIFY_SUBCOMMAND = 'codex-notify';

type Table = Record<string, unknown>;

function parseToml(text: string, path: string): Table {
  try {
    return parse(text) as Table;
  } catch (err) {
    throw new InstallError(`${path} is not valid TOML (${(err as Error).message.split('\n')[0]}); nothing was changed`);
  }
}

/** True when a notify command is token-api's (`… token-api… codex-notify …`). */
export function isTokenApiNotify(v: unknown): v is string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) return false;
  const i = v.indexOf(NOTIFY_SUBCOMMAND);
  return i > 0 && v.slice(0, i).some((x) => /token-api/.test(x));
}

/** The person's own notify program that token-api's command chains to, if any. */
export function chainedNotify(ours: string[]): string[] {
  const dash = ours.indexOf('--');
  return dash < 0 ? [] : ours.slice(dash + 1);
}

/** Where the top-level `notify = …` entry is (whole lines), and where the first table starts. */
function locate(text: string): { notify: { start: number; end: number } | null; firstTable: number } {
  let i = 0;
  let notify: { start: number; end: number } | null = null;
  while (i < text.length) {
    // At the start of a line, outside any value.
    const lineStart = i;
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
    if (text[i] === '[') return { notify, firstTable: lineStart };
    const key = /^(?:notify|"notify"|'notify')[ \t]*=/.exec(text.slice(i, i + 20));
    // Skip to the end of this statement: strings, comments and brackets included.
    let depth = 0;
    while (i < text.length) {
      const c = text[i]!;
      if (c === '#') {
        while (i < text.length && text[i] !== '\n') i++;
        continue;
      }
      if (c === '"' || c === "'") {
        const triple = text.startsWith(c.repeat(3), i);
        const close = triple ? c.repeat(3) : c;
        i += close.length;
        while (i < text.length && !text.startsWith(close, i)) {
          if (c === '"' && text[i] === '\\') i++;
          if (!triple && text[i] === '\n') break;
          i++;
        }
        i += close.length;
        // A closing quote may be followed by up to two more quotes in a multi-line string.
        while (triple && text[i] === c) i++;
        continue;
      }
      if (c === '[' || c === '{') depth++;
      else if (c === ']' || c === '}') depth--;
      else if (c === '\n' && depth <= 0) {
        i++;
        break;
      }
      i++;
    }
    if (key && !notify) notify = { start: lineStart, end: i };
  }
  return { notify, firstTable: -1 };
}

const tomlArray = (items: string[]) => `[${items.map((s) => JSON.stringify(s)).join(', ')}]`;

function edit(text: string, path: string, want: string[] | null): string {
  const before = parseToml(text, path);
  const { notify, firstTable } = locate(text);
  const line = want ? `notify = ${tomlArray(want)}\n` : '';
  let out: string;
  if (notify) {
    let end = notify.end;
    // Removing the line install added before a table also removes the blank line it added.
    if (!want && text[end] === '\n' && (notify.start === 0 || text.slice(0, notify.start).endsWith('\n\n'))) end += 1;
    out = text.slice(0, notify.start) + line + text.slice(end);
  } else if (!want) {
    return text;
  } else if (firstTable >= 0) {
    out = `${text.slice(0, firstTable)}${line}\n${text.slice(firstTable)}`;
  } else {
    out = text === '' || text.endsWith('\n') ? text + line : `${text}\n${line}`;
  }
  // Safe means: the same configuration, but for notify.
  const after = parseToml(out, path);
  const { notify: a, ...restAfter } = after;
  const { notify: _b, ...restBefore } = before;
  if (!isDeepStrictEqual(restAfter, restBefore) || !isDeepStrictEqual(a ?? null, want)) {
    throw new InstallError(`could not edit notify in ${path} without changing anything else; nothing was changed. Set it by hand: notify = ${tomlArray(want ?? [])}`);
  }
  return out;
}

export interface NotifyEdit {
  text: string;
  changed: boolean;
  /** The person's own notify program, kept (chained) or restored. */
  kept: string[] | null;
}

/** Sets notify to token-api's command, chaining whatever program was there before. */
export function installNotify(text: string, path: string, command: string[]): NotifyEdit {
  const current = parseToml(text, path).notify;
  let kept: string[] = [];
  if (isTokenApiNotify(current)) kept = chainedNotify(current);
  else if (Array.isArray(current) && current.every((x) => typeof x === 'string')) kept = current as string[];
  else if (current !== undefined) throw new InstallError(`notify in ${path} is not a list of strings; nothing was changed`);
  const want = kept.length > 0 ? [...command, '--', ...kept] : command;
  if (isDeepStrictEqual(current, want)) return { text, changed: false, kept: kept.length ? kept : null };
  return { text: edit(text, path, want), changed: true, kept: kept.length ? kept : null };
}

/** Removes token-api's notify, restoring the person's program if it chained one. */
export function uninstallNotify(text: string, path: string): NotifyEdit {
  const current = parseToml(text, path).notify;
  if (!isTokenApiNotify(current)) return { text, changed: false, kept: null };
  const kept = chainedNotify(current);
  return { text: edit(text, path, kept.length > 0 ? kept : null), changed: true, kept: kept.length ? kept : null };
}

export function notifyStatus(text: string, path: string): { state: 'token-api' | 'other' | 'none'; command: string[] | null } {
  const current = parseToml(text, path).notify;
  if (current === undefined) return { state: 'none', command: null };
  if (isTokenApiNotify(current)) return { state: 'token-api', command: current };
  return { state: 'other', command: Array.isArray(current) ? current.map(String) : [String(current)] };
}
