// The `notifications` block of the config file: documented defaults, overrides, and a clear
// error naming a bad key.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { tempHome } from './support/system.js';

describe('notifications config', () => {
  const home = tempHome();
  after(() => home.cleanup());
  const load = (file: unknown) => {
    writeFileSync(join(home.dir, 'config.json'), JSON.stringify(file));
    return loadConfig({ home: home.dir }, {});
  };

  it('has the documented defaults', () => {
    const n = load({}).notifications;
    assert.equal(n.coalesceMs, 3000);
    assert.equal(n.localExpiryMs, 60_000);
    assert.equal(n.messageMaxChars, 160);
    assert.equal(n.fallbackDevice, 'desktop');
    assert.deepEqual(n.modeChannels, { work_music: ['speech', 'sound'], work_silence: ['sound'], break: ['speech', 'sound'], off: [] });
    assert.equal(n.focusMutesSpeech, true);
    assert.deepEqual(n.speech, { engine: 'auto', powershell: null, maxChars: 300 });
    assert.deepEqual(n.sound, { player: 'auto', command: null, directory: null });
    assert.deepEqual(n.voices, { pin: null, exclude: [], languages: ['en'] });
    assert.deepEqual(n.webhook, { timeoutMs: 10_000, retryMs: 6 * 3_600_000, backoffInitialMs: 2000, backoffMaxMs: 600_000, answeredUpdate: false });
  });

  it('takes overrides; configured profile voices pin the voice pool', () => {
    const n = load({
      local_device: 'tower',
      profiles: { voices: ['Zira'] },
      notifications: {
        coalesce_seconds: 0,
        fallback_device: null,
        mode_channels: { deep_work: [] },
        devices: { 'pixel-phone': { channels: ['webhook'], include_message: true } },
        sound: { directory: 'my-sounds' },
        webhook: { retry_hours: 1 },
      },
    }).notifications;
    assert.equal(n.coalesceMs, 0);
    assert.equal(n.fallbackDevice, null);
    assert.deepEqual(n.modeChannels.deep_work, []);
    assert.deepEqual(n.modeChannels.work_silence, ['sound']);
    assert.deepEqual(n.devices['pixel-phone'], { channels: ['webhook'], includeMessage: true });
    assert.equal(n.sound.directory, join(home.dir, 'my-sounds'));
    assert.equal(n.webhook.retryMs, 3_600_000);
    assert.deepEqual(n.voices.pin, ['Zira']);
    assert.equal(load({ local_device: 'tower' }).notifications.fallbackDevice, 'tower');
  });

  for (const [file, key] of [
    [{ notifications: { speech: { engine: 'festival' } } }, 'notifications.speech.engine'],
    [{ notifications: { coalesce_seconds: -1 } }, 'notifications.coalesce_seconds'],
    [{ notifications: { devices: { phone: { channels: ['pager'] } } } }, 'notifications.devices.phone.channels.0'],
    [{ notifications: { webhook: { retries: 3 } } }, 'notifications.webhook.retries'],
  ] as const) {
    it(`names ${key} when it is wrong`, () => {
      assert.throws(() => load(file), (err: Error) => err instanceof ConfigError && err.message.includes(key));
    });
  }
});
