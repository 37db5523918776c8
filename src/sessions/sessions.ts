// The managed sessions service: starts an agent in a configured repository as a root actor
// plus its child process, sends prompts, cancels turns, stops, renames and forgets sessions,
// stores and streams what the agent prints. Every action is committed (with who asked) before
// it is answered. At start, headless sessions left from before are marked exited
// (server_restart); at stop, children get SIGTERM, then SIGKILL after the grace period.
import { randomBytes, randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { DomainError } from '../lib/domain-error.js';
import type { Database } from '../db/database.js';
import type { Writer } from '../db/writer.js';
import { activeSnapshotOf } from '../db/queries/snapshots.js';
import { forgetExitedSessionsOps, insertSessionOutputOp, managedSession, managedSessions, sessionOutput, upsertManagedSessionOp, type ManagedSessionRow } from '../db/queries/sessions.js';
import type { AccountConfig, RepoConfig, SessionsConfig } from '../config/sessions.js';
import type { ActionBy } from '../machines/session-context.js';
import { sessionContextSchema } from '../machines/session-context.js';
import type { Hub } from '../actors/runtime/root-machines.js';
import { checkSnapshot } from '../actors/runtime/snapshots.js';
import { createSessionKind } from './session-kind.js';
import { viewOfRow, type InstanceOfSession, type SessionView } from './session-view.js';
import { findExecutable } from './executable.js';
import { spawnHeadless } from './headless-child.js';
import { parseCodexLine, startCodex } from './codex-driver.js';
import type { DriverExit, SessionDriver } from './driver.js';
import type { Terminals } from './terminal.js';
import { runOneshot } from './oneshot.js';
import { parseLine, rateLimitOf, type OutputKind } from './stream-json.js';
import type { Accounts } from './accounts.js';

export interface SessionsDeps {
  hub: Hub;
  db: Database;
  writer: Writer;
  clock: Clock;
  logger: Logger;
  config: SessionsConfig;
  /** The environment children start from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Which account a session takes, and rate limits seen in output (none: no CLAUDE_CONFIG_DIR is set). */
  accounts?: Pick<Accounts, 'pick' | 'markLimited'>;
  /** Terminal sessions in tmux; absent: starting one answers 503. */
  terminals?: Terminals;
  /** The tmux executable (for the 503 when it is missing). */
  tmuxBin?: string;
  /** The agent sessions hooks and the Codex watcher found (live instances), for the read-only list. */
  liveInstances?: () => Promise<LiveInstance[]>;
  /** The instance an agent session id belongs to, when its hooks have reported it. */
  instanceOf?: InstanceOfSession;
}

export interface StartRequest {
  repo: string;
  name?: string;
  prompt?: string;
  agent?: 'claude' | 'codex';
  kind: 'headless' | 'terminal';
  /** An account id (config: accounts); default: the repository's, else the first not rate-limited. */
  account?: string;
  by: ActionBy;
}

export type { SessionView } from './session-view.js';

/** A live instance as the sessions list needs it. */
export interface LiveInstance {
  id: string;
  name: string;
  agent: string;
  sessionId: string;
  state: string;
  cwd: string | null;
}

/** An agent session token-api did not start (found by hooks or the Codex watcher): read-only. */
export interface ExternalSessionView {
  instance_id: string;
  name: string;
  agent: string;
  state: string;
  managed: false;
  claude_session_id: string;
  cwd: string | null;
  /** The configured repository it works in, if any. */
  repo: string | null;
}

export interface OutputMessage {
  /** Stored messages are numbered from 1 per session; streamed-only partial messages have seq null. */
  seq: number | null;
  at: string;
  kind: OutputKind;
  message: Record<string, unknown>;
}

export type OutputListener = (m: OutputMessage) => void;

interface Live {
  driver: SessionDriver;
  seq: number;
  listeners: Set<OutputListener>;
  stopRequested: boolean;
  /** A headless agent's start deadline: it must answer its initialize request by then. */
  startDeadline?: TimerHandle;
  /** It did not: stopped, and its exit says so. */
  startTimedOut?: boolean;
}

const newId = () => `ses-${randomBytes(6).toString('hex')}`;

export function createSessions(deps: SessionsDeps) {
  const { hub, clock, logger, config } = deps;
  const actors = hub.kind(createSessionKind());
  const live = new Map<string, Live>();
  const repos = new Map(config.repos.map((r) => [r.name, r]));

  const viewOf = (row: ManagedSessionRow): SessionView => viewOfRow(row, deps.instanceOf);

  async function rowOf(id: string): Promise<ManagedSessionRow> {
    const row = await managedSession(deps.db, id);
    if (!row) throw new DomainError('not_found', `no session ${id}; GET /api/sessions lists them`);
    return row;
  }

  /** The live session's state, or a 409 when it has exited (404 when unknown). */
  async function liveState(id: string): Promise<{ state: string; child: Live }> {
    const snapshot = actors.snapshot(id);
    const l = live.get(id);
    if (!snapshot || !l || snapshot.value === 'exited') {
      await rowOf(id);
      throw new DomainError('conflict', `session ${id} has exited; start a new one`);
    }
    return { state: String(snapshot.value), child: l };
  }

  function publish(id: string, l: Live, kind: OutputKind, message: Record<string, unknown>): void {
    const at = new Date(clock.now()).toISOString();
    let seq: number | null = null;
    if (kind !== 'partial' && kind !== 'control') {
      seq = ++l.seq;
      deps.writer.submit([insertSessionOutputOp({ session_id: id, seq, at, kind, json: JSON.stringify(message) })]).catch((err: unknown) => logger.warn({ err, session: id }, 'session output not stored'));
    }
    const m: OutputMessage = { seq, at, kind, message };
    for (const listener of l.listeners) {
      try {
        listener(m);
      } catch (err) {
        logger.warn({ err, session: id }, 'session output listener failed');
      }
    }
  }

  function onLine(id: string, line: string): void {
    const l = live.get(id);
    if (!l || line === '') return;
    const parsed = parseLine(line);
    publish(id, l, parsed.kind, parsed.message);
    const at = clock.now();
    if (parsed.kind === 'control' && parsed.requestId === 'init') {
      clock.clearTimeout(l.startDeadline);
      void fire(id, { type: 'session.ready', at });
    }
    if (parsed.kind === 'result') void fire(id, { type: 'session.result', at });
    const limit = rateLimitOf(parsed);
    const account = actors.snapshot(id)?.context.account ?? null;
    if (limit && account !== null && deps.accounts) {
      deps.accounts.markLimited(account, limit.resetsAt, limit.reason, id).catch((err: unknown) => logger.error({ err, account }, 'account limit not recorded'));
    }
  }

  function onExit(id: string, exit: DriverExit): void {
    const l = live.get(id);
    clock.clearTimeout(l?.startDeadline);
    const reason = l?.startTimedOut ? 'start_timeout' : l?.stopRequested ? 'stopped' : exit.code === 0 ? 'ended' : 'crashed';
    if (reason === 'crashed') logger.warn({ session: id, code: exit.code, signal: exit.signal, last: exit.lastLines.slice(-5) }, 'managed session exited');
    void fire(id, { type: 'session.exited', at: clock.now(), code: exit.code, signal: exit.signal, reason, lastLines: exit.lastLines.slice(-20) }).finally(() => {
      if (l) for (const listener of l.listeners) listener({ seq: null, at: new Date(clock.now()).toISOString(), kind: 'other', message: { type: 'exited', code: exit.code, signal: exit.signal, reason } });
      live.delete(id);
    });
  }

  /** Sends an event to a session actor; a failed commit is logged (the actor is rolled back). */
  function send(id: string, event: Parameters<typeof actors.send>[1], events: { type: string; details: Record<string, unknown> }[] = []) {
    const at = clock.now();
    return actors.send(id, event, { events: events.map((e) => ({ type: e.type, at, details: { session: id, ...e.details } })) }).catch((err: unknown) => {
      logger.error({ err, session: id, event: event.type }, 'session change not committed');
      throw err;
    });
  }

  /** The same, from a child's callback: nobody waits, and a failure is already logged, never thrown. */
  function fire(id: string, event: Parameters<typeof actors.send>[1]): Promise<void> {
    return send(id, event).then(
      () => undefined,
      () => undefined,
    );
  }

  function startHeadless(id: string, bin: string, env: NodeJS.ProcessEnv, repo: RepoConfig, claudeSessionId: string): SessionDriver {
    const child = spawnHeadless({
      bin,
      cwd: repo.path,
      // The hooks of the agent inherit this: its instance is linked to the session at once.
      env: { ...env, TOKEN_API_SESSION: id },
      claudeSessionId,
      permissionMode: repo.permissionMode,
      onLine: (line) => onLine(id, line),
      onExit: (exit) => onExit(id, exit),
    });
    return {
      kind: 'headless',
      pid: child.pid,
      send: async (text) => child.sendPrompt(text),
      cancel: async () => void child.interrupt(),
      stop: (graceMs) => child.stop(graceMs),
    };
  }

  function startCodexSession(id: string, bin: string, env: NodeJS.ProcessEnv, repo: RepoConfig): SessionDriver {
    return startCodex({
      bin,
      cwd: repo.path,
      permissionMode: repo.permissionMode,
      env: { ...env, TOKEN_API_SESSION: id },
      onLine(line) {
        const l = live.get(id);
        if (!l) return;
        const parsed = parseCodexLine(line);
        publish(id, l, parsed.kind, parsed.message);
        // The thread is the session's id in Codex's rollout: the instance the watcher makes of it is this session's.
        const thread = parsed.kind === 'init' ? parsed.message.thread_id : null;
        if (typeof thread === 'string' && thread !== actors.snapshot(id)?.context.claudeSessionId) void fire(id, { type: 'session.agent_session', sessionId: thread, at: clock.now() });
      },
      onTurnEnd(turn) {
        const l = live.get(id);
        if (l && !turn.completed) {
          // Cancelled (SIGINT) or failed: Codex printed no turn.completed; say how the turn ended.
          publish(id, l, 'other', { type: 'turn.ended', completed: false, code: turn.code, signal: turn.signal, stderr: turn.stderr });
        }
        void fire(id, { type: 'session.result', at: clock.now() });
      },
      onExit: (exit) => onExit(id, exit),
    });
  }

  async function startTerminal(id: string, bin: string, repo: RepoConfig, account: AccountConfig | null, claudeSessionId: string): Promise<SessionDriver> {
    const terminals = deps.terminals;
    if (!terminals || !findExecutable(deps.tmuxBin ?? 'tmux', (deps.env ?? process.env).PATH)) {
      throw new DomainError('not_running', 'terminal sessions run in tmux, which was not found; install it (apt install tmux, brew install tmux)');
    }
    // tmux keeps its own server environment: what the agent needs is passed to its pane.
    const env: Record<string, string> = { TOKEN_API_SESSION: id };
    if (account) env.CLAUDE_CONFIG_DIR = account.configDir;
    return terminals.start({ id, cwd: repo.path, env, command: [bin, '--session-id', claudeSessionId, '--permission-mode', repo.permissionMode], onExit: (exit) => onExit(id, exit) });
  }

  /** The claude executable, or a 503 saying what to install. */
  function claudeBin(env: NodeJS.ProcessEnv): string {
    const bin = findExecutable(config.sessions.claudeBin, env.PATH);
    if (!bin) throw new DomainError('not_running', `the claude executable (${config.sessions.claudeBin}) was not found; install Claude Code (npm install -g @anthropic-ai/claude-code) or set sessions.claude_bin in the config file`);
    return bin;
  }

  /** The codex executable, or a 503 saying what to install. */
  function codexBin(env: NodeJS.ProcessEnv): string {
    const bin = findExecutable(config.sessions.codexBin, env.PATH);
    if (!bin) throw new DomainError('not_running', `the codex executable (${config.sessions.codexBin}) was not found; install Codex (npm install -g @openai/codex) or set sessions.codex_bin in the config file`);
    return bin;
  }

  function accountNamed(name: string): AccountConfig {
    const a = config.accounts.find((x) => x.id === name);
    if (!a) throw new DomainError('not_found', `no account "${name}"; GET /api/accounts lists them (accounts in the config file)`, 'account');
    return a;
  }

  /** Restores a session actor from its snapshot; false when there is none or it fails its checks. */
  async function restoreActor(id: string): Promise<boolean> {
    const snap = await activeSnapshotOf(deps.db, id, 'session');
    const check = snap ? checkSnapshot(actors.kind.machine, sessionContextSchema, snap.snapshot, snap.machine_version) : null;
    if (!snap || !check?.ok) return false;
    try {
      actors.restore(id, check.snapshot, snap.snapshot);
      return true;
    } catch (err) {
      logger.warn({ err, session: id }, 'session snapshot could not be restored');
      return false;
    }
  }

  function repoOf(name: string): RepoConfig {
    const repo = repos.get(name);
    if (!repo) throw new DomainError('not_found', `no repository "${name}" is configured; GET /api/repos lists them (repos in the config file)`, 'repo');
    return repo;
  }

  async function start(req: StartRequest): Promise<SessionView> {
    const repo = repoOf(req.repo);
    let isDir = false;
    try {
      isDir = statSync(repo.path).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) throw new DomainError('conflict', `repository ${repo.name}'s path ${repo.path} is not a directory`, 'repo');
    const agent = req.agent ?? repo.agent;
    if (agent === 'codex' && req.kind === 'terminal') throw new DomainError('invalid', 'terminal sessions run claude; a Codex session is headless', 'kind');
    if (agent === 'codex' && req.account !== undefined) throw new DomainError('invalid', 'accounts are Claude Code config directories; a Codex session takes none', 'account');
    const env = { ...(deps.env ?? process.env) };
    const bin = agent === 'codex' ? codexBin(env) : claudeBin(env);
    const account = agent === 'codex' ? null : req.account !== undefined ? accountNamed(req.account) : (deps.accounts?.pick(repo) ?? null);
    if (account) env.CLAUDE_CONFIG_DIR = account.configDir;
    const id = newId();
    const claudeSessionId = randomUUID();
    const at = clock.now();
    await actors.spawn(
      id,
      { id, name: req.name ?? `${repo.name} ${id.slice(4, 8)}`, kind: req.kind, agent, repo: repo.name, cwd: repo.path, claudeSessionId, account: account?.id ?? null, at },
      { events: [{ type: 'session.started', at, details: { session: id, repo: repo.name, kind: req.kind, agent, account: account?.id ?? null, by: req.by } }] },
    );
    let driver: SessionDriver;
    try {
      driver =
        agent === 'codex' ? startCodexSession(id, bin, env, repo) : req.kind === 'terminal' ? await startTerminal(id, bin, repo, account, claudeSessionId) : startHeadless(id, bin, env, repo, claudeSessionId);
    } catch (err) {
      logger.error({ err, session: id }, 'the agent could not be started');
      await send(id, { type: 'session.exited', at: clock.now(), code: null, signal: null, reason: 'crashed', lastLines: [(err as Error).message] });
      throw new DomainError('not_running', `the agent could not be started: ${(err as Error).message}`);
    }
    const l: Live = { driver, seq: 0, listeners: new Set(), stopRequested: false };
    live.set(id, l);
    if (driver.kind === 'headless' && agent !== 'codex') {
      // An agent that never answers (a wedged install, a login screen on stdin) is not left
      // "starting" for ever: stopped, with the reason in its exit and the last lines it printed.
      l.startDeadline = clock.setTimeout(() => {
        if (live.get(id) !== l) return;
        l.startTimedOut = true;
        logger.warn({ session: id, timeout_ms: config.sessions.startTimeoutMs }, 'managed session did not answer its initialize request; stopping it');
        void driver.stop(config.sessions.stopGraceMs);
      }, config.sessions.startTimeoutMs);
    }
    if (driver.pid > 0) await send(id, { type: 'session.spawned', pid: driver.pid, at: clock.now() });
    // Codex runs a process per prompt: the session is ready at once.
    if (agent === 'codex') await send(id, { type: 'session.ready', at: clock.now() });
    if (driver.kind === 'terminal') {
      await send(id, { type: 'session.ready', at: clock.now() });
      // Type the first prompt once the agent shows its prompt, never blindly into a start-up screen.
      if (req.prompt !== undefined) {
        const screen = await deps.terminals!.waitForScreen(id, config.sessions.terminalReadyMs);
        if (screen.kind === 'question') throw asking(id, screen.question, 'started, but');
        if (screen.kind !== 'prompt') throw new DomainError('conflict', `session ${id} started, but its screen never showed the agent's prompt (a first-run screen?); ${attachHint(id)} to answer it, then send the prompt`);
      }
    }
    if (req.prompt !== undefined) await sendPrompt(id, req.prompt, req.by);
    return get(id);
  }

  async function sendPrompt(id: string, text: string, by: ActionBy): Promise<void> {
    const { child } = await liveState(id);
    // A terminal agent asking a question (trust this folder? allow this tool?) takes typed text
    // and Enter as its answer: the prompt waits for a person to answer it.
    if (child.driver.kind === 'terminal') {
      const screen = await deps.terminals!.screenNow(id);
      if (screen.kind === 'question') throw asking(id, screen.question, 'was not sent the prompt:');
    }
    if (!(await child.driver.send(text))) throw new DomainError('conflict', `session ${id} is exiting; start a new one`);
    await send(id, { type: 'session.send', at: clock.now(), by }, [{ type: 'session.prompt_sent', details: { by, bytes: Buffer.byteLength(text) } }]);
  }

  /** How a person reaches a terminal session's screen. */
  const attachHint = (id: string) => `attach with ${deps.terminals?.attachCommand(id) ?? 'tmux'}`;
  /** A terminal agent waits on a question only a person should answer. */
  const asking = (id: string, question: string, what: string) =>
    new DomainError('conflict', `session ${id} ${what} the agent asks: "${question}"; ${attachHint(id)} and answer it, then send the prompt`);

  async function get(id: string): Promise<SessionView> {
    return viewOf(await rowOf(id));
  }

  return {
    /** A session this token-api holds, as an instance whose hooks forward its id is marked: its id and kind (null: unknown). */
    managedOf(id: string): { session: string; kind: 'headless' | 'terminal' } | null {
      const snapshot = actors.snapshot(id);
      return snapshot ? { session: id, kind: snapshot.context.kind } : null;
    },
    repos: () => config.repos.map((r) => ({ name: r.name, path: r.path, agent: r.agent, permission_mode: r.permissionMode })),
    list: async (): Promise<SessionView[]> => (await managedSessions(deps.db)).map(viewOf),
    /** Live agent sessions token-api did not start, with the configured repository each works in. */
    async external(): Promise<ExternalSessionView[]> {
      const managed = new Set((await managedSessions(deps.db)).map((r) => r.claude_session_id));
      const inRepo = (cwd: string | null) => (cwd === null ? null : (config.repos.find((r) => cwd === r.path || cwd.startsWith(`${r.path}/`))?.name ?? null));
      return (await (deps.liveInstances?.() ?? Promise.resolve([])))
        .filter((i) => !managed.has(i.sessionId))
        .map((i) => ({ instance_id: i.id, name: i.name, agent: i.agent, state: i.state, managed: false as const, claude_session_id: i.sessionId, cwd: i.cwd, repo: inRepo(i.cwd) }));
    },
    get,
    /** A page of what the session printed, after `after` (a seq), oldest first. */
    async output(id: string, after: number, limit: number): Promise<{ messages: OutputMessage[]; next_after: number | null }> {
      await rowOf(id);
      const rows = await sessionOutput(deps.db, id, after, limit + 1);
      const more = rows.length > limit;
      const page = rows.slice(0, limit);
      return {
        messages: page.map((r) => ({ seq: r.seq, at: r.at, kind: r.kind as OutputKind, message: JSON.parse(r.json) as Record<string, unknown> })),
        next_after: more ? page[page.length - 1]!.seq : null,
      };
    },
    start,
    send: sendPrompt,
    /** A one-shot `claude -p` in the session's repository and account; the agent's result. */
    async oneshot(id: string, prompt: string, by: ActionBy): Promise<{ session: string; exit_code: number | null; result: Record<string, unknown> }> {
      const row = await rowOf(id);
      if (row.agent !== 'claude') throw new DomainError('conflict', `one-shot prompts run claude -p; session ${id} runs ${row.agent}`);
      const repo = repoOf(row.repo);
      const env: NodeJS.ProcessEnv = { ...(deps.env ?? process.env), TOKEN_API_SESSION: id };
      if (row.account !== null) env.CLAUDE_CONFIG_DIR = accountNamed(row.account).configDir;
      const bin = claudeBin(env);
      await hub.record({ events: [{ type: 'session.oneshot_sent', at: clock.now(), details: { session: id, by, bytes: Buffer.byteLength(prompt) } }] });
      const r = await runOneshot({ bin, cwd: repo.path, env, prompt, permissionMode: repo.permissionMode, timeoutMs: config.sessions.oneshotTimeoutMs });
      if (r.timedOut) throw new DomainError('not_running', `the one-shot prompt took longer than ${config.sessions.oneshotTimeoutMs / 1000} s (sessions.oneshot_timeout_seconds) and was stopped`);
      if (!r.result) throw new DomainError('not_running', `claude printed no result (exit ${r.code ?? r.signal}): ${r.stderr.join(' | ').slice(0, 500)}`);
      return { session: id, exit_code: r.code, result: r.result };
    },
    async cancel(id: string, by: ActionBy): Promise<SessionView> {
      const { state, child } = await liveState(id);
      // A terminal session's turn is its instance's business: Escape is harmless at its prompt.
      const cancellable = child.driver.kind === 'terminal' ? state !== 'starting' : state === 'busy' || state === 'cancelling';
      if (!cancellable) throw new DomainError('conflict', `session ${id} is ${state}: no turn to cancel`);
      await child.driver.cancel();
      await send(id, { type: 'session.cancel', at: clock.now(), by }, [{ type: 'session.cancel_sent', details: { by } }]);
      return get(id);
    },
    /** Stops the session's agent (SIGTERM, then SIGKILL) and answers once its exit is committed. */
    async stop(id: string, by: ActionBy): Promise<SessionView> {
      const row = await rowOf(id);
      const l = live.get(id);
      if (row.state === 'exited' || !l) return viewOf(row);
      l.stopRequested = true;
      await send(id, { type: 'session.stop', at: clock.now(), by }, [{ type: 'session.stop_sent', details: { by } }]);
      await l.driver.stop(config.sessions.stopGraceMs);
      await hub.flush();
      return get(id);
    },
    async rename(id: string, name: string, by: ActionBy): Promise<SessionView> {
      const row = await rowOf(id);
      if (row.state === 'exited' || !actors.has(id)) throw new DomainError('conflict', `session ${id} has exited; it keeps its name`);
      await send(id, { type: 'session.rename', name, at: clock.now() }, [{ type: 'session.renamed', details: { by, from: row.name, to: name } }]);
      return get(id);
    },
    /** Forgets exited sessions (their rows, output and snapshots); returns their ids. */
    async cleanup(by: ActionBy): Promise<string[]> {
      const ids = (await managedSessions(deps.db)).filter((r) => r.state === 'exited' && !live.has(r.id)).map((r) => r.id);
      if (ids.length === 0) return [];
      await hub.record({ ops: forgetExitedSessionsOps(ids), events: [{ type: 'session.cleaned_up', at: clock.now(), details: { sessions: ids, by } }] });
      return ids;
    },
    /** Live output of a session; null when it is not running. */
    subscribe(id: string, listener: OutputListener): (() => void) | null {
      const l = live.get(id);
      if (!l) return null;
      l.listeners.add(listener);
      const unwatch = l.driver.watchScreen?.((screen) => listener({ seq: null, at: new Date(clock.now()).toISOString(), kind: 'screen', message: { screen } }));
      return () => {
        l.listeners.delete(listener);
        unwatch?.();
      };
    },
    /** At start: headless sessions the last run left are marked exited (their children died with it or were orphaned). */
    async restore(): Promise<number> {
      let n = 0;
      for (const row of await managedSessions(deps.db)) {
        if (row.state === 'exited') continue;
        const pane =
          row.kind === 'terminal' && deps.terminals
            ? await deps.terminals.find(row.id).catch((err: unknown) => {
                logger.warn({ err, session: row.id }, 'tmux could not be asked for the pane of a terminal session; it is marked exited (the pane, if alive, can still be attached)');
                return null;
              })
            : null;
        if (pane && deps.terminals && (await restoreActor(row.id))) {
          // Still running in tmux: watched again, as before the restart.
          live.set(row.id, { driver: deps.terminals.adopt(row.id, pane.pid, (exit) => onExit(row.id, exit)), seq: 0, listeners: new Set(), stopRequested: false });
          continue;
        }
        n += 1;
        const exited = { type: 'session.exited' as const, at: clock.now(), code: null, signal: null, reason: 'server_restart' as const, lastLines: [] };
        if (actors.has(row.id) || (await restoreActor(row.id))) {
          await actors.send(row.id, exited);
          continue;
        }
        await hub.record({
          ops: [upsertManagedSessionOp({ ...row, state: 'exited', pid: null, exit_reason: 'server_restart', updated_at: new Date(clock.now()).toISOString() })],
          events: [{ type: 'session.exited', at: clock.now(), details: { session: row.id, reason: 'server_restart' } }],
        });
      }
      if (n > 0) logger.info({ sessions: n }, 'managed sessions from the last run marked exited');
      return n;
    },
    /** Stops every headless child (SIGTERM to each process group, SIGKILL after the grace period); terminal sessions keep running in tmux. */
    async stopAll(): Promise<void> {
      await deps.terminals?.close();
      await Promise.all(
        [...live.entries()].filter(([, l]) => l.driver.kind === 'headless').map(async ([id, l]) => {
          l.stopRequested = true;
          await l.driver.stop(config.sessions.stopGraceMs).catch((err: unknown) => logger.warn({ err, session: id }, 'stopping a session failed'));
        }),
      );
      await hub.flush();
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
