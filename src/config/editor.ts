// GET and PUT /api/config: the configuration as it runs (secrets masked) and changes to the
// config file. A change merges `set` into what the file holds (objects key by key; any other
// value, null and lists included, replaces) and removes `unset` keys, is checked by the same
// schema and rules as the file at start, and is written atomically (write-file-atomic: a
// temporary file, flushed, renamed over) after the previous file is kept as `<file>.bak`. The
// live sections (cron, obsidian, metrics) apply at once; any other change is answered in
// `restart_required` and takes effect at the next start. Changes are one at a time, each an event.
import { copyFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import writeFileAtomic from 'write-file-atomic';
import type { Clock } from '../lib/clock.js';
import { checkConfigFile, resolveUserPath, type Config, type ConfigFile } from './config.js';
import { DomainError } from '../lib/domain-error.js';
import { cronSettings } from './cron.js';
import { LIVE_KEYS, type LiveConfig, type LiveKey } from './live.js';
import { metricsSettings } from './metrics.js';
import { OBSIDIAN_SECRETS, obsidianSettings } from './obsidian.js';

/** What a secret looks like in every answer; sent back unchanged, it keeps the stored value. */
export const SECRET_MASK = '********';
const SECRETS: readonly string[] = [...OBSIDIAN_SECRETS];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `set` merged into `base`: objects key by key, anything else replaced. */
function merged(base: JsonObject, set: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [k, v] of Object.entries(set)) out[k] = isObject(v) && isObject(out[k]) ? merged(out[k] as JsonObject, v) : v;
  return out;
}

/** Removes a dotted key (`obsidian.vault`); parents left empty go too. */
function without(obj: JsonObject, dotted: string): JsonObject {
  const [head, ...rest] = dotted.split('.');
  if (!(head! in obj)) return obj;
  const out = { ...obj };
  if (rest.length === 0) delete out[head!];
  else if (isObject(out[head!])) {
    const inner = without(out[head!] as JsonObject, rest.join('.'));
    if (Object.keys(inner).length === 0) delete out[head!];
    else out[head!] = inner;
  }
  return out;
}

function get(obj: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), obj);
}

function withValue(obj: JsonObject, dotted: string, value: Json): JsonObject {
  const [head, ...rest] = dotted.split('.');
  if (rest.length === 0) return { ...obj, [head!]: value };
  return { ...obj, [head!]: withValue(isObject(obj[head!]) ? (obj[head!] as JsonObject) : {}, rest.join('.'), value) };
}

/** Dotted paths of the leaves that differ between two files (a list or a value is one leaf). */
function changedKeys(a: unknown, b: unknown, prefix = ''): string[] {
  if (isObject(a) && isObject(b)) {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].flatMap((k) => changedKeys(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  // A block on one side only: each of its leaves changed.
  if (isObject(a) || isObject(b)) return changedKeys(isObject(a) ? a : {}, isObject(b) ? b : {}, prefix);
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix];
}

function masked<T>(file: T): T {
  let out = file as unknown as JsonObject;
  for (const key of SECRETS) if (get(out, key) != null) out = withValue(out, key, SECRET_MASK);
  return out as unknown as T;
}

/** The resolved configuration with its secrets masked (camelCase keys, as the server uses them). */
function maskedEffective(c: Config) {
  return { ...c, obsidian: { ...c.obsidian, apiKey: c.obsidian.apiKey === null ? null : SECRET_MASK } };
}

const isLive = (key: string) => (LIVE_KEYS as readonly string[]).includes(key.split('.')[0]!);

export interface ConfigEditorDeps {
  live: LiveConfig;
  /** Writes event rows (the hub's `record`). */
  record(extra: { events: { type: string; at: number; details: unknown }[] }): Promise<unknown>;
  clock: Clock;
  logger: Logger;
}

export function createConfigEditor(deps: ConfigEditorDeps) {
  const file = deps.live.current().configFile;
  let queue: Promise<unknown> = Promise.resolve();

  /** What the file holds now; {} when there is none. */
  function readFile(): JsonObject {
    if (!existsSync(file)) return {};
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new DomainError('conflict', `the config file ${file} is not valid JSON now (${(err as Error).message}); fix it by hand, then try again`);
    }
    if (!isObject(raw)) throw new DomainError('conflict', `the config file ${file} does not hold a JSON object; fix it by hand, then try again`);
    return raw;
  }

  /** What the server runs with, as the file said at start or after a change it applied. */
  let running: JsonObject;
  try {
    running = readFile();
  } catch {
    running = {};
  }

  function view(now: JsonObject) {
    const pending = changedKeys(running, now).filter((k) => !isLive(k));
    return {
      file,
      exists: existsSync(file),
      settings: masked(now),
      effective: maskedEffective(deps.live.current()),
      restart_required: pending,
    };
  }

  async function change(set: JsonObject, unset: readonly string[]) {
    const before = readFile();
    let next = merged(before, set);
    // A masked secret sent back as it was shown keeps the stored one.
    for (const key of SECRETS) if (get(set, key) === SECRET_MASK) next = get(before, key) === undefined ? without(next, key) : withValue(next, key, get(before, key) as Json);
    for (const key of unset) next = without(next, key);
    const checked = checkConfigFile(next);
    if (!checked.ok) {
      const fields = Object.fromEntries(Object.entries(checked.problems).map(([k, v]) => [k === '(root)' ? 'set' : `set.${k}`, v]));
      const first = Object.entries(checked.problems)[0]!;
      throw new DomainError('invalid', `the change would make the config file invalid: ${first[0] === '(root)' ? '' : `${first[0]} `}${first[1]}${Object.keys(fields).length > 1 ? ` (and ${Object.keys(fields).length - 1} more: see fields)` : ''}; nothing was written`, undefined, fields);
    }
    const changed = changedKeys(before, next);
    if (changed.length === 0) return { ...view(next), changed, applied: [] as string[] };
    const text = `${JSON.stringify(next, null, 2)}\n`;
    try {
      const mode = existsSync(file) ? statSync(file).mode & 0o777 : 0o600;
      if (existsSync(file)) copyFileSync(file, `${file}.bak`);
      await writeFileAtomic(file, text, { mode, fsync: true });
    } catch (err) {
      throw new DomainError('conflict', `cannot write the config file ${file}: ${(err as Error).message}; nothing was changed`);
    }
    const live = [...new Set(changed.filter(isLive).map((k) => k.split('.')[0] as LiveKey))];
    const f = checked.file as ConfigFile;
    deps.live.apply({
      ...(live.includes('cron') ? { cron: cronSettings(f.cron) } : {}),
      ...(live.includes('obsidian') ? { obsidian: obsidianSettings(f.obsidian, resolveUserPath) } : {}),
      ...(live.includes('metrics') ? { metrics: metricsSettings(f.metrics) } : {}),
    });
    for (const k of live) running = withValue(running, k, (next[k] ?? null) as Json);
    for (const k of live) if (next[k] === undefined) running = without(running, k);
    const result = { ...view(next), changed, applied: changed.filter(isLive) };
    deps.logger.info({ file, changed, restart_required: result.restart_required }, 'config file changed over the API');
    await deps.record({ events: [{ type: 'config.changed', at: deps.clock.now(), details: { changed, applied: result.applied, restart_required: result.restart_required } }] });
    return result;
  }

  return {
    view: () => view(readFile()),

    /** Changes the file (one change at a time); answered once written and applied where it can be. */
    update(set: Record<string, unknown>, unset: readonly string[] = []) {
      const run = queue.then(() => change(set as JsonObject, unset));
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

export type ConfigEditor = ReturnType<typeof createConfigEditor>;
