/**
 * A guest program written as a state machine instead of a generator, for
 * code a model runs very often (an interrupt vector, a driver's command
 * path): a generator is an object made per call, and each of its yields
 * makes a result record; this program is itself the record its yields and
 * its return hand out, so running it allocates nothing.
 */

import type { GuestOp, GuestResult } from "./guest-ops.js";

/**
 * The iterator side of a guest program kept as a state machine. A subclass
 * holds where it is and implements `next(result)` with {@link yieldOp} and
 * {@link finish}. The record next() returns is the program itself (its
 * {@link done} and {@link value}): whoever runs it (a vCPU's run loop,
 * `loopForm`) reads a record before resuming the program, as with a
 * generator's. Ended from outside (`return`, `throw`), it calls
 * {@link ended} and must answer done from then on.
 */
export abstract class StateMachineProgram<R = void> implements Generator<GuestOp, R, GuestResult> {
  // The program is itself the record every next() returns: no record of its own, which a vector run
  // at each of thousands of vCPUs' interrupts would fetch as a cache line apart from the program's.
  /** The iterator record's `done`: whether the last next() ended the program. */
  done = false;
  /** The iterator record's `value`: the op the program yielded last, or what it returned. */
  value: GuestOp | R;

  /** @param first any op (the record's first value). */
  protected constructor(first: GuestOp) {
    this.value = first;
  }

  /** Resumes the program with the result of the op it yielded last (undefined at the start). */
  abstract next(result: GuestResult): IteratorResult<GuestOp, R>;

  /**
   * Whether the op the program yielded last is its last: the next resume
   * returns, and reads nothing to do so — not that op's result, nor memory,
   * nor anything another vCPU may change — so that the return may be taken
   * at any time after the op (an interrupt handler's EOI, then the return
   * from the exception). A vCPU whose charge of that op was cut short may
   * then be left off through the return into the computation it interrupted
   * (Vcpu.idleUntil). False unless a subclass says otherwise.
   */
  // eslint-disable-next-line @typescript-eslint/class-literal-property-style -- a getter, which a subclass overrides with one that reads where it is
  get returnsAfterOp(): boolean {
    return false;
  }

  /** The program yields `o`. */
  protected yieldOp(o: GuestOp): IteratorYieldResult<GuestOp> {
    this.done = false;
    this.value = o;
    return this as unknown as IteratorYieldResult<GuestOp>;
  }

  /** The program returns `value`. */
  protected finish(value: R): IteratorReturnResult<R> {
    this.done = true;
    this.value = value;
    return this as unknown as IteratorReturnResult<R>;
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

/**
 * {@link StateMachineProgram.returnsAfterOp} of any guest program: false for
 * a generator, or any other iterator. The prototype is asked first: a load
 * of the property from a generator, met for the first time by code TurboFan
 * had compiled for state machines only, deoptimised that code, and the run
 * loop's idle check was compiled again without what it had inlined.
 */
export function returnsAfterOp(program: Iterator<GuestOp, unknown, GuestResult>): boolean {
  return program instanceof StateMachineProgram && program.returnsAfterOp;
}
