// The local channels with real parts: espeak-ng speaking into WAV files (duration checked),
// utterances queued so they never overlap, a sound played by a real player (aplay on ALSA's
// null device), the PowerShell command line and SAPI script checked as text, and the
// long-lived PowerShell host driven through a stand-in that speaks its protocol.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { createAudioQueue } from '../src/notifications/channels/audio-queue.js';
import { systemClock } from '../src/lib/clock.js';
import { ensureDefaultSounds } from '../src/notifications/channels/default-sounds.js';
import { createPowerShellHost, powershellArgs, powershellHostScript, powershellRequestLine } from '../src/notifications/channels/powershell-host.js';
import { createSoundChannel, detectPlayer, playerArgs } from '../src/notifications/channels/sound.js';
import { isSoundName } from '../src/protocol/notifications.js';
import { createSpeechChannel, detectSpeechEngine, espeakArgs, parseSayVoices, sayArgs, spdSayArgs } from '../src/notifications/channels/speech.js';
import { selectVoices } from '../src/notifications/voice-pool.js';
import { FakeClock } from './support/clock.js';
import { readRows } from './support/sqlite.js';
import { startTestServer, tempHome } from './support/system.js';

const logger = pino({ level: 'silent' });
const FAKE_PS = fileURLToPath(new URL('./support/fake-powershell.mjs', import.meta.url));

/** Seconds of audio in a PCM WAV file, from its header. */
function wavSeconds(file: string): number {
  const b = readFileSync(file);
  assert.equal(b.toString('ascii', 0, 4), 'RIFF');
  assert.equal(b.toString('ascii', 8, 12), 'WAVE');
  let off = 12;
  let rate = 0;
  let blockAlign = 0;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      rate = b.readUInt32LE(off + 12);
      blockAlign = b.readUInt16LE(off + 20);
    }
    if (id === 'data') return Math.min(size, b.length - off - 8) / (rate * blockAlign);
    off += 8 + size;
  }
  throw new Error('no data chunk');
}

