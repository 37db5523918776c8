#!/usr/bin/env node
// Stands in for powershell.exe, which cannot run here. It takes the command line token-api
// builds, decodes the -EncodedCommand script and checks it is the SAPI host, then speaks the
// same line protocol: one JSON request per line on stdin, one JSON reply per line on stdout.
// What it was asked to say or play is appended to $FAKE_PS_LOG as JSON lines.
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const args = process.argv.slice(2);
const at = args.indexOf('-EncodedCommand');
if (at < 0 || !args.includes('-NoProfile') || !args.includes('-NonInteractive')) {
  process.stderr.write(`unexpected command line: ${args.join(' ')}\n`);
  process.exit(2);
}
const script = Buffer.from(args[at + 1] ?? '', 'base64').toString('utf16le');
if (!script.includes('Add-Type -AssemblyName System.Speech') || !script.includes('[Console]::In.ReadLine()')) {
  process.stderr.write('the script is not the SAPI host\n');
  process.exit(3);
}
const log = process.env.FAKE_PS_LOG;
const record = (entry) => log && appendFileSync(log, `${JSON.stringify({ pid: process.pid, ...entry })}\n`);
const voices = [
  { name: 'Microsoft David Desktop', culture: 'en-US' },
  { name: 'Microsoft Zira Desktop', culture: 'en-US' },
  { name: 'Microsoft Hedda Desktop', culture: 'de-DE' },
];
const reply = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
reply({ ready: true });
createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  const req = JSON.parse(line);
  if (req.op === 'voices') return reply({ id: req.id, ok: true, voices });
  if (req.op === 'speak') {
    if (req.text === 'crash now') process.exit(1);
    if (req.voice && !voices.some((v) => v.name === req.voice)) {
      return reply({ id: req.id, ok: false, error: 'Cannot set voice. No matching voice is installed or the voice was disabled.' });
    }
    record({ op: 'speak', voice: req.voice, text: req.text });
    return reply({ id: req.id, ok: true });
  }
  if (req.op === 'play') {
    record({ op: 'play', file: req.file });
    return reply({ id: req.id, ok: true });
  }
  reply({ id: req.id, ok: false, error: `unknown op ${req.op}` });
});
