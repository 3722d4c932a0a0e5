/**
 * A host thread as the scheduler sees it: a vCPU thread of a VMM, or any other
 * task competing for the harts. Plain state, mutated only by
 * {@link HostScheduler}, apart from the two fields {@link CreatedThread}
 * leaves to the thread's creator; readers get it through the scheduler's
 * methods.
 */

import type { Bitmap } from "@irqlab/sim";

/** Where a thread is in its life (Linux: TASK_RUNNING on a CPU or a runqueue, sleeping, dead). */
export type ThreadState = "running" | "runnable" | "sleeping" | "exited";

/** A schedulable host thread. */
export interface HostThread {
  /** Thread id, unique per scheduler (like a TID). */
  readonly tid: number;
  /** Name for traces, e.g. `vm0/vcpu3`. */
  readonly name: string;
  /** Current state. */
  readonly state: ThreadState;
  /**
   * The hart it runs or waits on; when sleeping, the hart it last ran on
   * (Linux's task_cpu(), which wake-up placement starts from). -1 before the first run.
   */
  readonly hart: number;
  /** The harts it may run on (sched_setaffinity). */
  readonly affinity: Bitmap;
  /** Times it was moved from one hart to another. */
  readonly migrations: number;
  /** Virtual nanoseconds spent running. */
  readonly runtime: number;
}

/** The scheduler's own mutable view of a thread (its runtime the scheduler keeps, see {@link ThreadClock}). */
export interface MutableHostThread extends HostThread {
  state: ThreadState;
  hart: number;
  affinity: Bitmap;
  migrations: number;
}

/**
 * Where a scheduler keeps its threads' run times: for thread `tid`, the
 * virtual ns it has run at `times[2 * tid]`, and when it last started running
 * at `times[2 * tid + 1]`. In one array rather than in fields of each thread:
 * a time is a double, which a field holds in a box of its own, so a thread
 * whose state has left the cache would cost two more fetches from memory at
 * every switch. `times` is replaced by a larger copy as threads are made.
 */
export interface ThreadClock {
  times: Float64Array;
}

/**
 * A thread as {@link HostScheduler.createThread} hands it to its creator,
 * with two fields the creator keeps in the thread's own record rather than
 * in a record of its own that points to the thread: a vCPU's placement
 * (SchedulerPlacement) reads them with the thread's state and hart at every
 * KVM_RUN, and at thousands of vCPUs every record a run reaches is a fetch
 * from memory, each record behind a pointer one more fetch after the last.
 */
export interface CreatedThread extends HostThread {
  /** Whose thread it is, for a creator to tell its own threads from others' (undefined until the creator sets it). */
  owner: unknown;
  /** The affinity list the owner last gave the thread, to be compared by identity (undefined until it sets it). */
  ownerAffinity: readonly number[] | undefined;
}

/**
 * A thread of a scheduler: plain state, its run time read from the
 * scheduler's {@link ThreadClock}. The fields a scheduling decision and a
 * vCPU's placement read come first, the name and the clock last, so that
 * the ones read together lie in as few cache lines as they fit.
 */
export class SchedulerThread implements MutableHostThread, CreatedThread {
  state: ThreadState = "sleeping";
  hart = -1;
  migrations = 0;
  owner: unknown = undefined;
  ownerAffinity: readonly number[] | undefined = undefined;
  readonly tid: number;
  affinity: Bitmap;
  readonly name: string;
  readonly #clock: ThreadClock;

  constructor(tid: number, name: string, affinity: Bitmap, clock: ThreadClock) {
    this.tid = tid;
    this.affinity = affinity;
    this.name = name;
    this.#clock = clock;
  }

  get runtime(): number {
    return this.#clock.times[2 * this.tid]!;
  }
}
