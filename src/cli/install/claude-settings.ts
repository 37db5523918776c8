// token-api's entries in Claude Code's settings.json: which events, what each entry looks like
// (the hook script, or a native `type: "http"` handler), and merging them in or out while
// keeping every entry the person has, in order. Pure functions over parsed JSON, plus
// parse/format helpers that keep the file's indentation, line endings and final newline.
import { isDeepStrictEqual } from 'node:util';
import { InstallError } from './settings-file.js';

/** Every Claude Code hook event token-api listens to. */
export const HOOK_EVENTS = [
  'SessionStart',
  'UserPromptSubmit',
  'PreToolUse',
  'PostToolUse',
  'PostToolUseFailure',
  'PermissionRequest',
  'Notification',
  'Stop',
  'StopFailure',
  'SubagentStart',
  'SubagentStop',
  'SessionEnd',
] as const;

/** Claude Code does not accept `type: "http"` for these: they keep the hook script. */
export const COMMAND_ONLY_EVENTS: ReadonlySet<string> = new Set(['SessionStart']);

export const SCRIPT_NAME = 'token-api-hook.sh';
export const HTTP_MARKER_HEADER = 'X-Token-Api-Hook';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
export type HookMode = 'command' | 'http';

export interface HandlerOptions {
  mode: HookMode;
  /** Absolute path of hooks/token-api-hook.sh. */
  scriptPath: string;
  /** token-api's URL as the hook should use it. */
  url: string;
  /** Environment the command needs (TOKEN_API_HOME, TOKEN_API_URL) when not the defaults. */
  env: Record<string, string>;
  /** Send TOKEN_API_TOKEN as a bearer token (http mode). */
  withToken: boolean;
  /** approval_timeout_seconds: the PermissionRequest hook waits a little longer, its entry's timeout longer still (default 120). */
  approvalTimeoutSeconds?: number;
}

/** The PermissionRequest hook waits for a decision: how long, and the entry's timeout above it, so Claude Code never kills it first. */
export function approvalWaits(approvalTimeoutSeconds = 120): { waitSeconds: number; entryTimeout: number } {
  return { waitSeconds: approvalTimeoutSeconds + 10, entryTimeout: approvalTimeoutSeconds + 30 };
}

const shellQuote = (s: string) => (/^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

/** The entry token-api wants for one event. */
export function tokenApiHandler(event: string, o: HandlerOptions): JsonObject {
  const waits = event === 'PermissionRequest' ? approvalWaits(o.approvalTimeoutSeconds) : null;
  if (o.mode === 'http' && !COMMAND_ONLY_EVENTS.has(event)) {
    const headers: JsonObject = { [HTTP_MARKER_HEADER]: '1', 'X-Token-Api-Ssh-Client': '$SSH_CLIENT' };
    const allowed: Json[] = ['SSH_CLIENT'];
    if (o.withToken) {
      headers.Authorization = 'Bearer $TOKEN_API_TOKEN';
      allowed.push('TOKEN_API_TOKEN');
    }
    const base = o.url.replace(/\/$/, '');
    if (waits) return { type: 'http', url: `${base}/api/approvals/wait`, headers, allowedEnvVars: allowed, timeout: waits.entryTimeout };
    return { type: 'http', url: `${base}/api/hooks?reply=none`, headers, allowedEnvVars: allowed, timeout: 5 };
  }
  // `exec`: the shell Claude Code starts becomes the script's, one process fewer per event.
  const vars = waits ? { ...o.env, TOKEN_API_APPROVAL_WAIT: String(waits.waitSeconds) } : o.env;
  const env = Object.entries(vars).map(([k, v]) => ` ${k}=${shellQuote(v)}`).join('');
  return { type: 'command', command: `exec ${env ? `env${env} ` : ''}sh ${shellQuote(o.scriptPath)} ${event}`, timeout: waits ? waits.entryTimeout : 10 };
}

/** True for entries token-api wrote: the hook script, or an http handler carrying its marker header. */
export function isTokenApiHandler(h: Json): boolean {
  if (h === null || typeof h !== 'object' || Array.isArray(h)) return false;
  if (h.type === 'command' && typeof h.command === 'string') return h.command.includes(SCRIPT_NAME);
  if (h.type === 'http' && h.headers && typeof h.headers === 'object' && !Array.isArray(h.headers)) {
    return Object.keys(h.headers).some((k) => k.toLowerCase() === HTTP_MARKER_HEADER.toLowerCase());
  }
  return false;
}

function isObject(v: Json | undefined): v is JsonObject {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);
}

