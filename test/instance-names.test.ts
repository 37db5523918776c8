// Which agent is it: display numbers are not given again while an instance of that name was
// active within the reuse window (across restarts too), default terminal titles never become
// names, and every instance has a project (its git repository's name, or its directory's).
// Real SQLite, real HTTP, an injected clock, real directories for the git lookup.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createInstanceIndex } from '../src/actors/instances/instance-index.js';
import { createProjectResolver, lastPart } from '../src/lib/project-name.js';
import { displayName, isNameworthyTitle } from '../src/machines/instance-context.js';
import { FakeClock } from './support/clock.js';
import { hookPayload, startTestServer, tempHome, type TestServer } from './support/system.js';

const MIN = 60_000;

describe('terminal titles as names', () => {
  it('never takes a default title (a shell, the agent, a multiplexer, a path, user@host, a session id)', () => {
    for (const t of ['claude', 'Claude', 'node', 'bash', 'zsh', '-zsh', 'sh', 'tmux', 'ssh', 'fish', 'pwsh', 'cmd.exe', '/home/u/src/api', '~/src/api', './api', 'C:\\src\\api', 'u@desktop: ~/src', 'dev@box', '6f1c3c1e-2b1a-4c3e-9d7e-0a1b2c3d4e5f', '  ', '']) {
      assert.equal(isNameworthyTitle(t), false, t);
      assert.equal(displayName({ tabName: t, number: 4, agentType: 'claude' }), 'Claude #4', t);
    }
    for (const t of ['api-refactor', 'blog', 'fix login', 'feat/login']) assert.equal(displayName({ tabName: t, number: 4, agentType: 'claude' }), t);
    assert.equal(displayName({ tabName: 'bash', number: 2, agentType: 'codex' }), 'Codex #2');
  });
});

describe('projects', () => {
  it('is the repository of the working directory, else its last part', () => {
    const h = tempHome();
    try {
      const repo = join(h.dir, 'api');
      mkdirSync(join(repo, '.git'), { recursive: true });
      mkdirSync(join(repo, 'packages', 'server'), { recursive: true });
      const worktree = join(h.dir, 'api-wt');
      mkdirSync(join(worktree, 'src'), { recursive: true });
      writeFileSync(join(worktree, '.git'), `gitdir: ${repo}/.git/worktrees/api-wt\n`);
      const projectOf = createProjectResolver({ home: h.dir });
      assert.equal(projectOf(join(repo, 'packages', 'server')), 'api');
      assert.equal(projectOf(repo), 'api');
      assert.equal(projectOf(join(worktree, 'src')), 'api-wt');
      assert.equal(projectOf('/not/on/this/machine/blog'), 'blog');
      assert.equal(projectOf('C:\\Users\\me\\src\\shop'), 'shop');
      assert.equal(projectOf(null), null);
      // A repository at the home folder (dotfiles) names no project.
      mkdirSync(join(h.dir, '.git'));
      mkdirSync(join(h.dir, 'notes'));
      assert.equal(createProjectResolver({ home: h.dir })(join(h.dir, 'notes')), 'notes');
      assert.equal(lastPart('/'), null);
    } finally {
      h.cleanup();
    }
  });
});

/** No live instance actors: the index as it is before any instance starts. */
const NO_ACTORS = { all: () => new Map<string, never>().entries(), has: () => false };

describe('instance index', () => {
  it('gives the lowest free number, holds a stopped one for the window, and gives a revived instance its own back', () => {
    let now = 0;
    const index = createInstanceIndex({ actors: NO_ACTORS, now: () => now, reuseAfterMs: 60 * MIN, slots: 4 });
    index.reserveStopped('claude', 1, 'old', -10 * MIN);
    index.reserveStopped('claude', 3, 'older', -61 * MIN);
    assert.equal(index.number('claude'), 2, '1 was active 10 minutes ago; 3 over an hour ago is not held');
    assert.equal(index.number('claude', 'old'), 1, 'the stopped instance coming back keeps its number');
    assert.equal(index.number('codex'), 1, 'each agent kind counts on its own');
    now = 51 * MIN;
    assert.equal(index.number('claude'), 1, 'free again once the window has passed');
  });

  it('knows every instance id in use, stopped ones read at start, and gives back the id of a spawn that was not committed', () => {
    const index = createInstanceIndex({ actors: NO_ACTORS, now: () => 0, reuseAfterMs: 60 * MIN, slots: 4 });
    index.useIds(['claude-stopped']);
    assert.equal(index.idTaken('claude-stopped'), true);
    assert.equal(index.idTaken('claude-new'), false);
    const release = index.claimId('claude-new');
    assert.equal(index.idTaken('claude-new'), true, 'taken while its spawn commits');
    release();
    assert.equal(index.idTaken('claude-new'), false, 'free again when the spawn failed');
    index.claimId('claude-stopped')();
    assert.equal(index.idTaken('claude-stopped'), true, 'an id already in use is not given back by a failed spawn');
  });
});

