// Obsidian through its Local REST API plugin: list its commands, run one, and run JavaScript
// through the plugin route that allows it (`obsidian.eval_route`, a route another plugin adds
// to the Local REST API). Eval is off unless `obsidian.eval_enabled`; every eval is written to
// the event log with the SHA-256 of its code before the code is sent; a command is written
// once the plugin ran it. Settings are read at each call, so PUT /api/config applies at once.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../lib/clock.js';
import type { Hub } from '../actors/runtime/root-machines.js';
import type { ObsidianSettings } from '../config/obsidian.js';
import { DomainError } from '../lib/domain-error.js';
import { createPluginClient, PLUGIN, type PluginAnswer } from './plugin-client.js';

export interface ObsidianDeps {
  settings: () => ObsidianSettings;
  hub: Pick<Hub, 'record'>;
  clock: Clock;
  logger: Logger;
}

/** Who asked for an eval, for its event. */
export interface Caller {
  remoteAddress: string | null;
}

/** The plugin's answer as JSON when it is, else as text (null when empty). */
function answerValue(a: PluginAnswer): unknown {
  if (a.text === '') return null;
  if (/json/i.test(a.contentType)) {
    try {
      return JSON.parse(a.text) as unknown;
    } catch {
      return a.text;
    }
  }
  return a.text;
}

function pluginMessage(a: PluginAnswer): string {
  const v = answerValue(a);
  if (v && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string') return (v as { message: string }).message;
  return typeof v === 'string' ? v.slice(0, 300) : `status ${a.status}`;
}

export function createObsidian(deps: ObsidianDeps) {
  const plugin = createPluginClient(deps.settings);

  function assertEvalEnabled(): void {
    if (!deps.settings().evalEnabled) {
      throw new DomainError('forbidden', 'Obsidian eval is off: set obsidian.eval_enabled to true in the config file to allow it (it runs any JavaScript inside Obsidian)', 'code');
    }
  }

  return {
    /** The commands Obsidian offers: `{ id, name }`. */
    async commands(): Promise<{ id: string; name: string }[]> {
      const a = await plugin.request('GET', '/commands/');
      const v = answerValue(a) as { commands?: unknown } | null;
      if (a.status !== 200 || !v || !Array.isArray(v.commands)) throw new DomainError('bad_gateway', `${PLUGIN} answered the command list with ${a.status}: ${pluginMessage(a)}`);
      return v.commands
        .filter((c): c is { id: string; name: string } => !!c && typeof (c as { id?: unknown }).id === 'string')
        .map((c) => ({ id: c.id, name: typeof c.name === 'string' ? c.name : c.id }));
    },

    /** Runs a command by its id (`editor:save-file`); recorded once it ran. */
    async runCommand(id: string): Promise<{ id: string; ran: true }> {
      const a = await plugin.request('POST', `/commands/${encodeURIComponent(id)}/`);
      if (a.status === 404) throw new DomainError('not_found', `Obsidian has no command ${id}; GET /api/obsidian/commands lists them`, 'id');
      if (a.status >= 400) throw new DomainError('bad_gateway', `${PLUGIN} refused the command ${id} (${a.status}): ${pluginMessage(a)}`);
      await deps.hub.record({ events: [{ type: 'obsidian.command', at: deps.clock.now(), details: { id } }] });
      return { id, ran: true };
    },

    /** Refuses an eval the settings do not allow, before anything else is looked at. */
    assertEvalEnabled,

    /** Runs JavaScript in Obsidian: recorded (with its hash) before the plugin gets it. */
    async evaluate(code: string, caller: Caller): Promise<{ sha256: string; status: number; result: unknown }> {
      assertEvalEnabled();
      const route = deps.settings().evalRoute;
      if (!route) throw new DomainError('not_installed', `no route of ${PLUGIN} runs JavaScript: set obsidian.eval_route to the one a plugin adds (such as /eval/)`);
      const sha256 = createHash('sha256').update(code).digest('hex');
      await deps.hub.record({ events: [{ type: 'obsidian.eval', at: deps.clock.now(), details: { sha256, bytes: Buffer.byteLength(code), route, remote_address: caller.remoteAddress } }] });
      deps.logger.info({ sha256, route }, 'Obsidian eval');
      const a = await plugin.request('POST', route, { type: 'application/json', text: JSON.stringify({ code }) });
      if (a.status === 404) throw new DomainError('bad_gateway', `${PLUGIN} has no route ${route} (obsidian.eval_route): is the plugin that adds it installed and enabled?`);
      if (a.status >= 400) throw new DomainError('bad_gateway', `${PLUGIN} refused the eval (${a.status}): ${pluginMessage(a)}`);
      return { sha256, status: a.status, result: answerValue(a) };
    },
  };
}

export type Obsidian = ReturnType<typeof createObsidian>;
