// A short working day against a running test server that makes it write most kinds of event
// row: every hook of a session (a subagent's too), a revival, a timed mode, focus, a gate
// check, a device added and changed, a notification, a scheduled job, a configuration change; given a phone (a local webhook receiver)
// and the server's fake clock, also the urgent notices' follow-ups (superseded, answered).
// Used to check that each type is in words (the dashboard) and documented.
import type { FakeClock } from './clock.js';
import type { Phone } from './phone.js';
import { hookPayload, type TestServer } from './system.js';

/** The phone the server may push to, and its clock; the server runs with `notifications.webhook.answered_update`. */
export interface ScenarioPhone {
  phone: Phone;
  clock: FakeClock;
}

const PHONE_IP = '100.64.0.7';

export async function everyKindOfEvent(s: TestServer, withPhone?: ScenarioPhone): Promise<{ type: string; instance_id: string | null; device_id: string | null; details: unknown; created_at: string }[]> {
  const sub = { agent_id: 'sub-1', agent_type: 'general-purpose' };
  const steps: [string, Record<string, unknown>][] = [
    ['SessionStart', { source: 'startup' }],
    ['UserPromptSubmit', {}],
    ['PreToolUse', { tool_name: 'Bash', tool_input: { command: 'npm test' } }],
    ['PermissionRequest', { tool_name: 'Bash' }],
    ['PostToolUse', { tool_name: 'Bash' }],
    ['PostToolUseFailure', { tool_name: 'Bash' }],
    ['SubagentStart', {}],
    ['SubagentStop', {}],
    ['SubagentStart', sub],
    ['PreToolUse', { tool_name: 'Grep', ...sub }],
    ['PostToolUse', { tool_name: 'Grep', ...sub }],
    ['SubagentStop', sub],
    ['Notification', { notification_type: 'idle_prompt', message: 'waiting' }],
    ['PreCompact', {}],
    ['Stop', {}],
    ['StopFailure', { error: 'rate limited' }],
    ['SessionEnd', { reason: 'exit' }],
    // Activity of the ended session brings its instance back.
    ['UserPromptSubmit', {}],
    ['SessionEnd', { reason: 'exit' }],
  ];
  for (const [name, extra] of steps) await s.hook(hookPayload('every-kind', name, extra));
  await s.request('POST', '/api/mode', { mode: 'break', minutes: 5 });
  await s.request('POST', '/api/state', { focus: true });
  await s.request('GET', '/api/check?app=youtube');
  await s.request('POST', '/api/devices/register', { id: 'laptop', type: 'laptop' });
  await s.request('PATCH', '/api/devices/laptop', { name: 'ThinkPad' });
  await s.request('POST', '/api/notify', { message: 'hello' });
  // A scheduled job's life: created, run by hand, changed, deleted.
  await s.request('POST', '/api/cron/jobs', { id: 'scenario', name: 'Scenario', schedule: '@daily', action: { type: 'notify', message: 'from a job' } });
  await s.request('POST', '/api/cron/jobs/scenario/execute', { wait: true });
  await s.request('PUT', '/api/cron/jobs/scenario', { enabled: false });
  await s.request('DELETE', '/api/cron/jobs/scenario');
  await s.request('PUT', '/api/config', { set: { metrics: { max_keys: 500 } } });
  const settled = () => s.system.settle();
  await settled();
  if (withPhone) {
    const { phone, clock } = withPhone;
    await s.request('POST', '/api/devices/register', { id: 'pixel-phone', type: 'mobile', tailscale_ip: PHONE_IP, notification_method: 'webhook', webhook_url: phone.url });
    const fromPhone = (session: string, name: string, extra: Record<string, unknown> = {}) => s.hook(hookPayload(session, name, { x_token_api_ssh_client: `${PHONE_IP} 50000 22`, ...extra }));
    const sent = phone.received.length;
    // A permission request pushed, then answered: a short "answered" follows.
    await fromPhone('phone-a', 'UserPromptSubmit');
    await fromPhone('phone-a', 'PermissionRequest', { tool_name: 'Bash' });
    await settled();
    await phone.waitFor(sent + 1);
    await fromPhone('phone-a', 'PostToolUse', { tool_name: 'Bash' });
    await settled();
    await phone.waitFor(sent + 2);
    // One the phone refused, answered before it was tried again: dropped as superseded.
    phone.status = 503;
    await fromPhone('phone-b', 'UserPromptSubmit');
    await fromPhone('phone-b', 'PermissionRequest', { tool_name: 'Bash' });
    await settled();
    await phone.waitFor(sent + 3);
    await fromPhone('phone-b', 'PostToolUse', { tool_name: 'Bash' });
    phone.status = 200;
    clock.advance(60_000);
    await settled();
  }
  await s.system.settle();
  return (await s.request('GET', '/api/events?limit=500')).body.events;
}