/** The hooks table, checked: refuses shapes it would have to guess about. */
function hooksTable(settings: JsonObject, create: boolean): JsonObject | null {
  const hooks = settings.hooks;
  if (hooks === undefined) {
    if (!create) return null;
    settings.hooks = {};
    return settings.hooks as JsonObject;
  }
  if (!isObject(hooks)) throw new InstallError('"hooks" in the settings is not an object; fix it by hand first (nothing was changed)');
  for (const [event, groups] of Object.entries(hooks)) {
    if (!Array.isArray(groups)) throw new InstallError(`"hooks.${event}" in the settings is not a list; fix it by hand first (nothing was changed)`);
  }
  return hooks;
}

export interface MergeResult {
  settings: JsonObject;
  /** Events whose token-api entry was added, replaced or removed. */
  changed: string[];
}

/** Adds (or updates in place) token-api's entry for every event; leaves everything else as it is. */
export function installHooks(original: JsonObject, o: HandlerOptions, events: readonly string[] = HOOK_EVENTS): MergeResult {
  const settings = structuredClone(original);
  const hooks = hooksTable(settings, true)!;
  const changed: string[] = [];
  for (const event of events) {
    const want = tokenApiHandler(event, o);
    const groups = (hooks[event] ??= []) as Json[];
    const ours: { group: JsonObject; index: number }[] = [];
    for (const g of groups) {
      if (!isObject(g) || !Array.isArray(g.hooks)) continue;
      g.hooks.forEach((h, index) => {
        if (isTokenApiHandler(h)) ours.push({ group: g, index });
      });
    }
    if (ours.length === 1 && isDeepStrictEqual((ours[0]!.group.hooks as Json[])[ours[0]!.index], want)) continue;
    changed.push(event);
    if (ours.length === 0) {
      groups.push({ hooks: [want] });
      continue;
    }
    // Replace the first in place (its position is the person's choice); drop any others.
    const [first, ...rest] = ours;
    (first!.group.hooks as Json[])[first!.index] = want;
    for (const r of rest.reverse()) (r.group.hooks as Json[]).splice(r.index, 1);
    hooks[event] = groups.filter((g) => !isObject(g) || !Array.isArray(g.hooks) || g.hooks.length > 0);
  }
  return { settings, changed };
}

/** Removes exactly token-api's entries, and the groups, events and table that held only them. */
export function uninstallHooks(original: JsonObject): MergeResult {
  const settings = structuredClone(original);
  const hooks = hooksTable(settings, false);
  const changed: string[] = [];
  if (!hooks) return { settings, changed };
  for (const [event, groups] of Object.entries(hooks) as [string, Json[]][]) {
    let touched = false;
    const kept: Json[] = [];
    for (const g of groups) {
      if (!isObject(g) || !Array.isArray(g.hooks)) {
        kept.push(g);
        continue;
      }
      const left = g.hooks.filter((h) => !isTokenApiHandler(h));
      if (left.length === g.hooks.length) {
        kept.push(g);
        continue;
      }
      touched = true;
      if (left.length > 0) kept.push({ ...g, hooks: left });
    }
    if (!touched) continue;
    changed.push(event);
    if (kept.length > 0) hooks[event] = kept;
    else delete hooks[event];
  }
  if (changed.length > 0 && Object.keys(hooks).length === 0) delete settings.hooks;
  return { settings, changed };
}

export interface EventStatus {
  event: string;
  /** How token-api is hooked for this event: not at all, the script, or native http. */
  tokenApi: 'none' | 'command' | 'http';
  /** The handler's command or URL. */
  target: string | null;
  /** Handlers for this event that are not token-api's. */
  others: number;
}

