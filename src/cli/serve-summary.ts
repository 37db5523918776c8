// What `token-api serve` tells the person who started it, one fact a line: where it listens,
// where its data and log are, what it found for speech, sound, Codex and usage, what it
// restored, who may reach it. Pure: the facts come from the running server; colours only
// where the terminal has them (the URL is never coloured, so scripts can read it).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { isLoopbackAddress } from '../lib/net.js';
import type { RunningServer } from '../system/server.js';

export interface StartupFacts {
  version: string;
  url: string;
  home: string;
  logFile: string;
  /** What stderr gets of the log (--log-format, --log-file-only). */
  stderrLog: 'none' | 'text' | 'json';
  speech: { available: boolean; engine: string | null; voices: number; problem: string | null };
  sound: { available: boolean; player: string | null; problem: string | null };
  codex: { enabled: boolean; home: string; found: boolean; files: number };
  usage: { found: string[]; missing: string[] };
  restore: { restored: number; rebuilt: number; retired: number; ms: number };
  spooled: number;
  host: string;
  gateCheckNetworks: readonly string[];
  inspector: string | null;
  /** The web page's address, and whether it is built. */
  web: { url: string; built: boolean };
}

export function startupFacts(config: Config, server: RunningServer, o: { version: string; inspector: string | null; stderrLog: StartupFacts['stderrLog'] }): StartupFacts {
  const { system } = server;
  const n = system.channels();
  const usageDirs = [...config.usageClaudeDirs.map((d) => join(d, 'projects')), ...config.usageCodexDirs.map((d) => join(d, 'sessions'))];
  return {
    version: o.version,
    url: server.url,
    home: config.home,
    logFile: config.logFile,
    stderrLog: o.stderrLog,
    speech: { available: n.speech.available, engine: n.speech.engine, voices: n.speech.voices.length, problem: n.speech.problem },
    sound: { available: n.sound.available, player: n.sound.player, problem: n.sound.problem },
    codex: { enabled: config.codex.enabled, home: config.codex.home, found: existsSync(join(config.codex.home, 'sessions')), files: system.started.codexScan?.files ?? 0 },
    usage: { found: usageDirs.filter((d) => existsSync(d)), missing: usageDirs.filter((d) => !existsSync(d)) },
    restore: system.started.restore,
    spooled: system.started.spoolReplay.replayed,
    host: config.host,
    gateCheckNetworks: config.gateCheckNetworks,
    inspector: o.inspector,
    web: { url: `${server.url}/app/`, built: existsSync(join(system.webRoot, 'index.html')) },
  };
}

/** The lines to print, with ANSI colours when `color`. */
export function startupLines(f: StartupFacts, color: boolean): string[] {
  const paint = (code: string) => (text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const good = paint('32');
  const warn = paint('33');
  const dim = paint('2');
  const bold = paint('1');
  const row = (label: string, text: string) => `  ${dim(label.padEnd(10))} ${text}`;
  const lines = [`${bold(`token-api ${f.version}`)} listening on ${f.url}`];
  lines.push(row('data', f.home));
  const echo = { text: 'warnings and errors show here too', json: 'and here, as JSON lines', none: 'only there' }[f.stderrLog];
  lines.push(row('log', `${f.logFile} (${echo})`));
  lines.push(
    row('speech', f.speech.available ? good(`${f.speech.engine}${f.speech.voices > 0 ? `, ${f.speech.voices} voice${f.speech.voices === 1 ? '' : 's'}` : ''}`) : warn(`not here: ${f.speech.problem ?? 'no speech engine'}`)),
  );
  lines.push(row('sound', f.sound.available ? good(f.sound.player ?? 'available') : warn(`not here: ${f.sound.problem ?? 'no sound player'}`)));
  const codexDir = join(f.codex.home, 'sessions');
  lines.push(
    row(
      'codex',
      !f.codex.enabled
        ? dim('off (codex.enabled is false)')
        : f.codex.found
          ? good(`watching ${codexDir}${f.codex.files > 0 ? ` (${f.codex.files} rollout${f.codex.files === 1 ? '' : 's'} read)` : ''}`)
          : `no ${codexDir} yet; Codex sessions appear once it exists`,
    ),
  );
  lines.push(
    row('usage', f.usage.found.length > 0 ? good(`reading ${f.usage.found.join(', ')}`) : warn(`no transcripts found; looked in ${f.usage.missing.join(', ') || 'no folder (usage_claude_dirs, usage_codex_dirs)'}`)),
  );
  const r = f.restore;
  if (r.restored + r.rebuilt + r.retired > 0) {
    const more = `${r.rebuilt ? `, rebuilt ${r.rebuilt}` : ''}${r.retired ? `, retired ${r.retired}` : ''}`;
    lines.push(row('instances', `restored ${r.restored} instance(s)${more} in ${r.ms} ms`));
  }
  if (f.spooled > 0) lines.push(row('spool', `replayed ${f.spooled} hook event(s) spooled while token-api was down`));
  const local = isLoopbackAddress(f.host) || f.host === 'localhost';
  lines.push(
    row(
      'access',
      local
        ? `this machine only (${f.host}); --host 0.0.0.0 opens it to others`
        : warn(`listening on ${f.host}: other machines need "Authorization: Bearer <token>" (token-api token), except gate checks from ${f.gateCheckNetworks.join(', ')}`),
    ),
  );
  lines.push(row('web page', f.web.built ? f.web.url : warn(`not built: run npm run build (then ${f.web.url})`)));
  if (f.inspector) lines.push(`inspector: open ${f.inspector} in a browser`);
  lines.push(dim('Ctrl-C stops it.'));
  return lines;
}
