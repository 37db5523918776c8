// Route dependencies without a running system: every function a route may call throws "not
// expected", so a test states exactly what its route calls (override it) and learns when the
// route calls something else. Limits are the defaults; modes and state variables the defaults.
import type { RouteDeps } from '../../src/http/routers.js';
import { DEFAULT_MODES } from '../../src/config/mode-gate.js';

/** A function that fails the test when called: the route was not expected to call it. */
export function unexpected(name: string): () => never {
  return () => {
    throw new Error(`the route called ${name}, which this test did not expect`);
  };
}

export type RouteOverrides = { [K in keyof RouteDeps]?: Partial<RouteDeps[K]> };

export function fakeRouteDeps(overrides: RouteOverrides = {}): RouteDeps {
  const limits = { bodyLimitBytes: 256 * 1024 };
  const deps: RouteDeps = {
    hooks: { handleHook: unexpected('hooks.handleHook'), ...limits },
    approvals: {
      requestFromHook: unexpected('approvals.requestFromHook'),
      list: unexpected('approvals.list'),
      get: unexpected('approvals.get'),
      decide: unexpected('approvals.decide'),
      decideByLink: unexpected('approvals.decideByLink'),
      hookBodyLimitBytes: 4 * 1024 * 1024,
      ...limits,
    },
    instances: {
      register: unexpected('instances.register'),
      deregister: unexpected('instances.deregister'),
      heartbeat: unexpected('instances.heartbeat'),
      list: unexpected('instances.list'),
      get: unexpected('instances.get'),
      usageOf: unexpected('instances.usageOf'),
      // No other machine reports to this server: its own instances are all there are.
      remote: { list: async () => [], get: async () => [], isLocal: () => true },
      ...limits,
    },
    devices: { list: unexpected('devices.list'), get: unexpected('devices.get'), register: unexpected('devices.register'), update: unexpected('devices.update'), ...limits },
    events: { list: unexpected('events.list') },
    dashboard: { dashboard: unexpected('dashboard.dashboard') },
    health: { health: unexpected('health.health') },
    notifications: {
      send: unexpected('notifications.send'),
      speak: unexpected('notifications.speak'),
      playSound: unexpected('notifications.playSound'),
      list: unexpected('notifications.list'),
      get: unexpected('notifications.get'),
      retry: unexpected('notifications.retry'),
      ...limits,
    },
    root: { check: unexpected('root.check'), version: '0.0.0-test' },
    hookSpool: { upload: unexpected('hookSpool.upload'), maxBytes: 1024 * 1024 },
    codex: { notify: unexpected('codex.notify'), ...limits },
    mode: { view: unexpected('mode.view'), update: unexpected('mode.update'), state: unexpected('mode.state'), modes: DEFAULT_MODES, stateVariables: {}, ...limits },
    gate: { productivity: unexpected('gate.productivity'), check: unexpected('gate.check') },
    usage: {
      usage: {
        report: unexpected('usage.report'),
        sync: unexpected('usage.sync'),
        receive: unexpected('usage.receive'),
        hasDevice: unexpected('usage.hasDevice'),
        deviceToday: unexpected('usage.deviceToday'),
        devicesToday: unexpected('usage.devicesToday'),
        timezone: 'UTC',
      },
      knownDevice: unexpected('usage.knownDevice'),
      now: unexpected('usage.now'),
      ...limits,
      usageBodyLimitBytes: 16 * 1024 * 1024,
    },
    sessions: {
      repos: unexpected('sessions.repos'),
      list: unexpected('sessions.list'),
      external: unexpected('sessions.external'),
      get: unexpected('sessions.get'),
      output: unexpected('sessions.output'),
      start: unexpected('sessions.start'),
      send: unexpected('sessions.send'),
      oneshot: unexpected('sessions.oneshot'),
      cancel: unexpected('sessions.cancel'),
      stop: unexpected('sessions.stop'),
      rename: unexpected('sessions.rename'),
      cleanup: unexpected('sessions.cleanup'),
      promptMaxBytes: 256 * 1024,
      ...limits,
    },
    accounts: { list: unexpected('accounts.list'), resetLimit: unexpected('accounts.resetLimit'), ...limits },
    openApi: { config: { modes: DEFAULT_MODES, stateVariables: {} }, version: '0.0.0-test' },
    machines: {
      authenticate: unexpected('machines.authenticate'),
      register: unexpected('machines.register'),
      updateDoc: unexpected('machines.updateDoc'),
      list: unexpected('machines.list'),
      get: unexpected('machines.get'),
      call: unexpected('machines.call'),
      self: unexpected('machines.self'),
      ...limits,
    },
    metrics: { list: unexpected('metrics.list'), get: unexpected('metrics.get'), set: unexpected('metrics.set'), delete: unexpected('metrics.delete'), ...limits },
    cron: {
      list: unexpected('cron.list'),
      get: unexpected('cron.get'),
      create: unexpected('cron.create'),
      update: unexpected('cron.update'),
      remove: unexpected('cron.remove'),
      execute: unexpected('cron.execute'),
      runs: unexpected('cron.runs'),
      ...limits,
    },
    obsidian: {
      commands: unexpected('obsidian.commands'),
      runCommand: unexpected('obsidian.runCommand'),
      assertEvalEnabled: unexpected('obsidian.assertEvalEnabled'),
      evaluate: unexpected('obsidian.evaluate'),
      tokenMatches: unexpected('obsidian.tokenMatches'),
      ...limits,
    },
    vault: { note: unexpected('vault.note'), search: unexpected('vault.search'), tags: unexpected('vault.tags'), tagged: unexpected('vault.tagged'), recent: unexpected('vault.recent'), daily: unexpected('vault.daily') },
    config: { view: unexpected('config.view'), update: unexpected('config.update'), ...limits },
    status: { status: unexpected('status.status') },
    web: {
      sessions: { issue: unexpected('web.sessions.issue'), fromCookie: unexpected('web.sessions.fromCookie'), mintCode: unexpected('web.sessions.mintCode'), consumeCode: unexpected('web.sessions.consumeCode') },
      tokenMatches: unexpected('web.tokenMatches'),
      publicUrl: null,
      host: '127.0.0.1',
      port: 7777,
      ...limits,
    },
  };
  for (const [key, value] of Object.entries(overrides)) Object.assign(deps[key as keyof RouteDeps], value);
  return deps;
}
