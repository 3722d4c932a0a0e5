/**
 * The timed loop of micro-bench's interrupt round trips (ipi_exec, lpi_exec
 * run `times` times by loop_test()) as a state machine: each iteration
 * optionally clears the flag, sends (one op, or a sub-program such as an ITS
 * command's its_send_single_command), then waits for the handler's flag.
 * Written as a generator the loop would be resumed, and would make a yield
 * record, at each op it yields; this one is its own record, and runs a
 * sub-program's ops through without a generator between them.
 */

import { StateMachineProgram, type GuestOp, type GuestResult } from "@irqlab/sim";
import type { GuestCode } from "../guest-image.js";

/** How {@link RoundTripLoop} ended: iterations done (all, or up to the one whose flag never came), or an assert's line. */
export type RoundTripResult = number | string;

/** One iteration's parts, in order. */
export interface RoundTripSteps {
  /** `irq_received = 0` before the send (lpi_exec), or nothing (ipi_exec clears it with the send). */
  readonly clear?: GuestOp;
  /** The send: one op, or a sub-program started for each iteration that returns false if it failed. */
  readonly send: GuestOp | (() => GuestCode<boolean>);
  /** The wait: its result is the flag, 0 when it never came. */
  readonly wait: GuestOp;
  /** The line the loop returns when the send's sub-program fails. */
  readonly sendFailed?: () => string;
}

// Where a RoundTripLoop resumes: the op it yielded last was ...
const AT_START = 0; // nothing yet
const AT_CLEAR = 1; // the clear
const AT_SEND = 2; // the send op
const IN_SEND = 3; // an op of the send's sub-program
const AT_WAIT = 4; // the wait
const OVER = 5; // returned or ended

/** `for (n = 0; n < times; n++) { clear; send; if (!wait) return n; } return times;` */
export class RoundTripLoop extends StateMachineProgram<RoundTripResult> {
  #at = OVER;
  #n = 0;
  #times = 0;
  #sending: GuestCode<boolean> | undefined;

  constructor(private readonly steps: RoundTripSteps) {
    super(steps.wait);
  }

  /** Starts (or restarts) the loop for `times` iterations. */
  start(times: number): this {
    this.#times = times;
    this.#n = 0;
    this.#sending = undefined;
    this.#at = AT_START;
    return this;
  }

  next(r: GuestResult): IteratorResult<GuestOp, RoundTripResult> {
    switch (this.#at) {
      case AT_START:
        return this.#iteration();
      case AT_CLEAR:
        return this.#send();
      case AT_SEND:
        return this.#yield(AT_WAIT, this.steps.wait);
      case IN_SEND:
        return this.#resumeSend(r);
      case AT_WAIT:
        if (r.value === 0) return this.#return(this.#n);
        this.#n++;
        return this.#iteration();
      default:
        return this.finish(this.#n);
    }
  }

  #iteration(): IteratorResult<GuestOp, RoundTripResult> {
    if (this.#n >= this.#times) return this.#return(this.#times);
    const clear = this.steps.clear;
    // The clear's result is not looked at: the send starts with whatever the clear left.
    return clear !== undefined ? this.#yield(AT_CLEAR, clear) : this.#send();
  }

  #send(): IteratorResult<GuestOp, RoundTripResult> {
    const send = this.steps.send;
    if (typeof send !== "function") return this.#yield(AT_SEND, send);
    const sending = send();
    this.#sending = sending;
    // As yield* starts a delegate: its first next() gets nothing.
    return this.#sent(sending.next());
  }

  #resumeSend(r: GuestResult): IteratorResult<GuestOp, RoundTripResult> {
    return this.#sent(this.#sending!.next(r));
  }

  /** Where the send's sub-program is after `it`: an op to pass on, or its end. */
  #sent(it: IteratorResult<GuestOp, boolean>): IteratorResult<GuestOp, RoundTripResult> {
    if (it.done !== true) return this.#yield(IN_SEND, it.value);
    this.#sending = undefined;
    if (!it.value) return this.#return(this.steps.sendFailed?.() ?? "send failed\n");
    return this.#yield(AT_WAIT, this.steps.wait);
  }

  #yield(at: number, o: GuestOp): IteratorYieldResult<GuestOp> {
    this.#at = at;
    return this.yieldOp(o);
  }

  #return(result: RoundTripResult): IteratorReturnResult<RoundTripResult> {
    this.#at = OVER;
    return this.finish(result);
  }

  // Ended from outside: so is a sub-program under way, as yield* would end it.
  protected ended(): void {
    const s = this.#sending;
    this.#sending = undefined;
    this.#at = OVER;
    s?.return(false);
  }
}
