// Test harness for the dashboard: fake terminal streams blessed can draw on (a size, raw
// mode, key input), and a known state as real protocol messages (checked against the shared
// schemas), so rendering tests assert what is on each line.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { serverMessageSchema, type ServerMessage } from '../../src/protocol/feed.js';

export interface FakeTerminal {
  input: PassThrough & { isTTY: boolean; setRawMode(mode: boolean): void };
  output: PassThrough & { isTTY: boolean; columns: number; rows: number };
  /** Types keys as a terminal would send them. */
  type(keys: string): void;
  resize(columns: number, rows: number): void;
}

export function fakeTerminal(columns = 80, rows = 24): FakeTerminal {
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: (_mode: boolean) => undefined });
  const output = Object.assign(new PassThrough(), { isTTY: true, columns, rows });
  output.resume();
  return {
    input,
    output,
    type: (keys) => input.write(keys),
    resize(c, r) {
      output.columns = c;
      output.rows = r;
      output.emit('resize');
    },
  };
}

export const KEY = { up: '\x1b[A', down: '\x1b[B', enter: '\r', escape: '\x1b', pageDown: '\x1b[6~' };

/** A message as the server would send it, checked against the protocol. */
export function message(raw: Record<string, unknown>): ServerMessage {
  const r = serverMessageSchema.safeParse(raw);
  assert.ok(r.success, `not a protocol message: ${JSON.stringify(r.success ? null : r.error.issues.slice(0, 3))}`);
  return r.data;
}

const iso = (s: string) => `2026-11-23T${s}.000Z`;

export function instance(o: {
  id: string;
  name: string;
  device: string;
  profile: string;
  color: string;
  state: string;
  tool?: string | null;
  since: string;
  registered: string;
  stoppedAt?: string;
  stopReason?: string;
  tab?: string | null;
  pid?: number | null;
  dir?: string | null;
  project?: string | null;
}) {
  const stopped = o.state === 'stopped';
  return {
    id: o.id,
    session_id: `${o.id}-session`,
    agent_type: 'claude',
    display_name: o.name,
    tab_name: o.tab ?? null,
    state: o.state,
    status: stopped ? 'stopped' : 'active',
    origin: { type: o.device === 'desktop' ? 'local' : 'ssh', source_ip: o.device === 'desktop' ? null : '100.102.92.24', device_id: o.device },
    device_id: o.device,
    profile: { name: o.profile, tts_voice: 'en-us', notification_sound: 'chimes.wav', color: o.color },
    pid: o.pid ?? null,
    working_dir: o.dir ?? '/home/me/project',
    ...(o.project !== undefined ? { project: o.project } : {}),
    transcript_path: null,
    current_tool: o.tool ?? null,
    tool_count: 12,
    subagent_count: 0,
    registered_at: iso(o.registered),
    last_activity: iso(o.since),
    state_since: iso(o.since),
    stopped_at: o.stoppedAt ? iso(o.stoppedAt) : null,
    stop_reason: o.stopReason ?? null,
  };
}

export function event(type: string, at: string, instanceId: string | null, details: unknown, deviceId: string | null = 'desktop') {
  return { type, instance_id: instanceId, device_id: deviceId, details, created_at: iso(at) };
}

const totals = (total: number, cost: number) => ({ input_tokens: 0, output_tokens: total, cache_creation_tokens: 0, cache_read_tokens: 0, total_tokens: total, cost_usd: cost, records: 3 });

/** The state the rendering tests draw: four instances, a timed break with focus on, the gate in grace. */
export function knownSnapshot(seq = 1000): ServerMessage {
  return message({
    type: 'snapshot',
    seq,
    at: iso('12:00:00'),
    server: { service: 'token-api', version: '0.1.0', started_at: iso('09:00:00') },
    instances: [
      instance({ id: 'claude-a', name: 'Claude #1', device: 'desktop', profile: 'profile_1', color: '#0099ff', state: 'working', tool: 'Bash', since: '11:58:00', registered: '09:45:00', pid: 4242, dir: '/home/me/src/api/server', project: 'api' }),
      instance({ id: 'claude-b', name: 'Claude #2', device: 'pixel-phone', profile: 'profile_2', color: '#ff9900', state: 'awaiting', tool: null, since: '11:59:30', registered: '11:15:00', dir: '/home/me/src/blog', project: 'blog' }),
      // An older server sends no project: the directory's last part stands in.
      instance({ id: 'claude-c', name: 'build-tab', device: 'desktop', profile: 'profile_3', color: '#33cc66', state: 'idle', since: '11:50:00', registered: '11:00:00', tab: 'build-tab', dir: '/home/me/src/shop' }),
      instance({ id: 'claude-d', name: 'Claude #3', device: 'desktop', profile: 'profile_4', color: '#cc66ff', state: 'stopped', since: '11:55:00', registered: '11:45:00', stoppedAt: '11:55:00', stopReason: 'deregistered', dir: '/home/me/src/api', project: 'api' }),
    ],
    mode: { mode: 'break', policy: 'open', focus: true, since: iso('11:47:30'), set_by: 'request', deadline: iso('12:12:30'), remaining_s: 750, return_to: 'work_silence', modes: ['work_silence', 'work_music', 'break', 'off'] },
    gate: { productive: false, working: 0, working_instances: [], state: 'grace', grace_until: iso('12:01:30'), since: iso('11:59:30'), grace_minutes: 2 },
    events: [
      event('hook.permission_request', '11:59:30', 'claude-b', { from: 'working', to: 'awaiting', payload: { tool_name: 'Write' } }, 'pixel-phone'),
      event('hook.pre_tool_use', '11:59:00', 'claude-a', { from: 'idle', to: 'working', payload: { tool_name: 'Bash' } }),
      event('gate.check', '11:58:00', null, { app: 'slack', allowed: true, reason: 'slack is not a distracting app' }),
      event('gate.check', '11:57:00', null, { app: 'youtube', allowed: false, reason: 'focus is on' }),
      event('instance.stopped', '11:55:00', 'claude-d', { name: 'Claude #3', reason: 'deregistered', from: 'idle' }),
      event('instance.registered', '11:45:32', 'claude-b', { name: 'Claude #2', project: 'blog', origin: { type: 'ssh', source_ip: '100.102.92.24', device_id: 'pixel-phone' }, revived: false }, 'pixel-phone'),
      event('mode.changed', '11:30:15', null, { from: 'work_music', to: 'work_silence', by: 'request', deadline: null }),
    ],
    usage: {
      instances: { 'claude-a': totals(1_234_567, 2.5), 'claude-b': totals(350_000, 0.5) },
      today: { day: '2026-11-23', timezone: 'UTC', devices: { desktop: { ...totals(1_500_000, 3.1), day: '2026-11-23' }, 'pixel-phone': { ...totals(350_000, 0.5), day: '2026-11-23' } } },
    },
  });
}

export const NOON = Date.UTC(2026, 10, 23, 12, 0, 0);
