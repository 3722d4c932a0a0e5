/**
 * A deterministic model of the host scheduler that places vCPU threads on
 * harts (RISC-V) or PEs (Arm): per-hart run queues, affinity masks, placement
 * on wake-up, time-slice preemption, periodic load balancing, migration, and
 * harts going offline and back.
 *
 * It follows the shape of Linux's fair class without its arithmetic
 * (kernel/sched/fair.c; kernel/sched/core.c):
 * - wake-up placement (select_task_rq_fair → select_idle_sibling): the hart
 *   the thread last ran on if it is idle and allowed; else an idle allowed
 *   hart, searched from there upwards (wrapping); else the last hart if still
 *   allowed; else the allowed hart with the shortest queue.
 * - preemption: with others waiting, the running thread yields after one
 *   time slice (3 ms by default, in the range of sched_latency_ns / nr_running
 *   for a few tasks) and goes to the back of its queue: equal weights, so a
 *   FIFO rotation stands in for vruntime order.
 * - load balancing (run_rebalance_domains): every balance interval, a queued
 *   thread on a hart with more than one runnable thread is pulled to an idle
 *   allowed hart, or to one whose load is lower by at least two.
 * - sched_setaffinity: a thread on a hart no longer allowed is moved at once
 *   (migration_cpu_stop).
 * - hotplug: an offline hart's threads move elsewhere; a thread with no online
 *   hart left in its mask gets every online hart (select_fallback_rq's
 *   "no longer affine to cpuN").
 * Knowing nothing of VS-files is the point: the seed 000 thread is about what
 * a scheduler like this does to a resource it cannot see.
 *
 * Everything runs on the simulation's event queue; the same calls give the
 * same placement trace. Observers hear every switch and migration, which is
 * where KVM's vcpu_load/vcpu_put and VS-file allocation hook in.
 */

import { Bitmap, ConfigError, TraceState, type EventQueue, type Nanoseconds, type Tracer, type TrackId } from "@irqlab/sim";
import { SchedulerThread, type CreatedThread, type HostThread, type MutableHostThread, type ThreadClock } from "./host-thread.js";

/** Options of a {@link HostScheduler}. */
export interface HostSchedulerOptions {
  /** Number of harts (1..4096). */
  readonly harts: number;
  /** Time slice before a running thread yields to a waiting one (default 3 ms). */
  readonly timeSlice?: Nanoseconds;
  /** Period of load balancing (default 4 ms); 0 disables it. */
  readonly balanceInterval?: Nanoseconds;
  /** Tracer for switch and migration events (optional). */
  readonly tracer?: Tracer;
}

/** Something that wants to hear what the scheduler does. */
export interface SchedulerObserver {
  /** `next` starts running on `hart` (vcpu_load); `prev` stopped there (vcpu_put), if any. */
  onSwitch?(hart: number, prev: HostThread | undefined, next: HostThread | undefined): void;
  /** `thread` moved from hart `from` to hart `to` (it is not running at that moment). */
  onMigrate?(thread: HostThread, from: number, to: number): void;
}

/** Why a placement was chosen, for traces and tests. */
export type PlacementReason = "prev-idle" | "idle" | "prev" | "least-loaded";

/** The scheduler of one host. */
export class HostScheduler {
  readonly hartCount: number;
  readonly #queue: EventQueue;
  readonly #timeSlice: Nanoseconds;
  readonly #balanceInterval: Nanoseconds;
  readonly #tracer: Tracer | undefined;
  readonly #tracks: TrackId[] = [];
  // Per hart, what runs there: the host CPU tracks of a trace.
  readonly #cpuStates: TraceState[] = [];
  readonly #observers: SchedulerObserver[] = [];

  readonly #threads: MutableHostThread[] = [];
  readonly #clock: ThreadClock = { times: new Float64Array(64) };
  readonly #current: Int32Array; // tid running on each hart, -1 idle
  readonly #runq: number[][]; // queued tids per hart, FIFO
  readonly #sliceEvent: Float64Array; // pending slice-end event id per hart, -1 none
  readonly #sliceArg: { readonly self: HostScheduler; readonly hart: number }[];
  readonly #online: Bitmap;
  readonly #idle: Bitmap; // online harts with nothing running
  readonly #all: Bitmap;
  #balanceEvent = -1;
  // Why #selectHart chose its last hart (a result field: no tuple made per wake-up).
  #placedBy: PlacementReason = "idle";
  // setAffinity's mask, built and checked here before the thread's own is changed.
  readonly #newMask: Bitmap;
  /** Scheduling events handled (wake, sleep, switch, migration), for benchmarks. */
  events = 0;

