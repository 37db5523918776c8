// The speech channel: speaks a notification with the instance's voice. The engine is
// detected at start-up (Windows SAPI through one long-lived PowerShell, also from WSL; macOS
// `say`; Linux `espeak-ng` or `spd-say`); a missing engine is reported once, in the log and by
// GET /health, and never per notification. Playback order is the audio queue's business.
import type { Logger } from 'pino';
import type { NotificationsConfig } from '../../config/config.js';
import type { Clock } from '../../lib/clock.js';
import { findExecutable, isWsl, runProcess, WSL_POWERSHELL } from './executables.js';
import type { PowerShellHost } from './powershell-host.js';

export type SpeechEngineName = 'sapi' | 'say' | 'espeak-ng' | 'spd-say';

export interface Voice {
  name: string;
  language: string | null;
}

export interface SpeechEngine {
  readonly name: SpeechEngineName;
  readonly path: string;
  listVoices(): Promise<Voice[]>;
  /** Resolves when the text has been spoken. `voice` null is the engine's default voice. */
  speak(text: string, voice: string | null): Promise<void>;
  close(): void;
}

export interface SpeechStatus {
  engine: SpeechEngineName | null;
  path: string | null;
  available: boolean;
  problem: string | null;
  voices: string[];
}

// ---- command lines, exported so that tests can read them ----

/** espeak-ng reads the text on stdin; `wav` writes a WAV file instead of playing it. */
export function espeakArgs(voice: string | null, wav?: string): string[] {
  return [...(voice ? ['-v', voice] : []), ...(wav ? ['-w', wav] : []), '--stdin'];
}

export function sayArgs(voice: string | null): string[] {
  return [...(voice ? ['-v', voice] : []), '-f', '-'];
}

export function spdSayArgs(voice: string | null, text: string): string[] {
  return ['--wait', ...(voice ? ['-y', voice] : []), '--', text];
}

// ---- voice lists ----

/** `espeak-ng --voices`: the language column names the voice; MBROLA voices need extra data and are left out. */
export function parseEspeakVoices(out: string): Voice[] {
  const seen = new Set<string>();
  const voices: Voice[] = [];
  for (const line of out.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5) continue;
    const [, language, , , file] = cols;
    if (!language || !file || file.startsWith('mb/') || seen.has(language)) continue;
    seen.add(language);
    voices.push({ name: language, language });
  }
  return voices;
}

/** `say -v '?'`: "Alex                en_US    # Most people recognize me by my voice." */
export function parseSayVoices(out: string): Voice[] {
  const voices: Voice[] = [];
  for (const line of out.split('\n')) {
    const m = /^(.+?)\s+([a-z]{2,3}[_-][A-Za-z0-9]+)\s+#/.exec(line);
    if (m) voices.push({ name: m[1]!.trim(), language: m[2]!.replace('_', '-') });
  }
  return voices;
}

/** `spd-say -L`: a header, then "NAME LANGUAGE VARIANT". */
export function parseSpdVoices(out: string): Voice[] {
  const voices: Voice[] = [];
  for (const line of out.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length >= 2 && cols[0]) voices.push({ name: cols[0], language: cols[1] ?? null });
  }
  return voices;
}

// ---- engines ----

function processEngine(
  name: 'say' | 'espeak-ng' | 'spd-say',
  path: string,
  clock: Clock,
  opts: { wavFile?: () => string },
): SpeechEngine {
  const timeoutMs = 120_000;
  // Stopping the server stops an utterance in progress.
  const stopping = new AbortController();
  const signal = stopping.signal;
  return {
    name,
    path,
    async listVoices() {
      const args = name === 'say' ? ['-v', '?'] : name === 'espeak-ng' ? ['--voices'] : ['-L'];
      const r = await runProcess(path, args, { timeoutMs: 20_000, clock });
      return name === 'say' ? parseSayVoices(r.stdout) : name === 'espeak-ng' ? parseEspeakVoices(r.stdout) : parseSpdVoices(r.stdout);
    },
    async speak(text, voice) {
      if (name === 'espeak-ng') await runProcess(path, espeakArgs(voice, opts.wavFile?.()), { input: text, timeoutMs, clock, signal });
      else if (name === 'say') await runProcess(path, sayArgs(voice), { input: text, timeoutMs, clock, signal });
      else await runProcess(path, spdSayArgs(voice, text), { timeoutMs, clock, signal });
    },
    close: () => stopping.abort(),
  };
}

function sapiEngine(path: string, host: PowerShellHost): SpeechEngine {
  return {
    name: 'sapi',
    path,
    async listVoices() {
      const r = await host.request({ op: 'voices' }, 60_000);
      if (!r.ok) throw new Error(r.error ?? 'PowerShell could not list voices');
      return (r.voices ?? []).map((v) => ({ name: v.name, language: v.culture ?? null }));
    },
    async speak(text, voice) {
      const r = await host.request({ op: 'speak', text, voice });
      if (!r.ok) throw new Error(r.error ?? 'SAPI could not speak');
    },
    close: () => host.close(),
  };
}

