// `token-api machines export`: each machine's definition (instance, mode, gate) as JSON, the
// same definition the inspector shows, for the Stately visualiser. Implementations (actions,
// guards, timers) are named in it, not included; context and input factories are code and
// are left out.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AnyStateMachine } from 'xstate';
import { gateMachine } from '../machines/gate.js';
import { instanceMachine } from '../machines/instance.js';
import { modeMachine } from '../machines/mode.js';

export const MACHINES: Record<string, AnyStateMachine> = { instance: instanceMachine, mode: modeMachine, gate: gateMachine };

/** The machine's configuration as plain JSON (functions dropped), with its version. */
export function machineDefinition(machine: AnyStateMachine): Record<string, unknown> {
  const config = JSON.parse(JSON.stringify(machine.config)) as Record<string, unknown>;
  return { ...config, id: machine.id, version: machine.version ?? null };
}

/** Writes <dir>/<name>.json for every machine; answers the files written. */
export function exportMachines(dir: string): string[] {
  const out = resolve(dir);
  mkdirSync(out, { recursive: true });
  return Object.entries(MACHINES).map(([name, machine]) => {
    const file = join(out, `${name}.json`);
    writeFileSync(file, `${JSON.stringify(machineDefinition(machine), null, 2)}\n`);
    return file;
  });
}
