/**
 * A guest program written as a state machine instead of a generator, for
 * code a model runs very often (an interrupt vector, a driver's command
 * path): a generator is an object made per call, and each of its yields
 * makes a result record; this hands out one yield record and one return
 * record, reused, so running it allocates nothing.
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
  readonly #yielded: IteratorYieldResult<GuestOp>;
  readonly #returned: IteratorReturnResult<R>;

  /** @param first any op (the yield record's first value); @param result the return record's first value. */
  protected constructor(first: GuestOp, result: R) {
    this.#yielded = { done: false, value: first };
    this.#returned = { done: true, value: result };
  }

  /** Resumes the program with the result of the op it yielded last (undefined at the start). */
  abstract next(result: GuestResult): IteratorResult<GuestOp, R>;

  /** The program yields `o`. */
  protected yieldOp(o: GuestOp): IteratorYieldResult<GuestOp> {
    const y = this.#yielded;
    y.value = o;
    return y;
  }

  /** The program returns `value`. */
  protected finish(value: R): IteratorReturnResult<R> {
    const d = this.#returned;
    d.value = value;
    return d;
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
