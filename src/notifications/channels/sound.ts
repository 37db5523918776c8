// The sound channel: plays the instance's sound file, resolved by name in the sounds
// directory. The player is detected at start-up (`paplay`, `pw-play`, `aplay`, `afplay`, or
// PowerShell's SoundPlayer on Windows and WSL) or configured as a command; a missing player
// is reported once, in the log and by GET /health, and never per notification.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { NotificationsConfig } from '../../config/config.js';
import type { Clock } from '../../lib/clock.js';
import { isSoundName } from '../../protocol/notifications.js';
import { findExecutable, isWsl, runProcess } from './executables.js';
import type { PowerShellHost } from './powershell-host.js';
import { findPowerShell } from './speech.js';

export type PlayerName = 'paplay' | 'pw-play' | 'aplay' | 'afplay' | 'powershell' | 'command';

export interface SoundStatus {
  player: PlayerName | null;
  path: string | null;
  available: boolean;
  problem: string | null;
  directory: string;
  missing: string[];
}

/** The command line that plays `file` with a process player. */
export function playerArgs(player: Exclude<PlayerName, 'powershell'>, file: string, command: readonly string[] = []): string[] {
  switch (player) {
    case 'aplay':
      return ['-q', file];
    case 'command':
      return [...command.slice(1), file];
    default:
      return [file];
  }
}

interface Player {
  name: PlayerName;
  path: string;
  play(file: string): Promise<void>;
}

export function detectPlayer(
  cfg: NotificationsConfig['sound'] & { powershell: string | null },
  deps: { clock: Clock; env?: NodeJS.ProcessEnv; powershellHost?: () => PowerShellHost | null; signal?: AbortSignal },
): { player: Player | null; problem: string | null } {
  const env = deps.env ?? process.env;
  const timeoutMs = 60_000;
  const signal = deps.signal;
  const proc = (name: Exclude<PlayerName, 'powershell' | 'command'>): Player | null => {
    const path = findExecutable(name, env);
    return path ? { name, path, play: (file) => runProcess(path, playerArgs(name, file), { timeoutMs, clock: deps.clock, signal }).then(() => undefined) } : null;
  };
  const powershell = (): Player | null => {
    const path = findPowerShell(cfg.powershell, env);
    const host = path ? deps.powershellHost?.() : null;
    if (!path || !host) return null;
    return {
      name: 'powershell',
      path,
      async play(file) {
        const target = isWsl(env) ? (await runProcess('wslpath', ['-w', file], { timeoutMs: 5000, clock: deps.clock })).stdout.trim() : file;
        const r = await host.request({ op: 'play', file: target });
        if (!r.ok) throw new Error(r.error ?? 'SoundPlayer failed');
      },
    };
  };
  if (cfg.command) {
    const [exe] = cfg.command;
    const path = exe ? findExecutable(exe, env) : null;
    if (!path) return { player: null, problem: `the sound command ${exe} was not found` };
    const command = cfg.command;
    return { player: { name: 'command', path, play: (file) => runProcess(path, playerArgs('command', file, command), { timeoutMs, clock: deps.clock, signal }).then(() => undefined) }, problem: null };
  }
  if (cfg.player === 'none') return { player: null, problem: 'sounds are turned off (notifications.sound.player is "none")' };
  if (cfg.player !== 'auto') {
    const p = cfg.player === 'powershell' ? powershell() : proc(cfg.player);
    return p ? { player: p, problem: null } : { player: null, problem: `sound player ${cfg.player} was asked for but was not found` };
  }
  const order: (() => Player | null)[] =
    process.platform === 'darwin'
      ? [() => proc('afplay')]
      : process.platform === 'win32'
        ? [powershell]
        : isWsl(env)
          ? [() => proc('paplay'), powershell]
          : [() => proc('paplay'), () => proc('pw-play'), () => proc('aplay')];
  for (const pick of order) {
    const p = pick();
    if (p) return { player: p, problem: null };
  }
  return { player: null, problem: 'no sound player found: install pulseaudio-utils (paplay), pipewire (pw-play) or alsa-utils (aplay)' };
}

/** Where sound names are looked up when no directory is configured. */
export function defaultSoundsDirectory(home: string, env: NodeJS.ProcessEnv = process.env): string {
  if (process.platform === 'win32') return join(env.SystemRoot ?? 'C:\\Windows', 'Media');
  if (isWsl(env) && existsSync('/mnt/c/Windows/Media')) return '/mnt/c/Windows/Media';
  return join(home, 'sounds');
}

export interface SoundChannel {
  status(): SoundStatus;
  /** The file a sound name stands for, or null when it is not in the sounds directory. */
  resolve(name: string): string | null;
  play(name: string): Promise<void>;
}

export function createSoundChannel(
  choice: { player: Player | null; problem: string | null },
  deps: { directory: string; logger: Logger },
): SoundChannel {
  const { player, problem } = choice;
  const missing = new Set<string>();
  if (!player) deps.logger.warn({ problem }, 'sound unavailable: notification sounds will not play');
  function resolve(name: string): string | null {
    if (!isSoundName(name)) return null;
    const file = join(deps.directory, name);
    try {
      return statSync(file).isFile() ? file : null;
    } catch {
      return null;
    }
  }
  return {
    status: () => ({ player: player?.name ?? null, path: player?.path ?? null, available: player !== null, problem, directory: deps.directory, missing: [...missing] }),
    resolve,
    async play(name) {
      if (!player) throw new Error(problem ?? 'no sound player');
      const file = resolve(name);
      if (!file) {
        if (!missing.has(name)) {
          missing.add(name);
          deps.logger.warn({ sound: name, directory: deps.directory }, 'sound file not found; notifications with it play no sound');
        }
        throw new Error(`sound ${name} not found in ${deps.directory}`);
      }
      await player.play(file);
    },
  };
}
