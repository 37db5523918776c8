// The approval machine alone: pending until a decision, the deadline (injected clock), the
// session going on, or the hook going away; a policy's answer starts it decided; final states
// ignore later events; a persist -> JSON -> restore round trip keeps the same deadline.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActor } from 'xstate';
import { createDeadlineTimer } from '../src/actors/mode-gate/deadline-timer.js';
import { checkSnapshot } from '../src/actors/runtime/snapshots.js';
import { approvalContextSchema, type ApprovalEvent, type ApprovalInput } from '../src/machines/approval-context.js';
import { approvalMachine } from '../src/machines/approval.js';
import { matchPolicy } from '../src/approvals/policies.js';
import { createLinkSigner } from '../src/approvals/links.js';
import { FakeClock } from './support/clock.js';

type NoTime<E> = E extends unknown ? Omit<E, 'at'> : never;
const machineOn = (clock: FakeClock) => approvalMachine.provide({ actors: { approvalTimer: createDeadlineTimer(clock, 'approval.expiry_due') } });

function input(clock: FakeClock, extra: Partial<ApprovalInput> = {}): ApprovalInput {
  return { id: 'a1', instanceId: 'claude-s', sessionId: 's', toolName: 'Bash', toolInput: '{"command":"ls"}', summary: 'ls', cwd: '/w', project: 'w', createdAt: clock.now(), expiresAt: clock.now() + 120_000, ...extra };
}

function start(clock = new FakeClock(), extra: Partial<ApprovalInput> = {}) {
  const actor = createActor(machineOn(clock), { input: input(clock, extra) });
  actor.start();
  const send = (e: NoTime<ApprovalEvent>) => actor.send({ ...e, at: clock.now() } as ApprovalEvent);
  return { clock, actor, send, state: () => actor.getSnapshot().value };
}

describe('approval machine', () => {
  it('a decision ends it, with who decided; later events change nothing', () => {
    const { send, state, actor } = start();
    assert.equal(state(), 'pending');
    send({ type: 'approval.decide', behavior: 'deny', message: 'no', by: 'link', ruleId: null });
    assert.equal(state(), 'decided');
    assert.deepEqual({ ...actor.getSnapshot().context.decision, at: 0 }, { behavior: 'deny', message: 'no', by: 'link', ruleId: null, at: 0 });
    send({ type: 'approval.decide', behavior: 'allow', message: null, by: 'token', ruleId: null });
    send({ type: 'approval.answered_elsewhere', how: 'x' });
    assert.equal(actor.getSnapshot().context.decision?.behavior, 'deny');
    assert.equal(actor.getSnapshot().status, 'done');
  });

  it('expires at its deadline, not before', () => {
    const { clock, state, actor } = start();
    clock.advance(119_999);
    assert.equal(state(), 'pending');
    clock.advance(1);
    assert.equal(state(), 'expired');
    assert.equal(actor.getSnapshot().context.resolution?.how, 'timeout');
  });

  it('answered elsewhere and withdrawn say how', () => {
    const a = start();
    a.send({ type: 'approval.answered_elsewhere', how: 'session_working' });
    assert.deepEqual([a.state(), a.actor.getSnapshot().context.resolution?.how], ['answered_elsewhere', 'session_working']);
    const b = start();
    b.send({ type: 'approval.withdrawn', reason: 'hook_gone' });
    assert.deepEqual([b.state(), b.actor.getSnapshot().context.resolution?.how], ['withdrawn', 'hook_gone']);
  });

  it("a policy's answer starts it decided", () => {
    const clock = new FakeClock();
    const { state, actor } = start(clock, { decision: { behavior: 'allow', message: null, by: 'policy', ruleId: 'reads', at: clock.now() } });
    assert.equal(state(), 'decided');
    assert.equal(actor.getSnapshot().context.decision?.ruleId, 'reads');
  });

  it('persist -> JSON -> restore: still pending, and it expires at the same deadline', () => {
    const clock = new FakeClock();
    const { actor } = start(clock);
    clock.advance(30_000);
    const json = JSON.stringify(actor.getPersistedSnapshot());
    actor.stop();
    const check = checkSnapshot(approvalMachine, approvalContextSchema, json, approvalMachine.version!);
    assert.ok(check.ok, check.ok ? '' : check.reason);
    const restored = createActor(machineOn(clock), { snapshot: check.snapshot as never, input: undefined as never });
    restored.start();
    assert.equal(restored.getSnapshot().value, 'pending');
    clock.advance(89_999);
    assert.equal(restored.getSnapshot().value, 'pending');
    clock.advance(1);
    assert.equal(restored.getSnapshot().value, 'expired');
  });
});

describe('approval policies and links', () => {
  const rules = [
    { id: 'read-src', tool: 'Read', cwd: '/home/u/src/*', behavior: 'allow' as const, message: null },
    { id: 'no-rm', tool: 'Bash(rm -rf *)', cwd: null, behavior: 'deny' as const, message: 'no' },
    { id: 'mcp', tool: 'mcp__github__*', cwd: null, behavior: 'allow' as const, message: null },
  ];
  it('the first rule whose tool, input pattern and directory match answers', () => {
    assert.equal(matchPolicy(rules, { toolName: 'Read', toolInput: { file_path: '/x' }, cwd: '/home/u/src/app' })?.id, 'read-src');
    assert.equal(matchPolicy(rules, { toolName: 'Read', toolInput: { file_path: '/x' }, cwd: '/home/u/other' }), null);
    assert.equal(matchPolicy(rules, { toolName: 'Read', toolInput: {}, cwd: null }), null);
    assert.equal(matchPolicy(rules, { toolName: 'Bash', toolInput: { command: 'rm -rf /' }, cwd: null })?.id, 'no-rm');
    assert.equal(matchPolicy(rules, { toolName: 'Bash', toolInput: { command: `rm -rf ${'x'.repeat(500)}` }, cwd: null })?.id, 'no-rm', 'the whole command, not a summary');
    assert.equal(matchPolicy(rules, { toolName: 'Bash', toolInput: { command: 'ls; rm -rf /' }, cwd: null }), null);
    assert.equal(matchPolicy(rules, { toolName: 'Bash', toolInput: { command: 'rm -rf.' }, cwd: null }), null);
    assert.equal(matchPolicy(rules, { toolName: 'mcp__github__create_issue', toolInput: {}, cwd: null })?.id, 'mcp');
    assert.equal(matchPolicy(rules, { toolName: 'ReadX', toolInput: {}, cwd: '/home/u/src/a' }), null, 'names match whole');
  });

  it('a link verifies only as signed, for its approval and answer, until it expires', () => {
    const signer = createLinkSigner(Buffer.alloc(32, 7));
    const other = createLinkSigner(Buffer.alloc(32, 8));
    const t = signer.sign({ approvalId: 'a1', behavior: 'deny', expiresAt: 10_000 });
    assert.deepEqual(signer.verify(t, 9_000), { ok: true, claim: { approvalId: 'a1', behavior: 'deny', expiresAt: 10_000 } });
    assert.equal(signer.verify(t, 10_001).ok, false, 'expired');
    assert.equal(other.verify(t, 9_000).ok, false, 'another secret');
    const [payload, sig] = t.split('.');
    const forged = Buffer.from(JSON.stringify(['a1', 'allow', 10, 'x'])).toString('base64url');
    assert.equal(signer.verify(`${forged}.${sig}`, 9_000).ok, false, 'a changed payload');
    assert.equal(signer.verify(`${payload}`, 9_000).ok, false);
    assert.equal(signer.verify(`${payload}.${sig}.x`, 9_000).ok, false);
  });
});
