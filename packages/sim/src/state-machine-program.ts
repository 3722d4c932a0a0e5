/**
 * A guest program written as a state machine instead of a generator, for
 * code a model runs very often (an interrupt vector, a driver's command
 * path): a generator is an object made per call, and each of its yields
 * makes a result record; this hands out one record, reused for its yields
 * and its return, so running it allocates nothing.
 */

import type { GuestOp, GuestResult } from "./guest-ops.js";

/**
 * The iterator side of a guest program kept as a state machine. A subclass
 * holds where it is and implements `next(result)` with {@link yieldOp} and
 * {@link finish}; whoever runs it (a vCPU's run loop, `loopForm`) is done
 * with a record before resuming the program, as with a generator's. Ended
 * from outside (`return`, `throw`), it calls {@link ended} and must answer
 * done from then on.
 */
export abstract class StateMachineProgram<R = void> implements Generator<GuestOp, R, GuestResult> {
  // The record every next() returns: one object, not one for the yields and one for the return, since a
  // vector run at each of thousands of vCPUs' interrupts would fetch both (each a cache miss there).
  readonly #record: { done: boolean; value: GuestOp | R };

  /** @param first any op (the record's first value). */
  protected constructor(first: GuestOp) {
    this.#record = { done: false, value: first };
  }

  /** Resumes the program with the result of the op it yielded last (undefined at the start). */
  abstract next(result: GuestResult): IteratorResult<GuestOp, R>;

  /** The program yields `o`. */
  protected yieldOp(o: GuestOp): IteratorYieldResult<GuestOp> {
    const y = this.#record;
    y.done = false;
    y.value = o;
    return y as IteratorYieldResult<GuestOp>;
  }

  /** The program returns `value`. */
  protected finish(value: R): IteratorReturnResult<R> {
    const d = this.#record;
    d.done = true;
    d.value = value;
    return d as IteratorReturnResult<R>;
  }

  /** The program was ended from outside: it must be done from now on. */
  protected abstract ended(): void;

  return(value: R): IteratorResult<GuestOp, R> {
    this.ended();
    return this.finish(value);
  }

  throw(e: unknown): IteratorResult<GuestOp, R> {
    this.ended();
    throw e;
  }

  [Symbol.iterator](): this {
    return this;
  }
}
