// One long-lived Windows PowerShell process for SAPI speech and SoundPlayer sounds (starting
// PowerShell costs about a second, so it is started once and fed requests). Works natively on
// Windows and from WSL through powershell.exe. The script and command line are built here as
// text; requests and replies are one JSON object per line on stdin and stdout.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../lib/clock.js';

export type PowerShellRequest =
  | { op: 'speak'; text: string; voice: string | null }
  | { op: 'voices' }
  | { op: 'play'; file: string };

export interface PowerShellReply {
  id: number;
  ok: boolean;
  error?: string;
  voices?: { name: string; culture: string | null }[];
}

/** The host script: reads requests line by line until stdin closes, answers each on stdout. */
export function powershellHostScript(): string {
  return [
    "$ErrorActionPreference = 'Stop'",
    '$utf8 = New-Object System.Text.UTF8Encoding $false',
    '[Console]::InputEncoding = $utf8',
    '[Console]::OutputEncoding = $utf8',
    'Add-Type -AssemblyName System.Speech',
    '$synth = New-Object System.Speech.Synthesis.SpeechSynthesizer',
    '$synth.SetOutputToDefaultAudioDevice()',
    '$defaultVoice = $synth.Voice.Name',
    "[Console]::Out.WriteLine('{\"ready\":true}')",
    '[Console]::Out.Flush()',
    'while ($true) {',
    '  $line = [Console]::In.ReadLine()',
    '  if ($null -eq $line) { break }',
    "  if ($line.Trim() -eq '') { continue }",
    '  $id = $null',
    '  try {',
    '    $req = $line | ConvertFrom-Json',
    '    $id = $req.id',
    '    switch ([string]$req.op) {',
    "      'speak' {",
    '        if ($req.voice) { $synth.SelectVoice([string]$req.voice) } else { $synth.SelectVoice($defaultVoice) }',
    '        $synth.Speak([string]$req.text)',
    '        $out = @{ id = $id; ok = $true }',
    '      }',
    "      'voices' {",
    '        $list = @($synth.GetInstalledVoices() | Where-Object { $_.Enabled } | ForEach-Object { @{ name = $_.VoiceInfo.Name; culture = $_.VoiceInfo.Culture.Name } })',
    '        $out = @{ id = $id; ok = $true; voices = $list }',
    '      }',
    "      'play' {",
    '        $player = New-Object System.Media.SoundPlayer ([string]$req.file)',
    '        $player.PlaySync()',
    '        $player.Dispose()',
    '        $out = @{ id = $id; ok = $true }',
    '      }',
    '      default { $out = @{ id = $id; ok = $false; error = "unknown op $($req.op)" } }',
    '    }',
    '  } catch {',
    '    $out = @{ id = $id; ok = $false; error = $_.Exception.Message }',
    '  }',
    '  [Console]::Out.WriteLine((ConvertTo-Json -InputObject $out -Compress -Depth 4))',
    '  [Console]::Out.Flush()',
    '}',
  ].join('\n');
}

/** powershell.exe's arguments: no profile, no prompt, the script passed as -EncodedCommand (UTF-16LE, base64). */
export function powershellArgs(script: string = powershellHostScript()): string[] {
  return ['-NoLogo', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand', Buffer.from(script, 'utf16le').toString('base64')];
}

/** One request line (JSON escapes every quote and control character, so no text can break out of it). */
export function powershellRequestLine(id: number, req: PowerShellRequest): string {
  return `${JSON.stringify({ id, ...req })}\n`;
}

interface Pending {
  resolve: (r: PowerShellReply) => void;
  reject: (e: Error) => void;
  timer: TimerHandle | undefined;
}

export interface PowerShellHost {
  request(req: PowerShellRequest, timeoutMs?: number): Promise<PowerShellReply>;
  /** Processes started so far (1 while the first one lives). */
  starts(): number;
  close(): void;
}

export function createPowerShellHost(opts: { exe: string; clock: Clock; logger: Logger; timeoutMs?: number }): PowerShellHost {
  let child: ChildProcessWithoutNullStreams | null = null;
  let seq = 0;
  let started = 0;
  let closed = false;
  let stderrTail = '';
  const pending = new Map<number, Pending>();

  function failAll(err: Error): void {
    for (const [id, p] of pending) {
      opts.clock.clearTimeout(p.timer);
      pending.delete(id);
      p.reject(err);
    }
  }

  function ensure(): ChildProcessWithoutNullStreams {
    if (child) return child;
    started += 1;
    stderrTail = '';
    const proc = spawn(opts.exe, powershellArgs(), { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    child = proc;
    let buffer = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl).replace(/^\uFEFF/, '').trim();
        buffer = buffer.slice(nl + 1);
        if (!line) continue;
        let reply: PowerShellReply & { ready?: boolean };
        try {
          reply = JSON.parse(line) as PowerShellReply & { ready?: boolean };
        } catch {
          opts.logger.debug({ line }, 'powershell: unexpected output');
          continue;
        }
        if (reply.ready) continue;
        const p = pending.get(reply.id);
        if (!p) continue;
        pending.delete(reply.id);
        opts.clock.clearTimeout(p.timer);
        p.resolve(reply);
      }
    });
    proc.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderrTail = (stderrTail + d).slice(-2000);
    });
    proc.stdin.on('error', () => undefined);
    const gone = (why: string) => {
      if (child !== proc) return;
      child = null;
      failAll(new Error(`PowerShell ${why}${stderrTail.trim() ? `: ${stderrTail.trim().slice(-300)}` : ''}`));
    };
    proc.on('error', (err) => gone(`could not start (${err.message})`));
    proc.on('exit', (code, signal) => gone(`exited with ${code ?? signal}`));
    return proc;
  }

  return {
    request(req, timeoutMs = opts.timeoutMs ?? 120_000) {
      if (closed) return Promise.reject(new Error('PowerShell host is closed'));
      const id = ++seq;
      const proc = ensure();
      return new Promise<PowerShellReply>((resolve, reject) => {
        const timer = opts.clock.setTimeout(() => {
          pending.delete(id);
          reject(new Error(`PowerShell did not answer within ${timeoutMs} ms; restarting it`));
          if (child === proc) {
            child = null;
            proc.kill();
          }
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        proc.stdin.write(powershellRequestLine(id, req));
      });
    },
    starts: () => started,
    close() {
      closed = true;
      failAll(new Error('PowerShell host is closed'));
      const proc = child;
      child = null;
      if (proc) {
        proc.stdin.end();
        proc.kill();
      }
    },
  };
}
