// The mode and gate configuration keys: defaults, what is refused (with the key named), and
// networks as the access policy sees them.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { networkMatcher } from '../src/lib/net.js';
import { tempHome } from './support/system.js';

function load(file: unknown) {
  const h = tempHome();
  writeFileSync(join(h.dir, 'config.json'), JSON.stringify(file));
  try {
    return loadConfig({ home: h.dir }, {});
  } finally {
    h.cleanup();
  }
}

describe('mode and gate configuration', () => {
  it('has documented defaults', () => {
    const c = load({});
    assert.deepEqual(c.modes, { work_silence: 'work', work_music: 'work', break: 'open', off: 'open' });
    assert.equal(c.defaultMode, 'work_silence');
    assert.deepEqual(c.stateVariables, {});
    assert.equal(c.gateGraceMs, 120_000);
    assert.ok(c.distractingApps.some((a) => a.name === 'youtube' && a.packages.includes('com.google.android.youtube')));
    assert.deepEqual(c.gateCheckNetworks, ['127.0.0.0/8', '::1/128', '100.64.0.0/10']);
    assert.equal(c.tokenFile, join(c.home, 'token'));
  });

  it('takes its keys from the file', () => {
    const c = load({
      modes: { deep: 'work', pause: 'open' },
      gate_grace_minutes: 0.5,
      distracting_apps: ['Steam', { name: 'youtube', packages: ['com.google.android.youtube'] }],
      gate_check_networks: ['192.168.1.0/24', '10.0.0.7'],
      state_variables: { volume: { type: 'number', default: 2, min: 0, max: 10 } },
    });
    assert.equal(c.defaultMode, 'deep', 'the first mode when no default is named');
    assert.equal(c.gateGraceMs, 30_000);
    assert.deepEqual(c.distractingApps, [{ name: 'Steam', packages: [] }, { name: 'youtube', packages: ['com.google.android.youtube'] }]);
  });

  it('refuses bad values, naming the key', () => {
    const cases: [unknown, RegExp][] = [
      [{ default_mode: 'nap' }, /default_mode: "nap" is not one of the modes/],
      [{ modes: {} }, /modes/],
      [{ modes: { 'Work Mode': 'work' } }, /modes/],
      [{ modes: { deep: 'strict' } }, /modes\.deep/],
      [{ gate_grace_minutes: -1 }, /gate_grace_minutes/],
      [{ gate_check_networks: ['100.64.0.0/33'] }, /gate_check_networks\.0/],
      [{ gate_check_networks: ['tailscale'] }, /gate_check_networks\.0/],
      [{ state_variables: { focus: { type: 'boolean', default: true } } }, /state_variables\.focus/],
      [{ state_variables: { volume: { type: 'number', default: 11, max: 10 } } }, /state_variables\.volume\.default: above max 10/],
      [{ state_variables: { music: { type: 'string', default: 'rock', values: ['jazz'] } } }, /state_variables\.music\.default: not one of its values/],
      [{ state_variables: { lamp: { type: 'colour', default: 'red' } } }, /state_variables\.lamp/],
      [{ distracting_apps: [''] }, /distracting_apps\.0/],
    ];
    for (const [file, message] of cases) {
      assert.throws(() => load(file), (e: Error) => e instanceof ConfigError && message.test(e.message), JSON.stringify(file));
    }
  });

  it('matches addresses against networks, IPv4-mapped IPv6 included', () => {
    const m = networkMatcher(['127.0.0.0/8', '::1/128', '100.64.0.0/10', '192.168.1.20', 'fd00::/8']);
    for (const a of ['127.0.0.1', '127.9.9.9', '::1', '100.64.0.1', '100.127.255.255', '::ffff:100.102.92.24', '192.168.1.20', 'fd00::2']) assert.equal(m(a), true, a);
    for (const a of ['100.63.255.255', '100.128.0.0', '192.168.1.21', '10.0.0.1', 'fe80::1', '', 'not-an-ip', undefined]) assert.equal(m(a), false, String(a));
  });
});
