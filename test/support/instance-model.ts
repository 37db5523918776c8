// An independent model of what one session's hook events do to its instance, written from
// the documented behaviour (src/machines/instance.ts), for checking a committed event log
// against the state token-api restored. It tracks what the API shows: state, current tool,
// tool and subagent counts, and the events and notify intents the transitions produce.
export type ModelState = 'none' | 'idle' | 'working' | 'awaiting' | 'stopped';

export interface ModelEvent {
  name: string;
  tool?: string;
  notificationType?: string;
}

export interface ModelInstance {
  state: ModelState;
  currentTool: string | null;
  toolCount: number;
  subagentCount: number;
  /** instance.registered (first sight) and instance.revived events. */
  registrations: number;
  /** instance.stopped events. */
  stops: number;
  /** notify intents emitted (finished, failed, needs_permission, needs_input). */
  intents: number;
}

export interface ModelStep {
  outcome: 'applied' | 'recorded';
  registered: boolean;
  from: string | null;
  to: string | null;
}

const QUESTION_TOOLS = new Set(['AskUserQuestion']);

export function newModelInstance(): ModelInstance {
  return { state: 'none', currentTool: null, toolCount: 0, subagentCount: 0, registrations: 0, stops: 0, intents: 0 };
}

/** Applies one hook event; returns what the hook's answer (and its event row) must say. */
export function applyModel(m: ModelInstance, e: ModelEvent): ModelStep {
  let registered = false;
  if (m.state === 'none') {
    // Unknown session: a fresh instance.
    Object.assign(m, { state: 'idle', currentTool: null, toolCount: 0, subagentCount: 0 });
    m.registrations += 1;
    registered = true;
  } else if (m.state === 'stopped' && e.name !== 'SessionEnd') {
    // Any activity of a stopped session revives its instance, idle, with its tool count.
    Object.assign(m, { state: 'idle', currentTool: null, subagentCount: 0 });
    m.registrations += 1;
    registered = true;
  } else if (m.state === 'stopped') {
    return { outcome: 'recorded', registered: false, from: null, to: null };
  }
  const from = m.state;
  const enter = (s: ModelState) => {
    if (s === 'awaiting' && m.state !== 'awaiting') m.intents += 1;
    m.state = s;
  };
  switch (e.name) {
    case 'SubagentStart':
      m.subagentCount += 1;
      break;
    case 'SubagentStop':
      m.subagentCount = Math.max(0, m.subagentCount - 1);
      break;
    case 'SessionEnd':
      m.currentTool = null;
      m.subagentCount = 0;
      m.stops += 1;
      m.state = 'stopped';
      break;
    case 'SessionStart':
      m.currentTool = null;
      m.subagentCount = 0;
      m.state = 'idle';
      break;
    case 'UserPromptSubmit':
      m.currentTool = null;
      m.state = 'working';
      break;
    case 'PreToolUse':
      m.currentTool = e.tool ?? 'unknown';
      if (QUESTION_TOOLS.has(m.currentTool)) enter('awaiting');
      else m.state = 'working';
      break;
    case 'PostToolUse':
      m.toolCount += 1;
      m.currentTool = null;
      m.state = 'working';
      break;
    case 'PermissionRequest':
      enter('awaiting');
      break;
    case 'Notification':
      if (e.notificationType === 'permission_prompt') enter('awaiting');
      break;
    case 'Stop':
      m.currentTool = null;
      m.intents += 1;
      m.state = 'idle';
      break;
    default:
      throw new Error(`the model does not know ${e.name}`);
  }
  return { outcome: 'applied', registered, from, to: m.state };
}
