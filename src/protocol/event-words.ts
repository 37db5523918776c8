// Events in words, for the clients' event lists ("Claude #2 (api) started on pixel-phone"):
// every type the server writes has its words, and one it does not know yet is put in words from
// its name, never shown raw. Routine events (each tool call, allowed gate checks, subagents) are
// marked routine: the dashboard and the web page hide them unless asked to show all. Pure.
import type { FeedEvent } from './feed.js';

export interface Described {
  text: string;
  routine: boolean;
  /** Something that wants the person (a permission prompt, a failure, a blocked app). */
  alert: boolean;
}

type Details = Record<string, unknown>;

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

function detailsOf(e: FeedEvent): Details {
  return e.details && typeof e.details === 'object' && !Array.isArray(e.details) ? (e.details as Details) : {};
}

function payloadOf(d: Details): Details {
  return d.payload && typeof d.payload === 'object' ? (d.payload as Details) : {};
}

const ROUTINE = new Set([
  'hook.pre_tool_use',
  'hook.post_tool_use',
  'hook.subagent_start',
  'hook.subagent_stop',
  'hook.user_prompt_submit',
  'hook.pre_compact',
  'instance.heartbeat',
  'usage.synced',
  'usage.received',
  'notification.routed',
  'notification.requested',
  'notification.coalesced',
  'notification.delivered',
  'notification.retried',
  'notification.superseded',
  'notification.answered',
  'codex.tool_call',
  'codex.tool_output',
  'codex.user_message',
  'codex.task_started',
  'codex.session_meta',
  'state.changed',
  'session.created',
  'session.turn_finished',
  'session.oneshot_sent',
]);

