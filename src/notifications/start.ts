// Builds the notification side of the server from the config: speech engine and sound player
// detection (one shared PowerShell host on Windows and WSL), default sounds, the voice pool
// fed by the detected voices, and the notification service on the hub.
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Database } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import { ensureDefaultSounds } from './channels/default-sounds.js';
import type { DeviceDirectory } from '../actors/instances/devices.js';
import type { InstanceActors } from '../actors/instances/instance-kind.js';
import type { Hub } from '../actors/runtime/root-machines.js';
import { fixedModeSource, type ModeSource } from '../actors/mode-gate/mode-source.js';
import { createNotifications } from './service.js';
import type { NotificationSummary } from './delivery.js';
import { createPowerShellHost, type PowerShellHost } from './channels/powershell-host.js';
import { createSoundChannel, defaultSoundsDirectory, detectPlayer } from './channels/sound.js';
import { createSpeechChannel, detectSpeechEngine, findPowerShell } from './channels/speech.js';
import { createVoicePool } from './voice-pool.js';

/** How long start-up waits for the speech engine to list its voices (PowerShell takes about a second). */
const VOICES_WAIT_MS = 5000;

export async function startNotifications(deps: {
  config: Config;
  db: Database;
  hub: Pick<Hub, 'record' | 'flush'>;
  instances: Pick<InstanceActors, 'snapshot'>;
  devices: DeviceDirectory;
  clock: Clock;
  logger: Logger;
  mode?: ModeSource;
  recentDevices?: () => readonly string[];
  /** One-time approve/deny links for a permission request's notification. */
  actionsFor?: (n: NotificationSummary) => { approve: string; deny: string } | null;
  /** Machines (src/system joins them): see NotificationsDeps. */
  webhooksToHub?: () => boolean;
  remoteWait?: (instanceId: string) => number | null | undefined;
  approvalLinks?: (instanceId: string) => { approve: string; deny: string } | null;
  linkBase?: () => string | null;
}) {
  const { config, clock, logger } = deps;
  const n = config.notifications;
  let host: PowerShellHost | null = null;
  const powershellHost = (): PowerShellHost | null => {
    if (host) return host;
    const exe = findPowerShell(n.speech.powershell);
    host = exe ? createPowerShellHost({ exe, clock, logger }) : null;
    return host;
  };

  const speech = createSpeechChannel(detectSpeechEngine(n.speech, { clock, logger, powershellHost }), { logger, maxChars: n.speech.maxChars });
  const directory = n.sound.directory ?? defaultSoundsDirectory(config.home);
  if (!n.sound.directory && directory.startsWith(config.home)) {
    try {
      const written = ensureDefaultSounds(directory, config.profiles.sounds);
      if (written.length > 0) logger.info({ directory, written }, 'default notification sounds written');
    } catch (err) {
      logger.warn({ err, directory }, 'could not write the default notification sounds');
    }
  }
  // Stopping the server stops a sound in progress.
  const stopping = new AbortController();
  const sound = createSoundChannel(detectPlayer({ ...n.sound, powershell: n.speech.powershell }, { clock, powershellHost, signal: stopping.signal }), { directory, logger });

  const voicePool = createVoicePool(config.profiles, n.voices);
  let waited: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([speech.ready, new Promise<void>((resolve) => (waited = setTimeout(resolve, VOICES_WAIT_MS)))]);
  clearTimeout(waited);
  const apply = () => {
    const list = voicePool.update(speech.voices());
    logger.info({ voices: list, source: voicePool.current().source }, 'profile voices');
  };
  apply();
  // Voices that arrive after the wait still reach new profiles.
  void speech.ready.then(() => {
    if (voicePool.current().source === 'configured' && speech.voices().length > 0) apply();
  });

  const notifications = await createNotifications({
    config: n,
    localDevice: config.localDevice,
    hub: deps.hub,
    instances: deps.instances,
    db: deps.db,
    devices: deps.devices,
    clock,
    logger,
    mode: deps.mode ?? fixedModeSource(),
    speech,
    sound,
    voicePool,
    defaultSound: config.profiles.sounds[0] ?? null,
    recentDevices: deps.recentDevices,
    actionsFor: deps.actionsFor,
    webhooksToHub: deps.webhooksToHub,
    forwardedMaxAgeMs: config.fleet.notifyMaxAgeMs,
    remoteWait: deps.remoteWait,
    approvalLinks: deps.approvalLinks,
    linkBase: deps.linkBase,
  });
  return {
    notifications,
    voicePool,
    close(): void {
      notifications.close();
      stopping.abort();
      host?.close();
    },
  };
}
