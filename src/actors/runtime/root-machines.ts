// The server's root actors, by kind: one instance actor per agent session, the work mode and
// the productivity gate. A new kind of root actor (a managed session, an approval) is one line
// here and an ActorKind beside its service.
import type { gateMachine } from '../../machines/gate.js';
import type { instanceMachine } from '../../machines/instance.js';
import type { modeMachine } from '../../machines/mode.js';
import type { sessionMachine } from '../../machines/session.js';
import type { ActorChanged, CommitNotice, IntentEmitted, SnapshotOf } from './domain-events.js';
import type { HubOf } from './hub.js';

// A type alias, not an interface, so that it fits Record<string, AnyStateMachine>.
export type RootMachines = {
  instance: typeof instanceMachine;
  mode: typeof modeMachine;
  gate: typeof gateMachine;
  session: typeof sessionMachine;
};

export type Hub = HubOf<RootMachines>;
export type Committed = CommitNotice<RootMachines>;
export type RootChange = ActorChanged<RootMachines>;
export type RootIntent = IntentEmitted<RootMachines>;
export type RootSnapshot = SnapshotOf<RootMachines>;