export function hookStatus(settings: JsonObject): EventStatus[] {
  const hooks = isObject(settings.hooks) ? settings.hooks : {};
  const names = [...HOOK_EVENTS, ...Object.keys(hooks).filter((k) => !(HOOK_EVENTS as readonly string[]).includes(k))];
  return names.map((event) => {
    const status: EventStatus = { event, tokenApi: 'none', target: null, others: 0 };
    const groups = hooks[event];
    if (!Array.isArray(groups)) return status;
    for (const g of groups) {
      if (!isObject(g) || !Array.isArray(g.hooks)) continue;
      for (const h of g.hooks) {
        if (isTokenApiHandler(h) && isObject(h)) {
          status.tokenApi = h.type === 'http' ? 'http' : 'command';
          status.target = String(h.type === 'http' ? h.url : h.command);
        } else status.others += 1;
      }
    }
    return status;
  });
}

export interface ParsedSettings {
  value: JsonObject;
  indent: string;
  eol: string;
  finalNewline: boolean;
  bom: boolean;
}

/** Numbers JSON.parse would change (beyond 2^53, overflowing, or more digits than a double keeps). */
function unsafeNumbers(text: string): string[] {
  const out: string[] = [];
  // Strings are blanked first so that digits inside them are not taken for numbers.
  const bare = text.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const m of bare.matchAll(/-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g)) {
    const tok = m[0];
    const n = Number(tok);
    if (!Number.isFinite(n)) out.push(tok);
    else if (/^-?\d+$/.test(tok) && !Number.isSafeInteger(n)) out.push(tok);
    else if (tok.replace(/^-|[eE].*$|\./g, '').replace(/^0+/, '').length > 17) out.push(tok);
  }
  return out;
}

export function parseSettings(text: string, path: string): ParsedSettings {
  const bom = text.charCodeAt(0) === 0xfeff;
  const body = bom ? text.slice(1) : text;
  const eol = body.includes('\r\n') ? '\r\n' : '\n';
  if (body.trim() === '') return { value: {}, indent: '  ', eol, finalNewline: true, bom };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    throw new InstallError(`${path} is not valid JSON (${(err as Error).message}); nothing was changed. Fix it, or restore a backup, and run this again.`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InstallError(`${path} does not hold a JSON object; nothing was changed`);
  }
  const unsafe = unsafeNumbers(body);
  if (unsafe.length > 0) {
    throw new InstallError(`${path} holds numbers that would change when rewritten (${unsafe.slice(0, 3).join(', ')}); nothing was changed`);
  }
  const indent = /^[\r\n]*[{[][ \t]*\r?\n([ \t]+)\S/.exec(body)?.[1] ?? '  ';
  return { value: value as JsonObject, indent, eol, finalNewline: /\n$/.test(body), bom };
}

/** Serialises like the original file: same indentation, line endings, final newline and BOM. */
export function formatSettings(value: JsonObject, like: ParsedSettings): string {
  let text = JSON.stringify(value, null, like.indent);
  if (like.eol === '\r\n') text = text.replace(/\n/g, '\r\n');
  if (like.finalNewline) text += like.eol;
  return like.bom ? `\ufeff${text}` : text;
}

/**
 * The URL an installed token-api entry sends to: an http entry's own, or a command entry's
 * TOKEN_API_URL (else TOKEN_API_PORT, else the hook script's default, 127.0.0.1:7777).
 */
export function entryUrl(status: Pick<EventStatus, 'tokenApi' | 'target'>): string | null {
  if (status.tokenApi === 'none' || status.target === null) return null;
  if (status.tokenApi === 'http') return status.target.replace(/\/api\/(hooks|approvals\/wait).*$/, '');
  const word = (name: string) => new RegExp(`(?:^|\\s)${name}=('([^']*)'|[^\\s]+)`).exec(status.target!);
  const url = word('TOKEN_API_URL');
  if (url) return (url[2] ?? url[1]!).replace(/\/$/, '');
  const port = word('TOKEN_API_PORT');
  return `http://127.0.0.1:${port ? (port[2] ?? port[1]) : '7777'}`;
}
