// What registering an instance needs to know about the others, kept up to date by observing
// the instance actors (O(1) per transition) instead of scanning them all: the display numbers
// in use per agent kind, and those of instances stopped within the reuse window, which are not
// given again until it has passed ("Claude #1" never names two rows on screen); how many live
// instances hold each profile slot; the live instances by transcript path and local pid
// (how a resumed or cleared session finds the instance it continues); and every instance id
// ever used, stopped ones included (an id derived from a session must not land on one).
// `observe` is subscribed to the instance actors' transitions by src/system/wiring.ts.
import { Heap } from 'heap-js';
import type { InstanceActors, InstanceSnapshot } from './instance-kind.js';

interface IndexedInstance {
  agentType: string;
  number: number;
  slot: number;
  transcriptPath: string | null;
  /** The local process id, or null when the pid is not this machine's. */
  localPid: number | null;
}

interface Holder {
  instanceId: string;
  /** Null while the instance is live; else when its number may be given to another. */
  until: number | null;
}

/** One agent kind's display numbers: held ones, and free ones below the highest ever given. */
class NumberSpace {
  private readonly holders = new Map<number, Holder>();
  /** The number each stopped instance still holds. */
  private readonly reserved = new Map<string, number>();
  private readonly free = new Heap<number>((a, b) => a - b);
  private readonly expiring = new Heap<{ number: number; until: number }>((a, b) => a.until - b.until);
  private high = 0;

  private claim(number: number, holder: Holder): void {
    this.holders.set(number, holder);
    for (let n = this.high + 1; n < number; n++) this.free.push(n);
    this.high = Math.max(this.high, number);
  }

  hold(number: number, instanceId: string): void {
    this.reserved.delete(instanceId);
    this.claim(number, { instanceId, until: null });
  }

  /** The instance stopped: its number stays its own until `until` (unless another live one holds it). */
  reserve(number: number, instanceId: string, until: number): void {
    const h = this.holders.get(number);
    if (h && h.instanceId !== instanceId) return;
    this.claim(number, { instanceId, until });
    this.reserved.set(instanceId, number);
    this.expiring.push({ number, until });
  }

  /**
   * A stopped instance coming back gets the number it still holds, else `preferred` (the number
   * it had) when nobody holds that one; others the lowest free one.
   */
  allocate(now: number, instanceId?: string, preferred?: number): number {
    const own = instanceId === undefined ? undefined : this.reserved.get(instanceId);
    if (own !== undefined && this.holders.get(own)?.instanceId === instanceId) return own;
    for (let e = this.expiring.peek(); e && e.until <= now; e = this.expiring.peek()) {
      this.expiring.pop();
      const h = this.holders.get(e.number);
      if (h && h.until !== null && h.until <= now) {
        this.holders.delete(e.number);
        this.reserved.delete(h.instanceId);
        this.free.push(e.number);
      }
    }
    if (preferred !== undefined && !this.holders.has(preferred)) return preferred;
    // The number is held once the instance's actor starts (hold); until then it stays free.
    for (let n = this.free.peek(); n !== undefined; n = this.free.peek()) {
      if (!this.holders.has(n)) return n;
      this.free.pop();
    }
    return this.high + 1;
  }
}

export interface InstanceIndexDeps {
  /** The live instances: read once at start, then followed through `observe`. */
  actors: Pick<InstanceActors, 'all' | 'has'>;
  now: () => number;
  /** How long a stopped instance's number is not given again. */
  reuseAfterMs: number;
  /** Profile slots in the pool. */
  slots: number;
}

