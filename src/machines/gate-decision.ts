// What the gate answers "may I open this app now?": a pure function of the app, the mode and
// focus flag, and the gate's state, with a reason a person understands. Precedence: an app
// not on the distracting list is always allowed; an `open` mode (break, off) allows
// everything; in a `work` mode focus blocks, else the app is allowed while an agent works
// or the grace period runs, and blocked when no agent is working.
import type { GateStateValue } from './gate-context.js';
import type { ModePolicy } from './mode-context.js';

/** An entry of the distracting list: its name and the Android packages that are the same app. */
export interface DistractingApp {
  name: string;
  packages: string[];
}

export type GateRule = 'unlisted' | 'open_mode' | 'focus' | 'productive' | 'grace' | 'idle';

export interface GateQuestion {
  /** The app as asked (echoed in the reason when it is not on the list). */
  app: string;
  /** The list entry the app matched (its name), or null when it is not distracting. */
  listed: string | null;
  mode: string;
  policy: ModePolicy;
  focus: boolean;
  gate: GateStateValue;
  working: number;
  graceUntil: number | null;
  now: number;
}

export interface GateDecision {
  allowed: boolean;
  rule: GateRule;
  reason: string;
}

/** Case-insensitive, surrounding space ignored, and a Windows ".exe" suffix dropped. */
export function normalizeApp(app: string): string {
  const a = app.trim().toLowerCase();
  return a.endsWith('.exe') ? a.slice(0, -4) : a;
}

/** Looks an app name or Android package name up in the distracting list; answers the entry's name. */
export function appMatcher(apps: readonly DistractingApp[]): (app: string) => string | null {
  const byKey = new Map<string, string>();
  for (const a of apps) {
    for (const key of [a.name, ...a.packages]) {
      const k = normalizeApp(key);
      if (!byKey.has(k)) byKey.set(k, a.name);
    }
  }
  return (app) => byKey.get(normalizeApp(app)) ?? null;
}

function agents(n: number): string {
  return n === 1 ? '1 agent is working' : `${n} agents are working`;
}

export function decide(q: GateQuestion): GateDecision {
  if (q.listed === null) return { allowed: true, rule: 'unlisted', reason: `${q.app} is not on the distracting list; always allowed` };
  const app = q.listed;
  if (q.policy === 'open') return { allowed: true, rule: 'open_mode', reason: `${q.mode} allows every app, ${app} included` };
  if (q.focus) return { allowed: false, rule: 'focus', reason: `focus is on; ${q.mode} blocks ${app} whatever the agents do` };
  if (q.gate === 'productive' && q.working > 0) return { allowed: true, rule: 'productive', reason: `${agents(q.working)}; ${q.mode} allows ${app}` };
  if (q.gate === 'grace' && q.graceUntil !== null && q.now < q.graceUntil) {
    const left = Math.max(1, Math.ceil((q.graceUntil - q.now) / 1000));
    return { allowed: true, rule: 'grace', reason: `no agent is working, but the grace period has ${left} s left; ${q.mode} allows ${app}` };
  }
  return { allowed: false, rule: 'idle', reason: `no agent is working; ${q.mode} blocks ${app}` };
}
