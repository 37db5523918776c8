// An agent's timeline from its events: prompts, tools (a PreToolUse joined to its
// PostToolUse, by tool_use_id or else the next one of the same tool, with the time between),
// notifications, permission requests and stops, oldest first. Pure: views render the items.
import type { FeedEvent } from '../shared.js';

export interface TimelineItem {
  key: string;
  at: string;
  kind: 'prompt' | 'tool' | 'notification' | 'permission' | 'stop' | 'failure' | 'session' | 'other';
  text: string;
  /** A tool's time from its start to its end (ms); null while it runs or when unknown. */
  durationMs: number | null;
  failed: boolean;
}

type Details = Record<string, unknown>;
const obj = (v: unknown): Details => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Details) : {});
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

function toolInput(p: Details): string {
  const input = obj(p.tool_input);
  const first = str(input.command) ?? str(input.file_path) ?? str(input.pattern) ?? str(input.url) ?? str(input.description) ?? str(input.prompt);
  return first ? `: ${first.length > 80 ? `${first.slice(0, 79)}…` : first}` : '';
}

const SESSION_WORDS: Record<string, string> = {
  'hook.session_start': 'Session started',
  'instance.registered': 'Registered with token-api',
  'instance.revived': 'Came back',
  'instance.stopped': 'Stopped',
  'hook.session_end': 'Session ended',
};

export function timeline(events: readonly (FeedEvent & { key: string | number })[]): TimelineItem[] {
  // A stable sort: events of the same millisecond stay in the order they were given (oldest first).
  const ordered = [...events].sort((a, b) => a.created_at.localeCompare(b.created_at));
  const items: TimelineItem[] = [];
  const open: { item: TimelineItem; id: string | null; tool: string }[] = [];
  for (const e of ordered) {
    const p = obj(obj(e.details).payload);
    const at = e.created_at;
    const key = String(e.key);
    const tool = str(p.tool_name) ?? 'a tool';
    switch (e.type) {
      case 'hook.user_prompt_submit': {
        const prompt = str(p.prompt);
        items.push({ key, at, kind: 'prompt', text: prompt ? `Prompt: ${prompt.length > 120 ? `${prompt.slice(0, 119)}…` : prompt}` : 'Prompt', durationMs: null, failed: false });
        break;
      }
      case 'hook.pre_tool_use': {
        const item: TimelineItem = { key, at, kind: 'tool', text: `${tool}${toolInput(p)}`, durationMs: null, failed: false };
        items.push(item);
        open.push({ item, id: str(p.tool_use_id), tool });
        break;
      }
      case 'hook.post_tool_use':
      case 'hook.post_tool_use_failure': {
        const id = str(p.tool_use_id);
        const i = open.findIndex((o) => (id && o.id ? o.id === id : o.tool === tool));
        if (i >= 0) {
          const item = open.splice(i, 1)[0]!.item;
          item.durationMs = Date.parse(at) - Date.parse(item.at);
          item.failed = e.type === 'hook.post_tool_use_failure';
        } else {
          items.push({ key, at, kind: 'tool', text: tool, durationMs: null, failed: e.type === 'hook.post_tool_use_failure' });
        }
        break;
      }
      case 'hook.permission_request':
        items.push({ key, at, kind: 'permission', text: `Asked permission for ${tool}${toolInput(p)}`, durationMs: null, failed: false });
        break;
      case 'hook.notification':
        items.push({ key, at, kind: 'notification', text: `Notification: ${str(p.message) ?? str(p.notification_type)?.replace(/_/g, ' ') ?? 'a notification'}`, durationMs: null, failed: false });
        break;
      case 'notification.routed': {
        const d = obj(e.details);
        items.push({ key, at, kind: 'notification', text: `Told ${e.device_id ?? 'nobody'}: ${str(d.intent)?.replace(/_/g, ' ') ?? 'a notification'}`, durationMs: null, failed: false });
        break;
      }
      case 'hook.stop':
      case 'codex.task_complete':
        items.push({ key, at, kind: 'stop', text: 'Finished its turn', durationMs: null, failed: false });
        break;
      case 'hook.stop_failure':
        items.push({ key, at, kind: 'failure', text: 'Its turn failed', durationMs: null, failed: true });
        break;
      case 'hook.session_start':
      case 'instance.registered':
      case 'instance.revived':
      case 'instance.stopped':
      case 'hook.session_end':
        items.push({ key, at, kind: 'session', text: SESSION_WORDS[e.type]!, durationMs: null, failed: false });
        break;
      default:
        break;
    }
  }
  return items;
}
