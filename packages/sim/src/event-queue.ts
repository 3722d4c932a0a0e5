/**
 * The discrete-event queue that drives every model in virtual nanoseconds.
 *
 * Virtual time never goes backwards (nothing may be scheduled before `now`),
 * so the queue is a radix structure for monotone keys rather than a heap: a
 * hierarchical timing wheel over base-16 digits of the time, taken relative to
 * a reference time R (never later than any pending event). An event sits at
 * level L, the position of the highest hexadecimal digit in which its time
 * differs from R, in the slot given by its own digit at that level. Level 0
 * therefore holds exact times, one FIFO per time. To dispatch, the lowest
 * non-empty slot is found through two bit masks; if it is at level 0 its head
 * runs, otherwise R advances to the start of that slot's time range and the
 * slot's events are spread one level down or more. An event moves at most
 * once per digit of its delay (three times for a delay under 4 us), never
 * comparing random keys: no branch mispredictions, no heap sifting.
 *
 * Events due at the same nanosecond run in the order they were scheduled:
 * equal times always share a slot, every slot is a FIFO, and spreading keeps
 * order (the levels below the one being spread are empty at that moment).
 *
 * Event records live in slot arrays recycled through a free list, so
 * scheduling and dispatching allocate nothing once the queue has grown to its
 * working size. Cancelling marks the record; it stops counting as pending at
 * once and is recycled when the queue next meets it. Handlers take one
 * argument chosen at scheduling time so that hot paths can pass a long-lived
 * object instead of allocating a closure per event.
 */

import { ConfigError } from "./errors.js";
import { largestHolding } from "./search.js";
import type { Nanoseconds } from "./time.js";

/** Handle of a scheduled event; pass it to {@link EventQueue.cancel}. */
export type EventId = number;

/** Code run when an event is due. `arg` is what was given to `schedule`. */
export type EventHandler<A> = (arg: A) => void;

/**
 * Whether a process may be left off the queue while the clock moves on (see
 * {@link EventQueue.scheduleWhenUnlimited}). An object with methods rather
 * than a function: the queue asks it at nearly every run while a vCPU stands
 * aside, and a method of one class is a call TurboFan inlines where a
 * closure made per process is not.
 */
export interface IdleCheck {
  /**
   * True when running the process up to `time` would do nothing but let
   * that time pass; it then counts the time as run. True for a time means
   * true for every earlier one (the state it looks at unchanged).
   */
  idleUntil(time: Nanoseconds): boolean;
  /**
   * Optional: {@link idleUntil} of {@link EventQueue.askedTime}, the time
   * taken from the queue rather than as an argument, for a check on a hot
   * path: a time beyond 2^31 ns passed to a call that TurboFan does not
   * inline is boxed, a heap number at every question. The queue asks this
   * rather than idleUntil when it is there.
   */
  idleUntilAsked?(): boolean;
  /**
   * Optional: at most how many steps of `step` nanoseconds after `from`
   * {@link idleUntil} could say yes to (at most `max`; an upper bound, the
   * check decides). With it {@link EventQueue.idleSteps} asks about the last
   * of those steps first, instead of searching step by step.
   */
  steps?(from: Nanoseconds, step: Nanoseconds, max: number): number;
  /**
   * Optional: {@link steps} after {@link EventQueue.askedTime}, taken from
   * the queue rather than as an argument for the reason
   * {@link idleUntilAsked} is. The queue asks this rather than steps when it
   * is there.
   */
  stepsAsked?(step: Nanoseconds, max: number): number;
}

/** Told of each handler scheduled while it watches (see {@link EventQueue.watchSchedules}). */
export interface ScheduleWatch {
  /** A handler was just scheduled, at now or later. */
  scheduled(): void;
}

/** cutAt's time, handed on to cutAtTimeIn. */
const CUT_AT = new Float64Array(1);

/** Anything that can tell the current virtual time. */
export interface Clock {
  /** Current virtual time in nanoseconds. */
  readonly now: Nanoseconds;
}

// Event ids pack a slot index and that slot's generation, so a stale id of a
// recycled slot is recognised: id = generation * SLOT_LIMIT + slot.
const SLOT_LIMIT = 1 << 24;
const GENERATION_LIMIT = 1 << 28; // keeps ids below 2^52, exact in a double

// Times are below 2^53: 14 hexadecimal digits, 16 slots each.
const LEVELS = 14;
const BUCKETS = LEVELS * 16;
const TWO_POW_32 = 4294967296;
const INV_TWO_POW_32 = 1 / TWO_POW_32;
/** 16^level: the span of one slot at each level (a table: `**` is slow on the hot path). */
const SLOT_SPAN = Float64Array.from({ length: LEVELS }, (_, level) => 16 ** level);

const SLOT_FREE = 0;
const SLOT_PENDING = 1;
const SLOT_CANCELLED = 2;

const noop: EventHandler<unknown> = () => undefined;
/** The records and times of a bucket nothing was pushed into yet: never written (length 0). */
const NO_ITEMS = new Int32Array(0);
const NO_TIMES = new Float64Array(0);