describe('speech through real espeak-ng', () => {
  const home = tempHome();
  after(() => home.cleanup());
  let n = 0;
  const files: string[] = [];
  const choice = detectSpeechEngine({ engine: 'espeak-ng', powershell: null, maxChars: 300 }, { clock: systemClock, logger, wavFile: () => files[files.push(join(home.dir, `utterance-${++n}.wav`)) - 1]! });
  const speech = createSpeechChannel(choice, { logger, maxChars: 300 });

  it('is detected, with its English voices for the profile pool (and no MBROLA voices, which need extra data)', async () => {
    assert.equal(speech.status().engine, 'espeak-ng');
    assert.equal(speech.status().available, true);
    await speech.ready;
    const names = speech.voices().map((v) => v.name);
    assert.ok(names.includes('en-us') && names.includes('en-gb'), names.join(', '));
    const english = selectVoices(speech.voices(), { pin: null, exclude: ['en-gb-scotland'], languages: ['en'] });
    assert.ok(english.includes('en-us'));
    assert.ok(!english.includes('en-gb-scotland'));
    assert.ok(english.every((v) => v.startsWith('en')), english.join(', '));
    assert.deepEqual(selectVoices(speech.voices(), { pin: ['Zira'], exclude: [], languages: ['en'] }), ['Zira']);
  });

  it('speaks a notification into a WAV file whose duration fits the sentence', async () => {
    await speech.speak('Claude #2 finished in token-api', 'en-us');
    await speech.speak('Claude #2 finished in token-api. All forty two tests pass, and the benchmark is within its target.', 'en-us');
    const [short, long] = files.slice(-2).map(wavSeconds) as [number, number];
    assert.ok(short > 1 && short < 6, `short sentence: ${short} s`);
    assert.ok(long > short + 2, `long sentence ${long} s vs short ${short} s`);
  });

  it('uses the voice asked for, and the default voice for one the engine lacks', async () => {
    await speech.speak('Hello there', 'en-us');
    await speech.speak('Hello there', 'en-gb');
    await speech.speak('Hello there', 'Microsoft Zira Desktop');
    const [us, gb, fallback] = files.slice(-3).map((f) => readFileSync(f));
    assert.notDeepEqual(us, gb);
    assert.equal(speech.voiceFor('Microsoft Zira Desktop'), null);
    assert.ok(fallback!.length > 44);
  });

  it('never overlaps utterances: the queue plays them one after another, in order', async () => {
    const queue = createAudioQueue(systemClock);
    const log: string[] = [];
    let playing = 0;
    const job = (i: number) => async () => {
      playing += 1;
      assert.equal(playing, 1, 'two utterances at once');
      log.push(`start ${i}`);
      await speech.speak(`Utterance number ${i}`, 'en-us');
      log.push(`end ${i}`);
      playing -= 1;
    };
    const outcomes = await Promise.all([1, 2, 3].map((i) => queue.enqueue(Date.now() + 60_000, job(i))));
    assert.deepEqual(outcomes.map((o) => o.kind), ['played', 'played', 'played']);
    assert.deepEqual(log, ['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
  });

  it('drops a job still waiting when its deadline passes', async () => {
    const clock = new FakeClock();
    const queue = createAudioQueue(clock);
    let release: () => void = () => undefined;
    const first = queue.enqueue(clock.now() + 1000, () => new Promise<void>((r) => (release = r)));
    const second = queue.enqueue(clock.now() + 1000, () => Promise.resolve());
    clock.advance(5000);
    release();
    assert.deepEqual(await first, { kind: 'played' });
    assert.deepEqual(await second, { kind: 'expired' });
  });
});

describe('command lines for the other engines and players', () => {
  it('passes text on stdin or after "--", never where it could be read as an option', () => {
    assert.deepEqual(espeakArgs('en-us'), ['-v', 'en-us', '--stdin']);
    assert.deepEqual(espeakArgs(null, '/tmp/x.wav'), ['-w', '/tmp/x.wav', '--stdin']);
    assert.deepEqual(sayArgs('Samantha'), ['-v', 'Samantha', '-f', '-']);
    assert.deepEqual(spdSayArgs(null, '-rf /'), ['--wait', '--', '-rf /']);
    assert.deepEqual(playerArgs('paplay', '/s/a.wav'), ['/s/a.wav']);
    assert.deepEqual(playerArgs('aplay', '/s/a.wav'), ['-q', '/s/a.wav']);
    assert.deepEqual(playerArgs('afplay', '/s/a.wav'), ['/s/a.wav']);
    assert.deepEqual(playerArgs('command', '/s/a.wav', ['mpv', '--really-quiet']), ['--really-quiet', '/s/a.wav']);
  });

  it('reads macOS voices from `say -v ?`', () => {
    const out = 'Alex                en_US    # Most people recognize me by my voice.\nAnna                de_DE    # Hallo, ich heiße Anna.\nGood News           en_US    # We must rejoice!\n';
    assert.deepEqual(parseSayVoices(out), [
      { name: 'Alex', language: 'en-US' },
      { name: 'Anna', language: 'de-DE' },
      { name: 'Good News', language: 'en-US' },
    ]);
  });
});

describe('sound through a real player', () => {
  const home = tempHome();
  after(() => home.cleanup());
  const dir = join(home.dir, 'sounds');

  it('writes the default sounds once and plays one with aplay on the null device', async () => {
    assert.deepEqual(ensureDefaultSounds(dir, ['chimes.wav', 'ding.wav', 'not-a-wav.mp3']), ['chimes.wav', 'ding.wav']);
    assert.deepEqual(ensureDefaultSounds(dir, ['chimes.wav']), []);
    const seconds = wavSeconds(join(dir, 'chimes.wav'));
    assert.ok(seconds > 0.2 && seconds < 1, `${seconds}`);
    const choice = detectPlayer({ player: 'auto', command: ['aplay', '-q', '-D', 'null'], directory: dir, powershell: null }, { clock: systemClock });
    assert.equal(choice.problem, null);
    const sound = createSoundChannel(choice, { directory: dir, logger });
    assert.equal(sound.status().player, 'command');
    await sound.play('chimes.wav');
    await assert.rejects(sound.play('missing.wav'), /sound missing.wav not found/);
    assert.deepEqual(sound.status().missing, ['missing.wav']);
  });

  it('reports a player that is not there once, as a status, not per sound', () => {
    const choice = detectPlayer({ player: 'auto', command: ['no-such-player-here'], directory: dir, powershell: null }, { clock: systemClock });
    assert.equal(choice.player, null);
    assert.match(choice.problem!, /no-such-player-here was not found/);
    assert.equal(createSoundChannel(choice, { directory: dir, logger }).status().available, false);
  });

  it('accepts only plain file names in the sounds directory', () => {
    for (const bad of ['../secret.wav', 'a/b.wav', '..', '.hidden.wav', 'c:\\x.wav', '']) assert.equal(isSoundName(bad), false, bad);
    assert.equal(isSoundName('chimes.wav'), true);
  });
});

describe('Windows SAPI through one long-lived PowerShell', () => {
  it('builds the command line: no profile, no prompt, the script as -EncodedCommand', () => {
    const args = powershellArgs();
    assert.deepEqual(args.slice(0, 6), ['-NoLogo', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand']);
    assert.equal(Buffer.from(args[6]!, 'base64').toString('utf16le'), powershellHostScript());
  });

  it('builds the SAPI host script: speech, voices and sounds, one JSON request per line', () => {
    const script = powershellHostScript();
    for (const needle of [
      'Add-Type -AssemblyName System.Speech',
      'New-Object System.Speech.Synthesis.SpeechSynthesizer',
      '$synth.SetOutputToDefaultAudioDevice()',
      '$synth.SelectVoice([string]$req.voice)',
      '$synth.Speak([string]$req.text)',
      '$synth.GetInstalledVoices()',
      'New-Object System.Media.SoundPlayer ([string]$req.file)',
      '$player.PlaySync()',
      '[Console]::In.ReadLine()',
      '$line | ConvertFrom-Json',
      'ConvertTo-Json -InputObject $out -Compress',
      '[Console]::OutputEncoding = $utf8',
    ]) {
      assert.ok(script.includes(needle), `script lacks ${needle}`);
    }
    // Text is never spliced into the script: it travels as JSON data on stdin.
    assert.ok(!script.includes('Invoke-Expression'));
    const line = powershellRequestLine(7, { op: 'speak', text: 'say "hi"\n$(Remove-Item C:\\ -Recurse)', voice: "O'Brien" });
    assert.equal(line.split('\n').length, 2, 'one line per request');
    assert.deepEqual(JSON.parse(line), { id: 7, op: 'speak', text: 'say "hi"\n$(Remove-Item C:\\ -Recurse)', voice: "O'Brien" });
  });

  it('starts PowerShell once for many requests, lists voices, speaks, and restarts after a crash', async () => {
    const home = tempHome();
    try {
      chmodSync(FAKE_PS, 0o755);
      const log = join(home.dir, 'ps.log');
      writeFileSync(log, '');
      process.env.FAKE_PS_LOG = log;
      const host = createPowerShellHost({ exe: FAKE_PS, clock: systemClock, logger, timeoutMs: 20_000 });
      const choice = detectSpeechEngine({ engine: 'sapi', powershell: FAKE_PS, maxChars: 300 }, { clock: systemClock, logger, powershellHost: () => host });
      assert.equal(choice.engine?.name, 'sapi');
      const speech = createSpeechChannel(choice, { logger, maxChars: 300 });
      await speech.ready;
      assert.deepEqual(selectVoices(speech.voices(), { pin: null, exclude: [], languages: ['en'] }), ['Microsoft David Desktop', 'Microsoft Zira Desktop']);
      await speech.speak('Claude #1 needs permission to run Bash', 'Microsoft Zira Desktop');
      await speech.speak('Claude #2 finished in token-api', 'Microsoft Sam'); // not installed: the default voice
      assert.equal(host.starts(), 1);
      await assert.rejects(speech.speak('crash now', null), /PowerShell exited with 1/);
      await speech.speak('Back again', null);
      assert.equal(host.starts(), 2);
      host.close();
      const said = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { pid: number; voice: string | null; text: string });
      assert.deepEqual(
        said.map((s) => [s.voice, s.text]),
        [
          ['Microsoft Zira Desktop', 'Claude #1 needs permission to run Bash'],
          [null, 'Claude #2 finished in token-api'],
          [null, 'Back again'],
        ],
      );
      assert.equal(new Set(said.slice(0, 2).map((s) => s.pid)).size, 1, 'one process for both utterances');
    } finally {
      delete process.env.FAKE_PS_LOG;
      home.cleanup();
    }
  });
});

describe('local notifications across a restart', () => {
  it('are not replayed: one interrupted by a stop is marked expired at the next start', async () => {
    const home = tempHome();
    // A player that takes a while, so the stop comes while it plays.
    const file = { notifications: { speech: { engine: 'none' as const }, sound: { command: ['sh', '-c', 'exec sleep 30', 'player'] } } };
    let s = await startTestServer(home.dir, file, { clock: new FakeClock() });
    try {
      const r = await s.request('POST', '/api/notify/sound', {});
      assert.equal(r.status, 202, r.text);
      assert.equal((await s.request('GET', `/api/notifications/${r.body.id}`)).body.status, 'pending');
      await s.close(); // stops the player midway
      assert.deepEqual(await readRows(home.dir, 'SELECT status FROM notification_deliveries'), [{ status: 'pending' }]);
      s = await startTestServer(home.dir, file, { clock: new FakeClock() });
      assert.equal(s.system.started.notificationsRecovered.expiredLocal, 1);
      const after = (await s.request('GET', `/api/notifications/${r.body.id}`)).body;
      assert.equal(after.status, 'expired');
      assert.match(after.deliveries[0].last_error, /restarted before it played; local notifications are not replayed/);
    } finally {
      await s.close();
      home.cleanup();
    }
  });
});