  constructor(queue: EventQueue, options: HostSchedulerOptions) {
    const n = options.harts;
    if (!Number.isInteger(n) || n < 1 || n > 4096) throw new ConfigError(`hart count ${n} is not in 1..4096`);
    this.hartCount = n;
    this.#queue = queue;
    this.#timeSlice = options.timeSlice ?? 3_000_000;
    this.#balanceInterval = options.balanceInterval ?? 4_000_000;
    if (!(this.#timeSlice > 0)) throw new ConfigError(`time slice ${this.#timeSlice} ns is not positive`);
    if (!(this.#balanceInterval >= 0)) throw new ConfigError(`balance interval ${this.#balanceInterval} ns is negative`);
    this.#tracer = options.tracer;
    this.#current = new Int32Array(n).fill(-1);
    this.#runq = Array.from({ length: n }, () => []);
    this.#sliceEvent = new Float64Array(n).fill(-1);
    this.#sliceArg = Array.from({ length: n }, (_, hart) => ({ self: this, hart }));
    this.#online = new Bitmap(n);
    this.#idle = new Bitmap(n);
    this.#all = new Bitmap(n);
    this.#newMask = new Bitmap(n);
    for (let h = 0; h < n; h++) {
      this.#online.set(h);
      this.#idle.set(h);
      this.#all.set(h);
      if (this.#tracer) {
        const track = this.#tracer.track("host", `cpu${h}`, "host-cpu");
        this.#tracks.push(track);
        this.#cpuStates.push(new TraceState(this.#tracer, track, "sched"));
      }
    }
  }

  /** Whether the scheduler has a tracer: it then draws the host CPU tracks (who runs on each hart). */
  get traced(): boolean {
    return this.#tracer !== undefined;
  }

  /** Registers an observer of switches and migrations. */
  observe(observer: SchedulerObserver): void {
    this.#observers.push(observer);
  }

  /** Creates a sleeping thread allowed on `affinity` (default: every hart). */
  createThread(name: string, affinity?: readonly number[]): CreatedThread {
    const tid = this.#threads.length;
    const clock = this.#clock;
    if (2 * tid + 2 > clock.times.length) {
      const bigger = new Float64Array(clock.times.length * 2);
      bigger.set(clock.times);
      clock.times = bigger;
    }
    const t = new SchedulerThread(tid, name, this.#all, clock);
    this.#threads.push(t);
    if (affinity) t.affinity = this.#mask(affinity, name);
    return t;
  }

  /** A thread by tid. */
  thread(tid: number): HostThread {
    const t = this.#threads[tid];
    if (!t) throw new ConfigError(`no host thread with tid ${tid}`);
    return t;
  }

  /** The thread running on `hart`, if any. */
  currentOn(hart: number): HostThread | undefined {
    const tid = this.#current[hart];
    return tid === undefined || tid < 0 ? undefined : this.#threads[tid];
  }

  /** Threads waiting on `hart` (not counting the running one). */
  queuedOn(hart: number): readonly HostThread[] {
    return (this.#runq[hart] ?? []).map((tid) => this.#threads[tid]!);
  }

  /** Runnable threads on `hart`, running one included (Linux's nr_running). */
  nrRunning(hart: number): number {
    return (this.#current[hart]! >= 0 ? 1 : 0) + this.#runq[hart]!.length;
  }

  /** Whether `hart` is online. */
  isOnline(hart: number): boolean {
    return this.#online.get(hart);
  }

  /** Makes a sleeping thread runnable, placing it as Linux's wake-up path does. */
  wake(thread: HostThread): PlacementReason | undefined {
    const t = this.#own(thread);
    if (t.state !== "sleeping") return undefined;
    this.events++;
    const hart = this.#selectHart(t);
    this.#moveTo(t, hart);
    this.#enqueue(t, hart);
    return this.#placedBy;
  }

  /** The thread blocks (it was running or waiting): it keeps its hart as the "last ran" hart. */
  sleep(thread: HostThread): void {
    const t = this.#own(thread);
    if (t.state === "sleeping" || t.state === "exited") return;
    this.events++;
    if (t.state === "running") {
      this.#stopRunning(t);
      t.state = "sleeping";
      this.#pickNext(t.hart, t);
    } else {
      this.#dequeue(t);
      t.state = "sleeping";
    }
  }

  /** The thread ends; it never runs again. */
  exit(thread: HostThread): void {
    this.sleep(thread);
    this.#own(thread).state = "exited";
  }

  /**
   * sched_setaffinity: restricts the thread to `harts`. A runnable or running
   * thread on a hart no longer allowed moves at once.
   * @throws ConfigError for an empty mask, a hart out of range, or no online hart (Linux: EINVAL).
   */
  setAffinity(thread: HostThread, harts: readonly number[]): void {
    const t = this.#own(thread);
    const mask = this.#maskInto(this.#newMask, harts, t.name);
    if (mask.findFirstCommon(this.#online) < 0) {
      throw new ConfigError(`affinity [${harts.join(",")}] of ${t.name} has no online hart (sched_setaffinity: EINVAL)`);
    }
    // A thread's mask is its own once set (every thread starts on the shared all-harts one): rewritten in place.
    if (t.affinity === this.#all) t.affinity = new Bitmap(this.hartCount);
    else t.affinity.clearAll();
    t.affinity.orWith(mask);
    if (t.hart < 0 || t.affinity.get(t.hart)) return;
    this.#relocate(t);
  }

  /** Takes a hart offline (its threads move elsewhere) or brings it back. */
  setHartOnline(hart: number, online: boolean): void {
    this.#checkHart(hart);
    if (this.#online.get(hart) === online) return;
    if (online) {
      this.#online.set(hart);
      this.#idle.set(hart);
      this.#trace(hart, "online", {});
      return;
    }
    if (this.#online.count() === 1) throw new ConfigError(`hart ${hart} is the last online hart`);
    this.#online.clear(hart);
    this.#idle.clear(hart);
    this.#trace(hart, "offline", {});
    const running = this.#current[hart]!;
    const victims = [...this.#runq[hart]!];
    if (running >= 0) victims.unshift(running);
    for (const tid of victims) this.#relocate(this.#threads[tid]!);
    // Sleeping threads whose last hart went away wake elsewhere through the usual placement.
  }

  /** Starts periodic load balancing (call once the host is set up). */
  startBalancing(): void {
    if (this.#balanceInterval === 0 || this.#balanceEvent >= 0) return;
    this.#balanceEvent = this.#queue.scheduleAfter(this.#balanceInterval, HostScheduler.#balanceTick, this);
  }

  /** Stops periodic load balancing. */
  stopBalancing(): void {
    if (this.#balanceEvent >= 0) this.#queue.cancel(this.#balanceEvent);
    this.#balanceEvent = -1;
  }

  /**
   * One pass of load balancing now; returns the number of threads moved. The
   * least-loaded hart for threads allowed everywhere is found once and looked
   * for again only after a move into it, so a balanced host costs one scan.
   */
  balance(): number {
    let moved = 0;
    let minHart = this.#leastLoaded(this.#all);
    for (let h = 0; h < this.hartCount; h++) {
      const q = this.#runq[h]!;
      for (let i = 0; i < q.length; ) {
        const t = this.#threads[q[i]!]!;
        let target = this.#findIdleAllowed(t.affinity, h);
        if (target < 0) {
          const candidate = t.affinity === this.#all ? minHart : this.#leastLoaded(t.affinity);
          target = candidate !== h && this.nrRunning(candidate) <= this.nrRunning(h) - 2 ? candidate : -1;
        }
        if (target < 0) {
          i++;
          continue;
        }
        removeAt(q, i);
        this.#updateSlice(h);
        if (this.#tracer?.enabled) this.#sampleLoad(h);
        this.#moveTo(t, target);
        this.#enqueue(t, target);
        moved++;
        if (target === minHart) minHart = this.#leastLoaded(this.#all);
      }
    }
    return moved;
  }

  // ---- placement ------------------------------------------------------------

  /** The hart a waking or displaced thread goes to; why, in {@link #placedBy}. */
  #selectHart(t: MutableHostThread): number {
    const prev = t.hart;
    const allowedPrev = prev >= 0 && this.#online.get(prev) && t.affinity.get(prev);
    if (allowedPrev && this.#idle.get(prev)) return this.#placed(prev, "prev-idle");
    const idle = this.#findIdleAllowed(t.affinity, prev < 0 ? 0 : prev);
    if (idle >= 0) return this.#placed(idle, "idle");
    if (allowedPrev) return this.#placed(prev, "prev");
    return this.#placed(this.#leastLoaded(t.affinity), "least-loaded");
  }

  #placed(hart: number, why: PlacementReason): number {
    this.#placedBy = why;
    return hart;
  }

  /** First idle online hart in `mask`, searching upwards from `from` and wrapping. */
  #findIdleAllowed(mask: Bitmap, from: number): number {
    return this.#idle.findNextCommonWrapping(mask, from);
  }

  #leastLoaded(mask: Bitmap): number {
    let best = -1;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (let h = mask.findNextSet(0); h >= 0; h = mask.findNextSet(h + 1)) {
      if (!this.#online.get(h)) continue;
      const load = this.nrRunning(h);
      if (load < bestLoad) {
        best = h;
        bestLoad = load;
      }
    }
    if (best < 0) return this.#online.findNextSet(0); // the mask has no online hart: fallback
    return best;
  }

  /** Moves a runnable or running thread off a hart it may no longer use. */
  #relocate(t: MutableHostThread): void {
    if (t.state === "running") {
      const hart = t.hart;
      this.#stopRunning(t);
      t.state = "runnable";
      this.#pickNext(hart, t);
    } else if (t.state === "runnable") {
      this.#dequeue(t);
    } else return;
    if (t.affinity.findFirstCommon(this.#online) < 0) {
      this.#trace(t.hart, "affinity-broken", { thread: t.name });
      t.affinity = this.#copyOnline();
    }
    const hart = this.#selectHart(t);
    this.#moveTo(t, hart);
    this.#enqueue(t, hart);
  }

  // ---- run queues -----------------------------------------------------------

  #enqueue(t: MutableHostThread, hart: number): void {
    if (this.#current[hart]! < 0) {
      this.#switchIn(hart, undefined, t);
      return;
    }
    t.state = "runnable";
    this.#runq[hart]!.push(t.tid);
    this.#updateSlice(hart);
    if (this.#tracer?.enabled) this.#sampleLoad(hart);
  }

  #dequeue(t: MutableHostThread): void {
    const q = this.#runq[t.hart]!;
    removeAt(q, q.indexOf(t.tid));
    this.#updateSlice(t.hart);
    if (this.#tracer?.enabled) this.#sampleLoad(t.hart);
  }

  /** Runs the next queued thread on `hart`, or leaves it idle. */
  #pickNext(hart: number, prev: MutableHostThread | undefined): void {
    const q = this.#runq[hart]!;
    const next = q.length > 0 && this.#online.get(hart) ? this.#threads[q.shift()!]! : undefined;
    if (next) this.#switchIn(hart, prev, next);
    else {
      this.#current[hart] = -1;
      if (this.#online.get(hart)) this.#idle.set(hart);
      this.#updateSlice(hart);
      if (this.#tracer?.enabled) {
        this.#cpuStates[hart]!.leave();
        this.#sampleLoad(hart);
      }
      for (const o of this.#observers) o.onSwitch?.(hart, prev, undefined);
    }
  }

  #switchIn(hart: number, prev: MutableHostThread | undefined, next: MutableHostThread): void {
    this.events++;
    this.#current[hart] = next.tid;
    this.#idle.clear(hart);
    next.state = "running";
    this.#clock.times[2 * next.tid + 1] = this.#queue.now;
    this.#updateSlice(hart);
    if (this.#tracer?.enabled) {
      this.#trace(hart, "sched_switch", { prev_comm: prev?.name ?? "idle", next_comm: next.name });
      this.#cpuStates[hart]!.enter(next.name);
      this.#sampleLoad(hart);
    }
    for (const o of this.#observers) o.onSwitch?.(hart, prev, next);
  }

  #stopRunning(t: MutableHostThread): void {
    const times = this.#clock.times;
    const at = 2 * t.tid;
    times[at] = times[at]! + (this.#queue.now - times[at + 1]!);
    this.#current[t.hart] = -1;
  }

  #moveTo(t: MutableHostThread, hart: number): void {
    const from = t.hart;
    t.hart = hart;
    if (from < 0 || from === hart) return;
    this.events++;
    t.migrations++;
    if (this.#tracer?.enabled) this.#trace(hart, "sched_migrate_task", { comm: t.name, orig_cpu: from, dest_cpu: hart });
    for (const o of this.#observers) o.onMigrate?.(t, from, hart);
  }

  /** Keeps a slice-end event pending exactly while `hart` has threads waiting. */
  #updateSlice(hart: number): void {
    const waiting = this.#runq[hart]!.length > 0 && this.#current[hart]! >= 0;
    const ev = this.#sliceEvent[hart]!;
    // The ids stay in the Float64Array: passed or returned through a call, they would be boxed.
    if (waiting && ev < 0) this.#queue.scheduleAfterInto(this.#sliceEvent, hart, this.#timeSlice, HostScheduler.#sliceEnd, this.#sliceArg[hart]!);
    else if (!waiting && ev >= 0) this.#queue.cancelAt(this.#sliceEvent, hart);
  }

  static #sliceEnd(a: { self: HostScheduler; hart: number }): void {
    const { self, hart } = a;
    self.#sliceEvent[hart] = -1;
    const tid = self.#current[hart]!;
    if (tid < 0 || self.#runq[hart]!.length === 0) return;
    const t = self.#threads[tid]!;
    self.events++;
    self.#stopRunning(t);
    t.state = "runnable";
    self.#runq[hart]!.push(tid);
    self.#pickNext(hart, t);
  }

  static #balanceTick(self: HostScheduler): void {
    self.#balanceEvent = self.#queue.scheduleAfter(self.#balanceInterval, HostScheduler.#balanceTick, self);
    self.balance();
  }

  // ---- helpers --------------------------------------------------------------

  #own(thread: HostThread): MutableHostThread {
    const t = this.#threads[thread.tid];
    if (t !== thread) throw new ConfigError(`thread ${thread.name} does not belong to this scheduler`);
    if (t.state === "exited") throw new ConfigError(`thread ${t.name} has exited`);
    return t;
  }

  #mask(harts: readonly number[], who: string): Bitmap {
    return this.#maskInto(new Bitmap(this.hartCount), harts, who);
  }

  /** `m` cleared and set to `harts`; throws for an empty list or a hart out of range. */
  #maskInto(m: Bitmap, harts: readonly number[], who: string): Bitmap {
    if (harts.length === 0) throw new ConfigError(`affinity of ${who} is empty (sched_setaffinity: EINVAL)`);
    m.clearAll();
    // Indexed: a mask is set at every sched_setaffinity, and an iterator there is an allocation.
    // eslint-disable-next-line @typescript-eslint/prefer-for-of -- see above
    for (let i = 0; i < harts.length; i++) {
      const h = harts[i]!;
      this.#checkHart(h);
      m.set(h);
    }
    return m;
  }

  #copyOnline(): Bitmap {
    const m = new Bitmap(this.hartCount);
    m.orWith(this.#online);
    return m;
  }

  #checkHart(h: number): void {
    if (!Number.isInteger(h) || h < 0 || h >= this.hartCount) {
      throw new ConfigError(`hart ${h} is not in 0..${this.hartCount - 1}`);
    }
  }

  /** Trace only: the hart's nr_running as a counter. */
  #sampleLoad(hart: number): void {
    this.#tracer!.sample(this.#tracks[hart]!, "sched", `cpu${hart} nr_running`, this.nrRunning(hart));
  }

  #trace(hart: number, name: string, args: Record<string, string | number>): void {
    const tr = this.#tracer;
    if (tr?.enabled) tr.instant(this.#tracks[hart]!, "sched", name, args);
  }
}

/** Removes element `i` of a run queue in place (nothing when `i` < 0): splice would allocate the removed element's array. */
function removeAt(q: number[], i: number): void {
  if (i < 0) return;
  for (let j = i + 1; j < q.length; j++) q[j - 1] = q[j]!;
  q.length--;
}