/** "codex.turn_aborted" -> "Codex turn aborted": a type no case below knows, in words. */
export function typeInWords(type: string): string {
  const words = type.replace(/[._]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * `nameOf` gives an instance's display name (from what the dashboard knows), or null.
 */
export function describeEvent(e: FeedEvent, nameOf: (id: string) => string | null): Described {
  const d = detailsOf(e);
  const p = payloadOf(d);
  const who = (e.instance_id ? nameOf(e.instance_id) : null) ?? str(d.name) ?? e.instance_id ?? 'an agent';
  const said = (text: string, alert = false): Described => ({ text, routine: ROUTINE.has(e.type), alert });
  switch (e.type) {
    case 'instance.registered':
    case 'instance.revived': {
      const origin = d.origin && typeof d.origin === 'object' ? (d.origin as Details) : {};
      const device = str(origin.device_id) ?? e.device_id ?? 'an unknown device';
      const name = str(d.name) ?? who;
      const project = str(d.project);
      const label = project && project !== name ? `${name} (${project})` : name;
      if (e.type === 'instance.registered') return said(`${label} ${d.revived ? 'came back on' : 'started on'} ${device}`);
      return said(`${label} came back on ${device}${str(d.from) ? ` (it had stopped: ${(d.from as string).replace(/_/g, ' ')})` : ''}`);
    }
    case 'instance.stopped':
      return said(`${str(d.name) ?? who} stopped${str(d.reason) ? ` (${(d.reason as string).replace(/_/g, ' ')})` : ''}`);
    case 'instance.retired':
      return said(`${who} retired at start-up`, true);
    case 'instance.rebuilt':
      return said(`${who} rebuilt at start-up`);
    case 'hook.session_start':
      return said(`${who} started a session${str(p.source) && p.source !== 'startup' ? ` (${p.source as string})` : ''}`);
    case 'hook.session_end':
      return said(`${who} ended its session`);
    case 'hook.user_prompt_submit':
      return said(`${who} got a prompt`);
    case 'hook.pre_tool_use':
      return said(`${who} runs ${str(p.tool_name) ?? 'a tool'}`);
    case 'hook.post_tool_use':
      return said(`${who} ran ${str(p.tool_name) ?? 'a tool'}`);
    case 'hook.post_tool_use_failure':
      return said(`${who}: ${str(p.tool_name) ?? 'a tool'} failed`);
    case 'hook.permission_request':
      return said(`${who} needs permission${str(p.tool_name) ? ` for ${p.tool_name as string}` : ''}`, true);
    case 'hook.notification': {
      const kind = str(p.notification_type);
      if (kind === 'permission_prompt') return said(`${who} needs permission`, true);
      if (kind === 'idle_prompt') return said(`${who} is waiting for input`, true);
      return said(`${who}: ${str(p.message) ?? (kind ? kind.replace(/_/g, ' ') : 'a notification')}`);
    }
    case 'hook.stop':
      return said(`${who} finished`);
    case 'hook.stop_failure':
      return said(`${who} failed`, true);
    case 'hook.subagent_start':
      return said(`${who} started a subagent`);
    case 'hook.subagent_stop':
      return said(`${who}: a subagent finished`);
    case 'hook.pre_compact':
      return said(`${who} is compacting its context`);
    case 'codex.notify':
      return said(`${who}: Codex says its turn ended`);
    case 'codex.task_complete':
      return said(`${who} finished`);
    case 'codex.turn_aborted':
      return said(`${who}: the turn was aborted`);
    case 'codex.error':
      return said(`${who}: Codex reported an error`, true);
    case 'codex.idle':
      return said(`${who} went quiet`);
    case 'codex.session_resumed':
      return said(`${who} resumed a session`);
    case 'mode.changed':
      return said(`Mode changed: ${str(d.from) ?? '?'} → ${str(d.to) ?? '?'}${str(d.deadline) ? ' (timed)' : ''}${d.by === 'timer' ? ' (timer ended)' : ''}`);
    case 'focus.changed':
      return said(`Focus ${d.focus ? 'on' : 'off'}`);
    case 'state.changed':
      return said(`State: ${Object.entries(d).map(([k, v]) => `${k} ${String(v)}`).join(', ') || 'changed'}`);
    case 'gate.changed':
      return said(`Productivity: ${str(d.from) ?? '?'} → ${str(d.to) ?? '?'}`);
    case 'gate.check':
      return { text: `${str(d.app) ?? 'an app'} ${d.allowed ? 'allowed' : 'blocked'}${str(d.reason) ? `: ${d.reason as string}` : ''}`, routine: d.allowed === true, alert: d.allowed === false };
    case 'notification.routed': {
      const channels = Array.isArray(d.channels) ? (d.channels as unknown[]).filter((c): c is string => typeof c === 'string') : [];
      return said(`${who}: ${str(d.intent)?.replace(/_/g, ' ') ?? 'notification'} → ${e.device_id ?? 'no device'}${channels.length ? ` (${channels.join(', ')})` : ' (muted)'}`);
    }
    case 'notification.coalesced':
      return said(`${typeof d.count === 'number' ? d.count : 'Several'} notifications folded into one${str(d.title) ? `: ${d.title as string}` : ''}`);
    case 'notification.requested':
      return said(`Notification asked for${Array.isArray(d.channels) ? ` (${(d.channels as unknown[]).join(', ')})` : ''}`);
    case 'notification.retried':
      return said(`Notification sent again${Array.isArray(d.channels) ? ` (${(d.channels as unknown[]).join(', ')})` : ''}`);
    case 'notification.delivered':
      return said(`Notification delivered by ${str(d.channel) ?? 'a channel'}`);
    case 'notification.failed':
      return said(`Notification failed on ${str(d.channel) ?? 'a channel'}${str(d.error) ? `: ${d.error as string}` : ''}`, true);
    case 'notification.expired':
      return said(`Notification expired on ${str(d.channel) ?? 'a channel'}`);
    case 'notification.superseded':
      return said(`Notification dropped on ${str(d.channel) ?? 'a channel'}: answered before it went out`);
    case 'notification.answered':
      return said(`${who} answered: the phone was told`);
    case 'device.registered':
    case 'device.updated':
      return said(`Device ${str(d.id) ?? e.device_id ?? ''} ${e.type === 'device.registered' ? 'added' : 'changed'}${Array.isArray(d.changed) && d.changed.length ? ` (${(d.changed as unknown[]).join(', ')})` : ''}`);
    case 'usage.synced':
      return said(`Usage read: ${typeof d.records === 'number' ? `${d.records} new record(s)` : 'transcripts read'}`);
    case 'usage.received':
      return said(`Usage received from ${e.device_id ?? 'another machine'}${typeof d.inserted === 'number' ? `: ${d.inserted} new record(s)` : ''}`);
    case 'cron.job_created':
    case 'cron.job_updated':
    case 'cron.job_deleted':
      return said(`Job ${str(d.name) ?? str(d.id) ?? ''} ${{ 'cron.job_created': 'created', 'cron.job_updated': 'changed', 'cron.job_deleted': 'deleted' }[e.type]}`);
    case 'cron.executed': {
      const ok = d.status === 'succeeded';
      const how = ok ? 'ran' : `${String(d.status).replace(/_/g, ' ')}${str(d.error) ? `: ${str(d.error)}` : ''}`;
      return said(`Job ${str(d.name) ?? str(d.job_id) ?? ''} ${how}`, !ok);
    }
    case 'cron.skipped':
      return said(`Job ${str(d.name) ?? str(d.job_id) ?? ''} skipped: its previous run was still running`);
    case 'config.changed': {
      const changed = Array.isArray(d.changed) ? d.changed.length : 0;
      const later = Array.isArray(d.restart_required) ? d.restart_required.length : 0;
      return said(`Configuration changed: ${changed} setting${changed === 1 ? '' : 's'}${later ? `, ${later} taking effect at the next start` : ''}`);
    }
    case 'obsidian.command':
      return said(`Obsidian ran ${str(d.id) ?? 'a command'}`);
    case 'obsidian.eval':
      return said(`JavaScript sent to Obsidian (${typeof d.bytes === 'number' ? `${d.bytes} bytes` : 'code'} from ${str(d.remote_address) ?? 'an unknown address'})`, true);
    case 'actor.error':
      return said(`${who} failed and was retired: ${str(d.message) ?? 'see the server log'}`, true);
    case 'actor.reset':
      return said(`${str(d.actor) ?? 'An actor'} started afresh: ${str(d.reason) ?? 'its snapshot could not be used'}`, true);
    case 'session.started':
      return said(`Session ${str(d.session) ?? ''} started in ${str(d.repo) ?? 'a repository'} (${str(d.agent) ?? 'claude'}, ${str(d.kind) ?? 'headless'}) by ${str(d.by) ?? 'a request'}`);
    case 'session.prompt_sent':
      return said(`Prompt sent to session ${str(d.session) ?? ''} by ${str(d.by) ?? 'a request'}`);
    case 'session.cancel_sent':
      return said(`Session ${str(d.session) ?? ''} cancelled by ${str(d.by) ?? 'a request'}`);
    case 'session.stop_sent':
      return said(`Session ${str(d.session) ?? ''} stopped by ${str(d.by) ?? 'a request'}`);
    case 'session.exited':
      return said(`Session ${str(d.session) ?? ''} exited (${str(d.reason) ?? 'ended'}${typeof d.code === 'number' ? `, code ${d.code}` : ''})`, d.reason === 'crashed');
    case 'account.limited':
      return said(`Account ${str(d.account) ?? ''} rate-limited until ${str(d.until) ?? 'later'}`, true);
    case 'account.limit_reset':
      return said(`Account ${str(d.account) ?? ''}: rate limit cleared by ${str(d.by) ?? 'a request'}`);
    default: {
      const tail = e.instance_id ? `: ${who}` : e.device_id ? ` (${e.device_id})` : '';
      return { text: `${typeInWords(e.type)}${tail}`, routine: ROUTINE.has(e.type) || e.type.startsWith('codex.') || e.type.startsWith('usage.'), alert: false };
    }
  }
}
