/**
 * A poll window: the turns of a vCPU's poll of guest RAM (PollOp: a load,
 * then a relax, until the word changes), charged as one interruptible span
 * while another vCPU's work runs inside it.
 *
 * Charged turn by turn, each turn's end is a limit of the event queue: a vCPU
 * running inside the poller's time stops at every one of them and goes on in
 * a continued run, though the poller only loads a word nobody wrote. The
 * window lets those turns pass in one charge and ends exactly where turn by
 * turn the poller would next see something, with the poller in the state it
 * would then be in:
 *
 * - a write to the polled word ends it at the next load that begins after
 *   the write (a load and a write at the same time: the poller's load came
 *   first, as the poller's own steps come before those of a vCPU run inside
 *   its time);
 * - a kick ends it at once if the poller is relaxing (a computation), or at
 *   the end of the load under way (a load is not interruptible);
 * - a handler scheduled meanwhile ends it at the poller's next step (the
 *   end of its load or of its relax): from there the vCPUs and events stop
 *   at every turn again, as without the window;
 * - the queue's limit, or the window's end, ends it wherever it falls.
 *
 * It ends short of the next pending event, and starts only after a load of
 * a word that no handler could have written since. Who runs the clock does
 * not change: the poller keeps it, so the order of everything at one
 * nanosecond is the order the turns give.
 */

import type { EventQueue, ScheduleWatch, WriteWatch } from "@irqlab/sim";

/**
 * The time a window's steps hand on (#nextStep, #nextLoad to #end) and
 * the queue's cut there (EventQueue.cutAtTimeIn): a time beyond 2^31 ns
 * passed to or returned from a call that TurboFan does not inline is boxed,
 * a heap number at every write to the polled word; one in a typed array is not.
 */
const AT = new Float64Array(1);

/** Why a window ended: the limit (or its own end). */
export const WINDOW_LIMIT = 0;
/** A kick during a relax, or at its start. */
export const WINDOW_KICK = 1;
/** A kick during a load, seen at the load's end. */
export const WINDOW_KICK_IN_LOAD = 2;
/** A write to the polled word, seen by the next load. */
export const WINDOW_WRITE = 3;
/** A handler scheduled meanwhile: the poller's next step. */
export const WINDOW_NEXT_STEP = 4;

/**
 * One vCPU's poll window (made once, reused): the turn shape while open,
 * and the earliest end asked of it. Turn k (k = 0, 1, …) of a window opened
 * at `start` with its first relax: the relax of turn 0 is [start, start +
 * relax); load i (i ≥ 1) begins at start + relax + (i − 1)·step and takes
 * `load`, the relax after it the rest of the step.
 */
export class PollWindow implements ScheduleWatch, WriteWatch {
  start = 0;
  relax = 0;
  load = 0;
  step = 0;
  /** The event-queue run depth the window's charge runs at; 0 when closed. */
  depth = 0;
  /** The earliest end asked so far, and why (WINDOW_*). */
  cut = Number.POSITIVE_INFINITY;
  kind = WINDOW_LIMIT;
  // The poller's state where the window ended (see ended()).
  /** Loads made in the window. */
  loads = 0;
  /** The relax still to compute (0 if none is under way). */
  computeLeft = 0;
  /** A load was made and its value not yet checked. */
  unchecked = false;
  /** The rest of a load's cost the limit cut short. */
  debt = 0;

  constructor(private readonly queue: EventQueue) {}

  /** Opens the window at now, its first relax starting. */
  open(relax: number, load: number, depth: number): void {
    this.start = this.queue.now;
    this.relax = relax;
    this.load = load;
    this.step = relax + load;
    this.depth = depth;
    this.cut = Number.POSITIVE_INFINITY;
    this.kind = WINDOW_LIMIT;
  }

  /** ScheduleWatch: a handler was scheduled now. */
  scheduled(): void {
    this.#nextStep();
    this.#end(WINDOW_NEXT_STEP);
  }

  /** WriteWatch: the polled word was written now. */
  written(): void {
    this.#nextLoad();
    this.#end(WINDOW_WRITE);
  }

  /**
   * Where a kick made now is seen, noted as the window's end (the caller cuts
   * the queue's run there), into `into[0]`: now when the window is closed.
   */
  kickNotice(into: Float64Array): void {
    const now = this.queue.now;
    let seen = now;
    if (this.depth !== 0) {
      let kind = WINDOW_KICK;
      const intoLoads = now - this.start - this.relax;
      if (intoLoads >= 0) {
        const r = intoLoads % this.step;
        if (r < this.load) {
          seen = now - r + this.load;
          kind = WINDOW_KICK_IN_LOAD;
        }
      }
      if (seen < this.cut) {
        this.cut = seen;
        this.kind = kind;
      }
    }
    into[0] = seen;
  }

  /** Ends the window at the time in AT for `kind` unless it ends earlier already: the queue's run is cut there. */
  #end(kind: number): void {
    const time = AT[0]!;
    if (this.depth === 0 || time >= this.cut) return;
    this.cut = time;
    this.kind = kind;
    this.queue.cutAtTimeIn(this.depth, AT);
  }

  /** The first of the poller's steps (a load's start or end) after now, into AT. */
  #nextStep(): void {
    const now = this.queue.now;
    const intoLoads = now - this.start - this.relax;
    if (intoLoads < 0) {
      AT[0] = this.start + this.relax;
      return;
    }
    const k = Math.floor(intoLoads / this.step);
    const r = intoLoads - k * this.step;
    const loadStart = this.start + this.relax + k * this.step;
    AT[0] = r < this.load ? loadStart + this.load : loadStart + this.step;
  }

  /** The start of the first load after now, into AT. */
  #nextLoad(): void {
    const now = this.queue.now;
    const intoLoads = now - this.start - this.relax;
    AT[0] = intoLoads < 0 ? this.start + this.relax : this.start + this.relax + (Math.floor(intoLoads / this.step) + 1) * this.step;
  }

  /**
   * Closes the window, which ended at now, and works out where the poller
   * is, turn by turn: {@link loads}, {@link computeLeft}, {@link unchecked},
   * {@link debt}.
   */
  ended(): void {
    const x = this.queue.now;
    const kind = x === this.cut ? this.kind : WINDOW_LIMIT;
    this.depth = 0;
    this.loads = 0;
    this.computeLeft = 0;
    this.unchecked = false;
    this.debt = 0;
    const intoLoads = x - this.start - this.relax;
    if (intoLoads < 0) {
      this.computeLeft = -intoLoads; // in the first relax
      return;
    }
    const i = Math.floor(intoLoads / this.step) + 1; // the load begun last, or about to begin
    const r = intoLoads - (i - 1) * this.step;
    if (r === 0) {
      this.loads = i - 1; // load i is next
      return;
    }
    this.loads = i;
    if (r < this.load) {
      this.unchecked = true;
      this.debt = this.load - r;
    } else if (r === this.load && kind !== WINDOW_KICK) {
      // Load i is over and the poller has not looked at it yet. (A kick at this time came after
      // the poller's steps here: it found the relax under way.)
      this.unchecked = true;
    } else this.computeLeft = this.step - r;
  }
}
