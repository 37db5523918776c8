// A short working day against a running test server that makes it write most kinds of event
// row: every hook of a session, a timed mode, focus, a gate check, a device added and changed,
// a notification. Used to check that each type is in words (the dashboard) and documented.
import { hookPayload, type TestServer } from './system.js';

export async function everyKindOfEvent(s: TestServer): Promise<{ type: string; instance_id: string | null; device_id: string | null; details: unknown; created_at: string }[]> {
  const steps: [string, Record<string, unknown>][] = [
    ['SessionStart', { source: 'startup' }],
    ['UserPromptSubmit', {}],
    ['PreToolUse', { tool_name: 'Bash', tool_input: { command: 'npm test' } }],
    ['PermissionRequest', { tool_name: 'Bash' }],
    ['PostToolUse', { tool_name: 'Bash' }],
    ['PostToolUseFailure', { tool_name: 'Bash' }],
    ['SubagentStart', {}],
    ['SubagentStop', {}],
    ['Notification', { notification_type: 'idle_prompt', message: 'waiting' }],
    ['PreCompact', {}],
    ['Stop', {}],
    ['StopFailure', { error: 'rate limited' }],
    ['SessionEnd', { reason: 'exit' }],
  ];
  for (const [name, extra] of steps) await s.hook(hookPayload('every-kind', name, extra));
  await s.request('POST', '/api/mode', { mode: 'break', minutes: 5 });
  await s.request('POST', '/api/state', { focus: true });
  await s.request('GET', '/api/check?app=youtube');
  await s.request('POST', '/api/devices/register', { id: 'laptop', type: 'laptop' });
  await s.request('PATCH', '/api/devices/laptop', { name: 'ThinkPad' });
  await s.request('POST', '/api/notify', { message: 'hello' });
  await s.system.deps.notifications.settled();
  await s.system.deps.hub.flush();
  return (await s.request('GET', '/api/events?limit=500')).body.events;
}