export function createInstanceIndex(deps: InstanceIndexDeps) {
  const spaces = new Map<string, NumberSpace>();
  const live = new Map<string, IndexedInstance>();
  const slotUses = new Array<number>(Math.max(1, deps.slots)).fill(0);
  const byTranscript = new Map<string, string>();
  const byPid = new Map<number, string>();
  /** Instance ids in use, live or stopped (read at start, then claimed as instances are spawned). */
  const usedIds = new Set<string>();

  const space = (agentType: string) => {
    let s = spaces.get(agentType);
    if (!s) spaces.set(agentType, (s = new NumberSpace()));
    return s;
  };

  function unlink(id: string, i: IndexedInstance): void {
    if (i.transcriptPath !== null && byTranscript.get(i.transcriptPath) === id) byTranscript.delete(i.transcriptPath);
    if (i.localPid !== null && byPid.get(i.localPid) === id) byPid.delete(i.localPid);
  }

  function link(id: string, i: IndexedInstance): void {
    if (i.transcriptPath !== null) byTranscript.set(i.transcriptPath, id);
    if (i.localPid !== null) byPid.set(i.localPid, id);
  }

  function observe(id: string, snapshot: InstanceSnapshot): void {
    // An actor that failed may have no usable context.
    const ctx: InstanceSnapshot['context'] | undefined = snapshot.context;
    const before = live.get(id);
    const isLive = snapshot.status === 'active' && snapshot.value !== 'stopped' && ctx !== undefined;
    if (!isLive) {
      if (!before) return;
      live.delete(id);
      unlink(id, before);
      slotUses[before.slot % slotUses.length]! -= 1;
      space(before.agentType).reserve(before.number, id, (ctx?.stoppedAt ?? deps.now()) + deps.reuseAfterMs);
      return;
    }
    const now: IndexedInstance = {
      agentType: ctx.agentType,
      number: ctx.number,
      slot: ctx.profile.slot,
      transcriptPath: ctx.transcriptPath,
      localPid: ctx.pidLocal ? ctx.pid : null,
    };
    if (before && before.number === now.number && before.slot === now.slot && before.transcriptPath === now.transcriptPath && before.localPid === now.localPid) return;
    if (before) {
      unlink(id, before);
      slotUses[before.slot % slotUses.length]! -= 1;
    }
    live.set(id, now);
    link(id, now);
    slotUses[now.slot % slotUses.length]! += 1;
    space(now.agentType).hold(now.number, id);
  }

  for (const [id, snapshot] of deps.actors.all()) observe(id, snapshot);

  return {
    /** An instance actor transitioned (restored, failed or rolled back included). */
    observe,
    /** A stopped instance read at start: its number is not given again until the window has passed. */
    reserveStopped(agentType: string, number: number, instanceId: string, stoppedAt: number): void {
      if (stoppedAt + deps.reuseAfterMs > deps.now()) space(agentType).reserve(number, instanceId, stoppedAt + deps.reuseAfterMs);
    },
    /**
     * A display number for a new (or revived) instance; a revived one keeps its own while it still
     * holds it, or gets back `preferred` (its last number) when no other instance holds that.
     */
    number(agentType: string, instanceId?: string, preferred?: number): number {
      return space(agentType).allocate(deps.now(), instanceId, preferred);
    },
    /** How many live instances hold each profile slot. */
    slotUses(): readonly number[] {
      return slotUses;
    },
    /** Whether a live instance holds the profile slot. */
    slotHeld: (slot: number): boolean => (slotUses[slot % slotUses.length] ?? 0) > 0,
    /** Start-up: ids that instances (stopped ones included) already have. */
    useIds(ids: Iterable<string>): void {
      for (const id of ids) usedIds.add(id);
    },
    /** Whether an instance, live, starting or stopped, has the id. */
    idTaken: (id: string): boolean => usedIds.has(id) || deps.actors.has(id),
    /** An instance is being spawned with the id; the function returned gives it back when that spawn is not committed. */
    claimId(id: string): () => void {
      if (usedIds.has(id)) return () => undefined;
      usedIds.add(id);
      return () => usedIds.delete(id);
    },
    byTranscript: (path: string) => byTranscript.get(path) ?? null,
    byLocalPid: (pid: number) => byPid.get(pid) ?? null,
  };
}
