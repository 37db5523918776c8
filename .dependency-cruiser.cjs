// The layers of src/, bottom first: a folder imports its own layer and those below it, never one
// above; the folders of one layer marked `apart` never import each other (src/system/wiring.ts
// joins them); clients (the dashboard, the web page) talk to the server over HTTP and the feed,
// so they import only lib and protocol, never each other (what both need lives in protocol).
// test/layers.test.ts runs this; `npm run layers` prints the same.
//
// A new folder is one line here and a README saying the same: a subsystem that hears commits
// (cron, obsidian, metrics; sessions, approvals) joins `subsystems`; a relay between machines
// (fleet) joins it too when it only talks to the others through the wiring; a browser client
// (web) joins CLIENTS.
const LAYERS = [
  { name: 'lib', folders: ['lib'] }, //                 no domain: clock, JSON bounds, logger, words, DomainError
  { name: 'machines', folders: ['machines'] }, //       pure XState machines
  { name: 'config', folders: ['config'] }, //           the config file's schema and defaults
  { name: 'protocol', folders: ['protocol'] }, //       zod schemas shared by server and clients
  { name: 'db', folders: ['db'] }, //                   connection, migrations, writer, every SQL statement
  { name: 'service', folders: ['service'] }, //         process lifecycle: lock, data directory, drain, stop
  { name: 'runtime', folders: ['actors/runtime'] }, //  the hub: registry, commit unit, domain events
  { name: 'instances', folders: ['actors/instances'] },
  { name: 'mode-gate', folders: ['actors/mode-gate'] },
  { name: 'subsystems', folders: ['notifications', 'codex', 'usage', 'cron', 'obsidian', 'metrics', 'sessions', 'relay', 'approvals', 'fleet'], apart: true },
  { name: 'feed', folders: ['feed'] },
  { name: 'http', folders: ['http'] },
  { name: 'system', folders: ['system'] }, //           the composition root and the wiring
  { name: 'cli', folders: ['cli'] },
];
const CLIENTS = ['tui', 'web'];

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** A path pattern matching any of the folders of src/. */
const anyOf = (folders) => `^src/(${folders.map(esc).join('|')})/`;
const above = (i) => [...LAYERS.slice(i + 1).flatMap((l) => l.folders), ...CLIENTS];

const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `no-upward-from-${layer.name}`,
  comment: `${layer.folders.join(', ')} import(s) only their own layer and those below it`,
  severity: 'error',
  from: { path: anyOf(layer.folders) },
  to: { path: anyOf(above(i)) },
}));

const apart = LAYERS.filter((l) => l.apart).flatMap((layer) =>
  layer.folders.map((folder) => ({
    name: `${layer.name}-apart`,
    comment: `${layer.folders.join(', ')} never import each other; src/system/wiring.ts joins them`,
    severity: 'error',
    from: { path: anyOf([folder]) },
    to: { path: anyOf(layer.folders.filter((f) => f !== folder)) },
  })),
);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...upward,
    ...apart,
    ...CLIENTS.map((client) => ({
      name: 'clients-talk-over-http',
      comment: `${client} is a client of the server: it imports only lib, protocol and its own files`,
      severity: 'error',
      from: { path: anyOf([client]) },
      to: { path: '^src/', pathNot: anyOf(['lib', 'protocol', client]) },
    })),
    {
      name: 'only-the-cli-opens-a-client',
      severity: 'error',
      from: { path: '^src/', pathNot: anyOf(['cli', ...CLIENTS]) },
      to: { path: anyOf(CLIENTS) },
    },
    {
      name: 'every-file-in-a-layer',
      comment: 'nothing lives directly under src/ or in a folder the layers do not name',
      severity: 'error',
      from: { path: '^src/', pathNot: anyOf([...LAYERS.flatMap((l) => l.folders), ...CLIENTS]) },
      to: {},
    },
    {
      name: 'routes-read-through-services',
      comment: 'HTTP reads and writes through the services it is given: no connection, no SQL, no hub (the event log is a service)',
      severity: 'error',
      from: { path: anyOf(['http']) },
      to: { path: anyOf(['db', 'actors/runtime']), pathNot: '^src/actors/runtime/event-log\\.ts$' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    { name: 'not-to-test', severity: 'error', from: { path: '^src/' }, to: { path: '^(test|bench)/' } },
    { name: 'not-to-unresolvable', severity: 'error', from: {}, to: { couldNotResolve: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js', '.json'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