/** PowerShell for SAPI and SoundPlayer: configured, on PATH, or WSL's Windows mount. */
export function findPowerShell(configured: string | null, env: NodeJS.ProcessEnv = process.env): string | null {
  if (configured) return findExecutable(configured, env);
  if (process.platform === 'win32') return findExecutable('powershell.exe', env) ?? findExecutable('powershell', env);
  if (isWsl(env)) return findExecutable('powershell.exe', env) ?? findExecutable(WSL_POWERSHELL, env);
  return null;
}

export interface EngineChoice {
  engine: SpeechEngine | null;
  problem: string | null;
}

export function detectSpeechEngine(
  cfg: NotificationsConfig['speech'],
  deps: { clock: Clock; logger: Logger; env?: NodeJS.ProcessEnv; powershellHost?: () => PowerShellHost | null; wavFile?: () => string },
): EngineChoice {
  const env = deps.env ?? process.env;
  const want = cfg.engine;
  if (want === 'none') return { engine: null, problem: 'speech is turned off (notifications.speech.engine is "none")' };
  const sapi = (): SpeechEngine | null => {
    const host = deps.powershellHost?.();
    const ps = findPowerShell(cfg.powershell, env);
    return host && ps ? sapiEngine(ps, host) : null;
  };
  const proc = (name: 'say' | 'espeak-ng' | 'spd-say'): SpeechEngine | null => {
    const path = findExecutable(name, env);
    return path ? processEngine(name, path, deps.clock, { wavFile: deps.wavFile }) : null;
  };
  if (want !== 'auto') {
    const engine = want === 'sapi' ? sapi() : proc(want);
    return engine ? { engine, problem: null } : { engine: null, problem: `speech engine ${want} was asked for but ${want === 'sapi' ? 'powershell.exe' : want} was not found` };
  }
  const order: (() => SpeechEngine | null)[] =
    process.platform === 'win32' || isWsl(env)
      ? [sapi, () => proc('espeak-ng'), () => proc('spd-say')]
      : process.platform === 'darwin'
        ? [() => proc('say')]
        : [() => proc('espeak-ng'), () => proc('spd-say')];
  for (const pick of order) {
    const engine = pick();
    if (engine) return { engine, problem: null };
  }
  const hint =
    process.platform === 'darwin'
      ? '`say` is missing'
      : process.platform === 'win32' || isWsl(env)
        ? 'powershell.exe was not found (set notifications.speech.powershell)'
        : 'install espeak-ng (apt install espeak-ng) or speech-dispatcher (spd-say)';
  return { engine: null, problem: `no speech engine found: ${hint}` };
}

export interface SpeechChannel {
  /** Resolves when the engine's voices are known (or could not be listed). */
  readonly ready: Promise<void>;
  status(): SpeechStatus;
  /** The voice to hand the engine: the one asked for when the engine has it, else its default (null). */
  voiceFor(voice: string | null): string | null;
  hasVoice(voice: string): boolean;
  voices(): Voice[];
  speak(text: string, voice: string | null): Promise<void>;
  close(): void;
}

export function createSpeechChannel(choice: EngineChoice, deps: { logger: Logger; maxChars: number }): SpeechChannel {
  const { engine } = choice;
  const problem = choice.problem;
  let voices: Voice[] = [];
  let voicesKnown = false;
  if (!engine) deps.logger.warn({ problem }, 'speech unavailable: notifications will not be spoken');
  const ready: Promise<void> = engine
    ? engine.listVoices().then(
        (list) => {
          voices = list;
          voicesKnown = true;
          deps.logger.info({ engine: engine.name, voices: list.length }, 'speech engine ready');
        },
        (err: unknown) => {
          deps.logger.warn({ engine: engine.name, err: (err as Error).message }, 'could not list the speech engine voices; the default voice will be used');
        },
      )
    : Promise.resolve();
  return {
    ready,
    status: () => ({ engine: engine?.name ?? null, path: engine?.path ?? null, available: engine !== null, problem, voices: voices.map((v) => v.name) }),
    voiceFor(voice) {
      if (!voice || !voicesKnown) return voicesKnown ? null : voice;
      const lower = voice.toLowerCase();
      return voices.find((v) => v.name.toLowerCase() === lower)?.name ?? null;
    },
    hasVoice: (voice) => !voicesKnown || voices.some((v) => v.name.toLowerCase() === voice.toLowerCase()),
    voices: () => [...voices],
    async speak(text, voice) {
      if (!engine) throw new Error(problem ?? 'no speech engine');
      const spoken = text.length > deps.maxChars ? `${text.slice(0, deps.maxChars - 1)}…` : text;
      await engine.speak(spoken, this.voiceFor(voice));
    },
    close: () => engine?.close(),
  };
}
