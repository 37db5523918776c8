// The gate's decision table: every mode x focus x productive/grace/idle x listed/unlisted
// app, against a table written out by hand; the reasons people read; how apps match.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appMatcher, decide, normalizeApp } from '../src/machines/gate-decision.js';
import { DEFAULT_DISTRACTING_APPS, DEFAULT_MODES } from '../src/config/mode-gate.js';

const NOW = Date.UTC(2026, 10, 23, 14, 3, 0);
const GATES = {
  productive: { gate: 'productive', working: 2, graceUntil: null },
  grace: { gate: 'grace', working: 0, graceUntil: NOW + 85_000 },
  idle: { gate: 'idle', working: 0, graceUntil: null },
} as const;

// What a distracting app gets, by hand: [mode][focus][gate] -> allowed.
const LISTED: Record<string, Record<'off' | 'on', Record<keyof typeof GATES, boolean>>> = {
  work_silence: { off: { productive: true, grace: true, idle: false }, on: { productive: false, grace: false, idle: false } },
  work_music: { off: { productive: true, grace: true, idle: false }, on: { productive: false, grace: false, idle: false } },
  break: { off: { productive: true, grace: true, idle: true }, on: { productive: true, grace: true, idle: true } },
  off: { off: { productive: true, grace: true, idle: true }, on: { productive: true, grace: true, idle: true } },
};

describe('gate decision table', () => {
  const listed = appMatcher(DEFAULT_DISTRACTING_APPS);
  let rows = 0;
  for (const mode of Object.keys(LISTED)) {
    for (const focus of ['off', 'on'] as const) {
      for (const g of Object.keys(GATES) as (keyof typeof GATES)[]) {
        for (const app of ['youtube', 'com.google.android.youtube', 'calculator', 'com.android.settings']) {
          rows += 1;
          const isListed = listed(app) !== null;
          const want = isListed ? LISTED[mode]![focus][g] : true;
          it(`${mode}, focus ${focus}, ${g}, ${app}: ${want ? 'allowed' : 'blocked'}`, () => {
            const d = decide({ app, listed: listed(app), mode, policy: DEFAULT_MODES[mode]!, focus: focus === 'on', ...GATES[g], now: NOW });
            assert.equal(d.allowed, want, d.reason);
            assert.ok(d.reason.length > 10);
            if (isListed) assert.match(d.reason, /youtube/);
            else assert.equal(d.rule, 'unlisted');
          });
        }
      }
    }
  }
  it('covers 4 modes x 2 focus x 3 gate states x (2 listed + 2 unlisted) apps', () => assert.equal(rows, 96));

  it('says why, in sentences a person understands', () => {
    const base = { app: 'youtube', listed: 'youtube', focus: false, now: NOW } as const;
    assert.equal(decide({ ...base, mode: 'work_silence', policy: 'work', ...GATES.idle }).reason, 'no agent is working; work_silence blocks youtube');
    assert.equal(decide({ ...base, mode: 'work_music', policy: 'work', ...GATES.productive }).reason, '2 agents are working; work_music allows youtube');
    assert.equal(decide({ ...base, mode: 'work_music', policy: 'work', ...GATES.productive, working: 1 }).reason, '1 agent is working; work_music allows youtube');
    assert.equal(
      decide({ ...base, mode: 'work_silence', policy: 'work', ...GATES.grace }).reason,
      'no agent is working, but the grace period has 85 s left; work_silence allows youtube',
    );
    assert.equal(decide({ ...base, mode: 'work_silence', policy: 'work', focus: true, ...GATES.productive }).reason, 'focus is on; work_silence blocks youtube whatever the agents do');
    assert.equal(decide({ ...base, mode: 'break', policy: 'open', ...GATES.idle }).reason, 'break allows every app, youtube included');
    assert.equal(decide({ ...base, app: 'Calculator', listed: null, mode: 'work_silence', policy: 'work', ...GATES.idle }).reason, 'Calculator is not on the distracting list; always allowed');
  });

  it('a grace period whose deadline has come blocks even before its timer fires', () => {
    const d = decide({ app: 'youtube', listed: 'youtube', mode: 'work_silence', policy: 'work', focus: false, gate: 'grace', working: 0, graceUntil: NOW, now: NOW });
    assert.equal(d.allowed, false);
    assert.equal(d.rule, 'idle');
  });
});

describe('matching apps against the distracting list', () => {
  it('matches names and Android package names, case-insensitive, ignoring spaces and .exe', () => {
    const m = appMatcher([{ name: 'youtube', packages: ['com.google.android.youtube'] }, { name: 'Steam', packages: [] }]);
    for (const a of ['youtube', 'YouTube', ' YOUTUBE ', 'com.google.android.youtube', 'COM.Google.Android.YouTube']) assert.equal(m(a), 'youtube', a);
    assert.equal(m('steam.exe'), 'Steam');
    assert.equal(m('STEAM'), 'Steam');
    for (const a of ['you', 'youtube music', 'com.google.android.youtube.tv', 'google']) assert.equal(m(a), null, a);
  });

  it('normalises only case, surrounding space and a Windows .exe suffix', () => {
    assert.equal(normalizeApp('  Chrome.EXE '), 'chrome');
    assert.equal(normalizeApp('org.exe.app'), 'org.exe.app');
  });
});