describe('names and projects in the running system', () => {
  let home: ReturnType<typeof tempHome>;
  let clock: FakeClock;
  let s: TestServer | undefined;

  beforeEach(() => {
    home = tempHome();
    clock = new FakeClock();
  });
  afterEach(async () => {
    await s?.close();
    s = undefined;
    home.cleanup();
  });

  it('does not give a name again within name_reuse_minutes, across a restart, and keeps a revived instance its name', async () => {
    const file = { name_reuse_minutes: 30 };
    s = await startTestServer(home.dir, file, { clock });
    const phone = await s.hook(hookPayload('on-phone', 'SessionStart', { source: 'startup' }));
    assert.equal(phone.body.instance.display_name, 'Claude #1');
    clock.advance(MIN);
    await s.hook(hookPayload('on-phone', 'SessionEnd', { reason: 'exit' }));
    await s.close();

    s = await startTestServer(home.dir, file, { clock });
    clock.advance(MIN);
    const desktop = await s.hook(hookPayload('on-desktop', 'SessionStart', { source: 'startup' }));
    assert.equal(desktop.body.instance.display_name, 'Claude #2', 'Claude #1 stopped 1 minute ago: two rows would read "Claude #1"');
    // The stopped session starting again is the same instance, with its own name.
    const back = await s.hook(hookPayload('on-phone', 'SessionStart', { source: 'startup' }));
    assert.equal(back.body.instance.id, phone.body.instance.id);
    assert.equal(back.body.instance.display_name, 'Claude #1');
    await s.hook(hookPayload('on-phone', 'SessionEnd', { reason: 'exit' }));

    clock.advance(31 * MIN);
    const later = await s.hook(hookPayload('later', 'SessionStart', { source: 'startup' }));
    assert.equal(later.body.instance.display_name, 'Claude #1');
  });

  it('ignores default terminal titles and shows the project in the instance list and its details', async () => {
    s = await startTestServer(home.dir, {}, { clock });
    const repo = join(home.dir, 'src', 'api');
    mkdirSync(join(repo, '.git'), { recursive: true });
    mkdirSync(join(repo, 'web'), { recursive: true });
    await s.hook(hookPayload('t1', 'SessionStart', { source: 'startup', cwd: join(repo, 'web') }), '?tab_name=bash');
    await s.hook(hookPayload('t2', 'SessionStart', { source: 'startup', cwd: '/srv/elsewhere/blog' }), '?tab_name=blog-posts');
    const list = (await s.request('GET', '/api/instances')).body.instances as { session_id: string; display_name: string; project: string; tab_name: string }[];
    const t1 = list.find((i) => i.session_id === 't1')!;
    const t2 = list.find((i) => i.session_id === 't2')!;
    assert.equal(t1.display_name, 'Claude #1');
    assert.equal(t1.tab_name, 'bash');
    assert.equal(t1.project, 'api');
    assert.equal(t2.display_name, 'blog-posts');
    assert.equal(t2.project, 'blog');
    // The project follows the working directory.
    const moved = await s.hook(hookPayload('t1', 'UserPromptSubmit', { cwd: '/srv/elsewhere/shop' }));
    assert.equal(moved.body.instance.project, 'shop');
    const one = await s.request('GET', `/api/instances/${t1.session_id === 't1' ? moved.body.instance.id : ''}`);
    assert.equal(one.body.project, 'shop');
  });
});