/**
 * A deterministic event queue over virtual time.
 *
 * Nested runs: a handler may itself run the queue (a vCPU charging the cost
 * of an operation while other vCPUs' work is due in the meantime). Such an
 * inner run never passes the time the enclosing run was asked to reach: every
 * run is clamped to {@link limit}, and the caller sees `now` short of what it
 * asked for. {@link setLimit} narrows the limit without running anything, and
 * {@link scheduleWhenUnlimited} lets a model that reached the limit continue
 * once an enclosing run has moved it on, instead of rescheduling itself at
 * the same instant for ever. At the top level the limit is infinite and none
 * of this changes anything.
 */
export class EventQueue implements Clock {
  #now: Nanoseconds = 0;
  #ref: Nanoseconds = 0; // reference time R: no pending event is earlier
  // A lower bound on the earliest pending event, learnt by #settle, so that
  // runUntil() to a time before it (a model charging an op's cost) is O(1).
  #quietUntil: Nanoseconds = Number.POSITIVE_INFINITY;
  #pending = 0;
  // The time no run may pass: the target of the innermost runUntil, or a
  // limit set with setLimit (see "Nested runs" in the class doc).
  #limit: Nanoseconds = Number.POSITIVE_INFINITY;
  // The limits pushLimit() narrowed, innermost last.
  #savedLimits = new Float64Array(8);
  #savedLimitCount = 0;
  // Handlers waiting for the limit to move past `now` (scheduleWhenUnlimited).
  readonly #deferredHandler: EventHandler<unknown>[] = [];
  readonly #deferredArg: unknown[] = [];
  readonly #deferredIdle: (IdleCheck | undefined)[] = [];
  #deferredCount = 0; // entries of the arrays in use (kept, not truncated, to reuse their storage)
  // A released handler left off the queue while it is idle (see scheduleWhenUnlimited's `idle`):
  // it stands for an event due at `now`, first in line.
  #standingHandler: EventHandler<unknown> = noop;
  #standingArg: unknown = undefined;
  #standingIdle: IdleCheck | undefined;
  // idleSteps' question to a standing handler: idle until #probeFrom + k steps of #probeStep? (bound once: no closure per call)
  #probeFrom = 0;
  #probeStep = 0;
  readonly #standingIdleAfter = (k: number): boolean => {
    this.#askedTime = this.#probeFrom + k * this.#probeStep;
    return this.#askStanding(this.#standingIdle!);
  };
  // The time a standing handler's check is asked about (askedTime): a field, where an argument could be boxed.
  #askedTime = 0;
  #dueTarget = 0; // the target of a run about to start (runUntil's, for #runUntilDue and #run)
  #depth = 0; // active runUntil calls
  #cutDepth = Number.POSITIVE_INFINITY; // the outermost run a cut() or cutAt() ends
  #cutTime = Number.POSITIVE_INFINITY; // where the runs from #cutDepth in end (now for a cut())
  // Told of every handler scheduled while it is set (watchSchedules).
  #scheduleWatch: ScheduleWatch | undefined;
  #stopRequested = false;
  #dispatched = 0;

  // Buckets (level * 16 + digit) of record numbers, each event's time beside
  // it, read from #head on (only level-0 buckets are consumed from the front).
  readonly #bucket: Int32Array[] = [];
  readonly #bucketTime: Float64Array[] = [];
  readonly #bucketLen = new Int32Array(BUCKETS);
  readonly #head = new Int32Array(BUCKETS);
  #levelMask = 0; // bit L: level L has a non-empty slot
  readonly #slotMask = new Int32Array(LEVELS); // bit d: slot d of the level is non-empty

  // Event records.
  #time: Float64Array;
  #state: Uint8Array;
  #generation: Int32Array;
  #handler: EventHandler<unknown>[] = [];
  #arg: unknown[] = [];
  #freeSlots: Int32Array;
  #freeCount = 0;
  #slotCount = 0;

  /** @param initialCapacity events the queue can hold before it first grows. */
  constructor(initialCapacity = 1024) {
    const cap = Math.max(16, Math.min(SLOT_LIMIT, initialCapacity | 0));
    this.#time = new Float64Array(cap);
    this.#state = new Uint8Array(cap);
    this.#generation = new Int32Array(cap);
    this.#freeSlots = new Int32Array(cap);
    // Every bucket starts empty, on shared zero-length arrays: most of the 224 are never used, and
    // the first push into one makes its own (a queue is made with every machine).
    for (let b = 0; b < BUCKETS; b++) {
      this.#bucket.push(NO_ITEMS);
      this.#bucketTime.push(NO_TIMES);
    }
  }

  /** Current virtual time in nanoseconds. */
  get now(): Nanoseconds {
    return this.#now;
  }

  /** Number of events waiting (cancelled events excluded). */
  get pending(): number {
    return this.#standingIdle === undefined ? this.#pending : this.#pending + 1;
  }

  /** Number of events dispatched since construction. */
  get dispatched(): number {
    return this.#dispatched;
  }

  /** Time of the next event, or `undefined` when the queue is empty. */
  peekTime(): Nanoseconds | undefined {
    if (this.#standingIdle !== undefined) return this.#now;
    const t = this.earliestEvent();
    return t === Number.POSITIVE_INFINITY ? undefined : t;
  }

  /** The time of the earliest pending event (the standing handler aside), or infinity. */
  #earliestPending(): Nanoseconds {
    // Settle only up to now (the reference must not pass `now` without a
    // dispatch), then find the minimum of the lowest non-empty slot.
    if (this.#settle(this.#now) >= 0) return this.#now;
    // Lower levels, and lower slots of a level, hold earlier times: the first slot with a live event has the earliest.
    for (let levels = this.#levelMask; levels !== 0; levels &= levels - 1) {
      const level = 31 - Math.clz32(levels & -levels);
      for (let slots = this.#slotMask[level]!; slots !== 0; slots &= slots - 1) {
        const b = level * 16 + (31 - Math.clz32(slots & -slots));
        let min = Number.POSITIVE_INFINITY;
        const items = this.#bucket[b]!;
        const times = this.#bucketTime[b]!;
        const len = this.#bucketLen[b]!;
        for (let i = this.#head[b]!; i < len; i++) {
          if (this.#state[items[i]!] === SLOT_PENDING && times[i]! < min) min = times[i]!;
        }
        if (min !== Number.POSITIVE_INFINITY) {
          this.#quietUntil = min; // exact, so a lower bound
          return min;
        }
      }
    }
    return Number.POSITIVE_INFINITY;
  }

  /**
   * Moves the clock over as many of `count` steps of `step` nanoseconds as
   * it can take with nothing to run — no event due, the limit still ahead
   * (the clock stays short of it), a standing handler (see
   * {@link scheduleWhenUnlimited}) idle all along — and returns how many it
   * took. Taking k steps leaves the queue as k calls of `runUntil(now +
   * step)` that ran no handler would: for a model repeating a costed action
   * whose outcome only a handler could change (a CPU polling memory), which
   * may then skip the repetitions without changing what anyone observes.
   * `step` is a positive integer.
   */
  idleSteps(step: Nanoseconds, count: number): number {
    if (!(count >= 1) || !(step >= 1) || Math.floor(step) !== step) return 0;
    const now = this.#now;
    // Strictly before the limit (a run that reaches it ends there) and before the earliest event.
    let k = Math.min(Math.floor(count), Math.floor((this.#limit - now - 1) / step));
    if (k > 0 && now + k * step >= this.#quietUntil) k = Math.min(k, Math.floor((this.#earliestPending() - now - 1) / step));
    const standing = this.#standingIdle;
    if (k > 0 && standing !== undefined) {
      // Idle up to some time: the most steps it accepts. A check that says yes counts the time as run;
      // largestHolding's yeses come in increasing order, so the last is the time the clock takes.
      this.#probeFrom = now;
      this.#probeStep = step;
      if (standing.steps === undefined && standing.stepsAsked === undefined) k = largestHolding(k, this.#standingIdleAfter);
      else {
        let bound: number;
        if (standing.stepsAsked !== undefined) {
          this.#askedTime = now;
          bound = standing.stepsAsked(step, k);
        } else bound = standing.steps!(now, step, k);
        if (bound < k) k = bound > 0 ? Math.floor(bound) : 0;
        // The bound's last step first: one question where the bound is the answer.
        if (k > 0 && !this.#standingIdleAfter(k)) k = largestHolding(k - 1, this.#standingIdleAfter);
      }
    }
    if (k <= 0) return 0;
    this.#stopRequested = false;
    this.#now = now + k * step;
    return k;
  }

  /**
   * Schedules `handler(arg)` at absolute virtual time `time`.
   * @throws ConfigError if `time` is in the past or not an integer below 2^53.
   */
  schedule<A>(time: Nanoseconds, handler: EventHandler<A>, arg: A): EventId;
  schedule(time: Nanoseconds, handler: EventHandler<undefined>): EventId;
  schedule(time: Nanoseconds, handler: EventHandler<never>, arg?: unknown): EventId {
    // The error is built out of line: small, schedule is inlined where it is called, and the id it
    // returns (a double once a slot's generation passes 127) goes where it is kept without a HeapNumber.
    if (!(time >= this.#now) || Math.floor(time) !== time || time >= 9007199254740992) this.#badTime(time);
    const slot = this.#alloc(time, handler as EventHandler<unknown>, arg);
    this.#push(slot, time);
    return this.#generation[slot]! * SLOT_LIMIT + slot;
  }

  #badTime(time: Nanoseconds): never {
    throw new ConfigError(`cannot schedule an event at ${time} ns: it must be an integer no earlier than now (${this.#now} ns)`);
  }

  #alloc(time: Nanoseconds, handler: EventHandler<unknown>, arg: unknown): number {
    let slot: number;
    if (this.#freeCount > 0) slot = this.#freeSlots[--this.#freeCount]!;
    else {
      if (this.#slotCount === this.#time.length) this.#grow();
      slot = this.#slotCount++;
      this.#handler.push(noop);
      this.#arg.push(undefined);
    }
    this.#time[slot] = time;
    this.#state[slot] = SLOT_PENDING;
    this.#handler[slot] = handler;
    this.#arg[slot] = arg;
    this.#pending++;
    if (time < this.#quietUntil) this.#quietUntil = time;
    if (this.#scheduleWatch !== undefined) this.#scheduleWatch.scheduled();
    return slot;
  }

  /** Schedules `handler(arg)` `delay` nanoseconds from now. */
  scheduleAfter<A>(delay: Nanoseconds, handler: EventHandler<A>, arg: A): EventId;
  scheduleAfter(delay: Nanoseconds, handler: EventHandler<undefined>): EventId;
  scheduleAfter(delay: Nanoseconds, handler: EventHandler<never>, arg?: unknown): EventId {
    return this.schedule(this.#now + delay, handler as EventHandler<unknown>, arg);
  }

  /**
   * {@link scheduleAfter}, the id written to `ids[index]` rather than
   * returned. For a hot caller that keeps its events' ids in a Float64Array:
   * an id is a double above 2^31 once its slot has been reused 128 times, and
   * a call that is not inlined boxes the double it returns on the heap.
   */
  scheduleAfterInto<A>(ids: Float64Array, index: number, delay: Nanoseconds, handler: EventHandler<A>, arg: A): void {
    // schedule is small enough to be inlined here: the id goes from it into `ids` unboxed.
    ids[index] = this.schedule(this.#now + delay, handler, arg);
  }

  /**
   * {@link cancel} of the event whose id is `ids[index]`, which becomes -1
   * (the id read here, not passed: see {@link scheduleAfterInto}).
   */
  cancelAt(ids: Float64Array, index: number): boolean {
    const id = ids[index]!;
    ids[index] = -1;
    return this.cancel(id);
  }

  /** Cancels a pending event. Returns false if it already ran or was cancelled. */
  cancel(id: EventId): boolean {
    if (!this.isPending(id)) return false;
    const slot = id % SLOT_LIMIT;
    this.#state[slot] = SLOT_CANCELLED;
    this.#handler[slot] = noop; // let the handler and its argument be collected
    this.#arg[slot] = undefined;
    this.#pending--;
    return true;
  }

  /** True if the event is still waiting to run. */
  isPending(id: EventId): boolean {
    const slot = id % SLOT_LIMIT;
    return (
      slot >= 0 &&
      slot < this.#slotCount &&
      Math.floor(id / SLOT_LIMIT) === this.#generation[slot] &&
      this.#state[slot] === SLOT_PENDING
    );
  }

  /** Runs the earliest event (due by {@link limit}). Returns false if there was none. */
  step(): boolean {
    return this.#stepUntil();
  }

  /**
   * Runs every event due at or before `time`, then advances the clock to
   * `time` (unless {@link stop} was called). Returns the number of events run.
   * Inside an enclosing run, `time` is clamped to {@link limit}: check `now`
   * afterwards to see how far the clock got.
   */
  runUntil(time: Nanoseconds): number {
    this.#dueTarget = time;
    return this.#runToDueTarget();
  }

  /**
   * {@link runUntil} to `ns` after now (a cost, at least 0), for a model
   * charging it: returns the number of events run; check `now` afterwards to
   * see how far the clock got. The cost crosses the call where the time it
   * ends at would not: a double passed to a call that TurboFan does not
   * inline is boxed once past 2^31 ns, a heap number at every call; a small
   * integer never is.
   */
  runFor(ns: Nanoseconds): number {
    // The cost goes in #dueTarget and the sum is made inside: made here, it takes this method's bytecode
    // past the 27 bytes TurboFan inlines whatever its budget, as runUntil's is not.
    this.#dueTarget = ns;
    return this.#runForDueCost();
  }

  /**
   * {@link runFor} with the cost in {@link #dueTarget}: #runToDueTarget's
   * steps to now + that cost. Its own copy of them: a flag telling one step
   * which the field holds would take runFor past the 27 bytes, and the sum
   * made in runUntil's step would not give back every end time exactly.
   */
  #runForDueCost(): number {
    const ns = this.#dueTarget;
    if (!(ns >= 0)) this.#negativeCost(ns);
    const time = this.#now + ns;
    const outer = this.#limit;
    const target = time < outer ? time : outer;
    if (target < this.#quietUntil && this.#standingIdle === undefined) {
      this.#stopRequested = false;
      this.#now = target;
      return 0;
    }
    this.#dueTarget = target;
    return this.#runUntilDue();
  }

  /**
   * {@link runUntil} to the time in `at[0]`, for a hot path whose times pass
   * 2^31 ns (a long computation, a wait of many turns): a double passed as
   * an argument to a call that TurboFan does not inline is boxed, a heap
   * number at every call; one in a typed array is not.
   */
  runUntilTimeIn(at: Float64Array): number {
    this.#dueTarget = at[0]!;
    return this.#runToDueTarget();
  }

  /**
   * runUntil and runUntilTimeIn, to the time their caller put in
   * {@link #dueTarget}: a field, where a double passed to a call that is not
   * inlined, above 2^31, would be boxed.
   */
  #runToDueTarget(): number {
    const time = this.#dueTarget;
    if (!(time >= this.#now)) this.#beforeNow(time);
    const outer = this.#limit;
    const target = time < outer ? time : outer;
    if (target < this.#quietUntil && this.#standingIdle === undefined) {
      // Nothing can be due (the common case of a model charging a cost): no handler runs. This
      // path is all a caller that TurboFan inlines runUntil into takes in: the rest is a call.
      this.#stopRequested = false;
      this.#now = target;
      return 0;
    }
    this.#dueTarget = target;
    return this.#runUntilDue();
  }

  /** {@link runUntil} to {@link #dueTarget} when an event may be due by then, or a standing handler waits. */
  #runUntilDue(): number {
    const target = this.#dueTarget;
    const outer = this.#limit;
    const standing = this.#standingIdle;
    if (standing !== undefined) {
      this.#askedTime = target;
      if (target < this.#quietUntil && this.#askStanding(standing)) {
        // The standing handler would have run to `target` and stopped there, alone: skip it.
        this.#stopRequested = false;
        this.#now = target;
        // As after that run, it waits for the limit to move on unless it already has (restoreLimit).
        if ((this.#depth >= this.#cutDepth && this.#cutTime <= target) || !(outer > target)) this.#deferStanding();
        return 0;
      }
      // It runs first, at now (#stepUntil dispatches it from where it stands).
    }
    return this.#run(true, Number.POSITIVE_INFINITY);
  }

  /** Asks a standing handler's check whether it is idle until {@link #askedTime}: without the time as an argument if it can. */
  #askStanding(idle: IdleCheck): boolean {
    return idle.idleUntilAsked !== undefined ? idle.idleUntilAsked() : idle.idleUntil(this.#askedTime);
  }

  /** runFor's ConfigError for a cost below 0 (out of line, as #beforeNow). */
  #negativeCost(ns: Nanoseconds): never {
    throw new ConfigError(`cannot run for ${ns} ns: a run cannot go back in time`);
  }

  /** runUntil's ConfigError for a time before now (out of line: its message is bytecode runUntil's callers would inline). */
  #beforeNow(time: Nanoseconds): never {
    throw new ConfigError(`cannot run until ${time} ns: it is before now (${this.#now} ns)`);
  }

  /**
   * One run: events due by {@link #dueTarget} (or the limit, which cut() may
   * lower meanwhile), then the clock to the limit if `advance`. The target is
   * taken from the field, not an argument: a time beyond 2^31 ns (a poll's
   * window, a long computation) passed to a call TurboFan does not inline is
   * boxed, a heap number at every such run.
   */
  #run(advance: boolean, maxEvents: number): number {
    const target = this.#dueTarget;
    const outer = this.#limit;
    this.#limit = target;
    const depth = ++this.#depth;
    this.#stopRequested = false;
    let n = 0;
    try {
      while (n < maxEvents && !this.#stopped() && this.#stepUntil()) n++;
      if (advance && !this.#stopped()) this.#now = this.#limit;
    } finally {
      this.#depth = depth - 1;
      if (depth <= this.#cutDepth) {
        // The cut run is over.
        this.#cutDepth = Number.POSITIVE_INFINITY;
        this.#cutTime = Number.POSITIVE_INFINITY;
      }
      // #settleLimit, written out: a run ends at every continuation of a vCPU, and there the call
      // cost about 2 % of an ipi round trip (bench:compare).
      const now = this.#now;
      const cap = this.#cutTime;
      this.#limit = this.#depth >= this.#cutDepth && outer > cap ? cap : outer;
      if (this.#limit > now && this.#deferredCount > 0) this.#releaseDeferred();
    }
    return n;
  }

  /**
   * The time a standing handler's check is asked about, while the queue asks
   * it ({@link IdleCheck.idleUntilAsked}): the target of the run about to
   * start, or the end of the steps {@link idleSteps} weighs.
   */
  get askedTime(): Nanoseconds {
    return this.#askedTime;
  }

  /** How many runUntil calls are active (1 inside a top-level run). */
  get depth(): number {
    return this.#depth;
  }

  /**
   * Ends the run at `depth` (see {@link depth}) and every run nested in it
   * now, after the current event: a computing vCPU that an interrupt must
   * reach before its computation is over. Runs below `depth` go on.
   */
  cut(depth: number): void {
    this.cutAt(depth, this.#now);
  }

  /**
   * {@link cut} at a later time: the run at `depth` and every run nested in
   * it stop at `time` (or now, if it has passed) instead of their targets,
   * and runs started inside them meanwhile get no further. Two cuts combine
   * into the earlier time for the outer depth. For a model that knows when
   * it will next look at what a handler did: a vCPU letting many turns of a
   * wait pass in one charge, which a handler's store must end at the next
   * load.
   */
  cutAt(depth: number, time: Nanoseconds): void {
    CUT_AT[0] = time;
    this.cutAtTimeIn(depth, CUT_AT);
  }

  /**
   * {@link cutAt} the time in `at[0]`, for a hot path whose times pass 2^31
   * ns (a kick or a write that ends a poll window): a double passed as an
   * argument to a call that TurboFan does not inline is boxed, a heap number
   * at every call; one in a typed array is not.
   */
  cutAtTimeIn(depth: number, at: Float64Array): void {
    if (depth < 1 || depth > this.#depth) return;
    if (depth < this.#cutDepth) this.#cutDepth = depth;
    const time = at[0]!;
    const t = time > this.#now ? time : this.#now;
    if (t < this.#cutTime) this.#cutTime = t;
    if (this.#limit > this.#cutTime) this.#limit = this.#cutTime;
  }

  /**
   * Sets (or, with undefined, clears) the watch told of every handler
   * scheduled from now on: {@link schedule} and its variants, and a handler
   * {@link scheduleWhenUnlimited} deferred when it is released. One at a time.
   */
  watchSchedules(watch: ScheduleWatch | undefined): void {
    this.#scheduleWatch = watch;
  }

  /** Whether a watch set with {@link watchSchedules} is in place. */
  get watchingSchedules(): boolean {
    return this.#scheduleWatch !== undefined;
  }

  /**
   * The time of the earliest pending event, a standing handler (see
   * {@link scheduleWhenUnlimited}) not counted; infinite when there is none.
   */
  earliestEvent(): Nanoseconds {
    return this.#quietUntil === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : this.#earliestPending();
  }

  /**
   * Whether the clock has reached {@link limit}: no run can move it now. (A
   * boolean, for hot paths: the limit itself is a double that a caller
   * which does not inline the getter receives boxed.)
   */
  get atLimit(): boolean {
    return this.#now >= this.#limit;
  }

  /**
   * The time no run may pass now: the target of the innermost active
   * {@link runUntil} or a narrower {@link setLimit}; infinite at the top level.
   */
  get limit(): Nanoseconds {
    return this.#limit;
  }

  /**
   * Narrows {@link limit} to `time` (never widens it) and returns the previous
   * limit, which the caller must give back to {@link restoreLimit}.
   */
  setLimit(time: Nanoseconds): Nanoseconds {
    const outer = this.#limit;
    if (time < outer) this.#limit = time < this.#now ? this.#now : time;
    return outer;
  }

  /**
   * Restores a limit returned by {@link setLimit}. Handlers deferred with
   * {@link scheduleWhenUnlimited} are scheduled at `now` once the limit lies
   * beyond it.
   */
  restoreLimit(outer: Nanoseconds): void {
    this.#limit = outer;
    this.#settleLimit();
  }

  /**
   * {@link setLimit}, the previous limit kept by the queue rather than handed
   * back: {@link popLimit} restores it. Pairs nest (a stack). For a hot
   * caller: a limit is a double, often above 2^31, which a call that is not
   * inlined would box on the heap when it is returned or passed.
   */
  pushLimit(time: Nanoseconds): void {
    const n = this.#savedLimitCount;
    if (n === this.#savedLimits.length) {
      const bigger = new Float64Array(n * 2);
      bigger.set(this.#savedLimits);
      this.#savedLimits = bigger;
    }
    const outer = this.#limit;
    this.#savedLimits[n] = outer;
    this.#savedLimitCount = n + 1;
    if (time < outer) this.#limit = time < this.#now ? this.#now : time;
  }

  /**
   * Restores the limit the last unmatched {@link pushLimit} narrowed, as
   * {@link restoreLimit} does. @throws ConfigError without one.
   */
  popLimit(): void {
    if (this.#savedLimitCount === 0) throw new ConfigError("popLimit without a pushLimit");
    this.#limit = this.#savedLimits[--this.#savedLimitCount]!;
    this.#settleLimit();
  }

  /**
   * Once a narrowing is over and #limit holds the limit it narrowed again:
   * kept at now inside a run that cut() ended, and the deferred handlers
   * released if it lies past now. The limit is passed in the field, not as an
   * argument: a double passed to a call that is not inlined is boxed, and
   * popLimit runs at every KVM_RUN with a budget.
   */
  #settleLimit(): void {
    const now = this.#now;
    const cap = this.#cutTime;
    if (this.#depth >= this.#cutDepth && this.#limit > cap) this.#limit = cap;
    if (this.#limit > now && this.#deferredCount > 0) this.#releaseDeferred();
  }

  /**
   * Schedules `handler(arg)` at `now`, but only once the clock may move past
   * `now`: while a run is at its limit, the handler waits until an enclosing
   * run has moved the limit on. For a model that stopped at the limit and must
   * go on later without running again at the same instant.
   *
   * With `idle`, a handler released alone with nothing else due stays off the
   * queue: a run that would dispatch it first asks `idle.idleUntil(target)`
   * whether it would only let the time up to its target pass (a vCPU
   * computing inside another's operation, stopping at each of its limits); if
   * so the clock moves there without it, else it is dispatched first, where it
   * would have been.
   */
  scheduleWhenUnlimited<A>(handler: EventHandler<A>, arg: A, idle?: IdleCheck): void {
    if (this.#limit > this.#now) {
      this.schedule(this.#now, handler, arg);
      return;
    }
    const i = this.#deferredCount++;
    this.#deferredHandler[i] = handler as EventHandler<unknown>;
    this.#deferredArg[i] = arg;
    this.#deferredIdle[i] = idle;
  }

  #deferStanding(): void {
    const i = this.#deferredCount++;
    this.#deferredHandler[i] = this.#standingHandler;
    this.#deferredArg[i] = this.#standingArg;
    this.#deferredIdle[i] = this.#standingIdle;
    this.#standingHandler = noop;
    this.#standingArg = undefined;
    this.#standingIdle = undefined;
  }

  /** Puts the standing handler on the queue where it stands: at `now`, before every event due then. */
  #materialize(): void {
    if (this.#standingIdle === undefined) return;
    const slot = this.#alloc(this.#now, this.#standingHandler, this.#standingArg);
    this.#standingHandler = noop;
    this.#standingArg = undefined;
    this.#standingIdle = undefined;
    this.#pushFront(slot, this.#now);
  }

  #releaseDeferred(): void {
    // In place, without copying: a vCPU run in slices inside another's time
    // comes through here once per slice.
    const handlers = this.#deferredHandler;
    const args = this.#deferredArg;
    const idles = this.#deferredIdle;
    const n = this.#deferredCount;
    const now = this.#now;
    this.#deferredCount = 0;
    // A lone handler that can tell when it is idle, with nothing else due now, stands instead:
    // it stays off the queue for as long as the runs that would dispatch it find it idle.
    if (n === 1 && idles[0] !== undefined && this.#standingIdle === undefined && (now < this.#quietUntil || this.#settle(now) < 0)) {
      this.#standingHandler = handlers[0]!;
      this.#standingArg = args[0];
      this.#standingIdle = idles[0];
      handlers[0] = noop;
      args[0] = undefined;
      idles[0] = undefined;
      if (this.#scheduleWatch !== undefined) this.#scheduleWatch.scheduled();
      return;
    }
    this.#materialize();
    for (let i = 0; i < n; i++) {
      const h = handlers[i]!;
      const a = args[i];
      handlers[i] = noop;
      args[i] = undefined;
      idles[i] = undefined;
      this.schedule(now, h, a);
    }
  }

  /**
   * Runs events until none is left (due by {@link limit}), {@link stop} or
   * {@link cut} ends it, or `maxEvents` have run (a guard against a model
   * that reschedules forever). The clock stays at the last event.
   */
  runUntilIdle(maxEvents = Number.POSITIVE_INFINITY): number {
    this.#dueTarget = this.#limit;
    return this.#run(false, maxEvents);
  }


  /**
   * Runs events until `predicate()` holds (checked before each event), the
   * queue is empty, {@link stop} is called or `maxEvents` have run. Returns
   * whether the predicate held. Inside an enclosing run it also returns false
   * when no event is due by {@link limit}, with the clock advanced to it.
   */
  runUntilCondition(predicate: () => boolean, maxEvents = Number.POSITIVE_INFINITY): boolean {
    this.#stopRequested = false;
    let n = 0;
    for (;;) {
      if (predicate()) return true;
      if (n >= maxEvents || this.#stopped()) return false;
      if (!this.#stepUntil()) {
        if (this.#limit !== Number.POSITIVE_INFINITY) this.#now = this.#limit;
        return false;
      }
      n++;
    }
  }

  /** Asks the running `run*` loop to return after the current event. */
  stop(): void {
    this.#stopRequested = true;
  }

  // A method, not a field read: handlers change the flag behind the loop's back.
  #stopped(): boolean {
    return this.#stopRequested;
  }

  // ---- dispatch ---------------------------------------------------------------

  /** Dispatches the earliest event if it is due at or before the limit. */
  #stepUntil(): boolean {
    if (this.#standingIdle !== undefined) {
      // Due now and first in line: dispatched from where it stands, as it would be from the queue's front.
      const handler = this.#standingHandler;
      const arg = this.#standingArg;
      this.#standingHandler = noop;
      this.#standingArg = undefined;
      this.#standingIdle = undefined;
      this.#dispatched++;
      handler(arg);
      return true;
    }
    // The limit is read here, not passed: a limit beyond 2^31 ns passed to a call that TurboFan does not inline
    // (a run inlined into its caller) is boxed, a heap number at every step.
    const limit = this.#limit;
    if (limit < this.#quietUntil) return false; // nothing can be due yet
    const time = this.#settle(limit);
    if (time < 0) return false;
    // #settle left a live event at the head of the lowest level-0 slot.
    const b = 31 - Math.clz32(this.#slotMask[0]! & -this.#slotMask[0]!);
    const h = this.#head[b]!;
    const slot = this.#bucket[b]![h]!;
    if (h + 1 === this.#bucketLen[b]) this.#clearBucket(b);
    else this.#head[b] = h + 1;
    this.#now = time;
    this.#ref = time; // everything still pending is at or after it
    const handler = this.#handler[slot]!;
    const arg = this.#arg[slot];
    this.#release(slot);
    this.#pending--;
    this.#dispatched++;
    handler(arg);
    return true;
  }

  /**
   * Brings the earliest live event to the head of a level-0 slot if it is due
   * at or before `limit`, and returns its time; returns -1 otherwise.
   * Cancelled events met on the way are recycled. The reference time only
   * moves to a time no later than `limit`, so later schedules stay legal.
   */
  #settle(limit: number): number {
    const state = this.#state;
    for (;;) {
      const levels = this.#levelMask;
      if (levels === 0) {
        // Empty: spreading cancelled events may have moved the reference past
        // `now`; with nothing pending it can safely come back.
        this.#ref = this.#now;
        this.#quietUntil = Number.POSITIVE_INFINITY;
        return -1;
      }
      const level = 31 - Math.clz32(levels & -levels);
      const slots = this.#slotMask[level]!;
      const b = level * 16 + (31 - Math.clz32(slots & -slots));
      const items = this.#bucket[b]!;
      const times = this.#bucketTime[b]!;
      const len = this.#bucketLen[b]!;
      if (level === 0) {
        let h = this.#head[b]!;
        while (h < len && state[items[h]!] === SLOT_CANCELLED) this.#release(items[h++]!);
        if (h === len) {
          this.#clearBucket(b);
          continue;
        }
        this.#head[b] = h;
        if (times[h]! <= limit) return times[h]!;
        this.#quietUntil = times[h]!; // the lowest slot's head is the earliest event
        return -1;
      }
      // Advance the reference to the start of this slot's range: the time
      // with every digit below `level` zero. It is no later than any event here.
      const unit = SLOT_SPAN[level]!;
      const start = Math.floor(times[0]! / unit) * unit;
      if (start > limit) {
        this.#quietUntil = start; // every pending event is at or after this slot's start
        return -1;
      }
      this.#ref = start;
      this.#clearBucket(b);
      for (let i = 0; i < len; i++) {
        const s = items[i]!;
        if (state[s] === SLOT_PENDING) this.#push(s, times[i]!);
        else this.#release(s);
      }
    }
  }

  /** Appends record `slot` (time `t`) to the slot it belongs in relative to the reference; returns that bucket. */
  #push(slot: number, t: number): number {
    const ref = this.#ref;
    const tHi = (t * INV_TWO_POW_32) | 0;
    const hiXor = tHi ^ ((ref * INV_TWO_POW_32) | 0);
    let level: number;
    let digit: number;
    if (hiXor !== 0) {
      level = (63 - Math.clz32(hiXor)) >> 2;
      digit = (tHi >>> (level * 4 - 32)) & 15;
    } else {
      const loXor = t ^ ref; // ToInt32 keeps the low 32 bits exactly
      level = loXor === 0 ? 0 : (31 - Math.clz32(loXor)) >> 2;
      digit = (t >>> (level * 4)) & 15;
    }
    const b = level * 16 + digit;
    let items = this.#bucket[b]!;
    let times = this.#bucketTime[b]!;
    const len = this.#bucketLen[b]!;
    if (len === items.length) {
      const bigger = new Int32Array(Math.max(8, items.length * 2));
      bigger.set(items);
      this.#bucket[b] = items = bigger;
      const biggerTimes = new Float64Array(bigger.length);
      biggerTimes.set(times);
      this.#bucketTime[b] = times = biggerTimes;
    }
    items[len] = slot;
    times[len] = t;
    this.#bucketLen[b] = len + 1;
    this.#slotMask[level]! |= 1 << digit;
    this.#levelMask |= 1 << level;
    return b;
  }

  /** As {@link #push}, but first among the slot's events (the slot keeps its times' order). */
  #pushFront(slot: number, t: number): void {
    const bk = this.#push(slot, t);
    const items = this.#bucket[bk]!;
    const times = this.#bucketTime[bk]!;
    const head = this.#head[bk]!;
    const last = this.#bucketLen[bk]! - 1;
    items.copyWithin(head + 1, head, last);
    times.copyWithin(head + 1, head, last);
    items[head] = slot;
    times[head] = t;
  }

  #clearBucket(b: number): void {
    this.#bucketLen[b] = 0;
    this.#head[b] = 0;
    const level = b >> 4;
    const m = this.#slotMask[level]! & ~(1 << (b & 15));
    this.#slotMask[level] = m;
    if (m === 0) this.#levelMask &= ~(1 << level);
  }

  #release(slot: number): void {
    this.#state[slot] = SLOT_FREE;
    this.#handler[slot] = noop;
    this.#arg[slot] = undefined;
    const g = this.#generation[slot]! + 1;
    this.#generation[slot] = g === GENERATION_LIMIT ? 0 : g;
    this.#freeSlots[this.#freeCount++] = slot;
  }

  #grow(): void {
    const old = this.#time.length;
    if (old >= SLOT_LIMIT) {
      throw new ConfigError(`event queue is full: more than ${SLOT_LIMIT} events`);
    }
    const cap = Math.min(SLOT_LIMIT, old * 2);
    const time = new Float64Array(cap);
    time.set(this.#time);
    this.#time = time;
    const state = new Uint8Array(cap);
    state.set(this.#state);
    this.#state = state;
    const gen = new Int32Array(cap);
    gen.set(this.#generation);
    this.#generation = gen;
    const free = new Int32Array(cap);
    free.set(this.#freeSlots);
    this.#freeSlots = free;
  }
}
