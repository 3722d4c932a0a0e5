/**
 * A state track: a thing that is in exactly one state at a time (a vCPU in
 * the guest, in the kernel, blocked, back in the VMM; a host CPU running a
 * thread or idle), drawn as back-to-back slices that never overlap.
 *
 * Each change closes the open slice as a span and opens the next one, so a
 * viewer gets complete (`X`) events only. The open slice is not recorded
 * until it closes; {@link Tracer.openSpans} hands it to exports. Callers on
 * hot paths test `tracer.enabled` first; every method also returns at once
 * when tracing is off, and nothing is allocated then.
 */

import type { TraceArgs, Tracer, TrackId } from "./tracer.js";
import type { Nanoseconds } from "./time.js";

/** The slice a state track has open. */
export interface OpenState {
  readonly name: string;
  readonly args: TraceArgs | undefined;
  readonly since: Nanoseconds;
}

/** One state track. */
export class TraceState {
  #open: OpenState | undefined;

  constructor(
    readonly tracer: Tracer,
    /** The track the slices go to. */
    readonly track: TrackId,
    /** Their category. */
    readonly category: string,
  ) {
    tracer.addState(this);
  }

  /** The open slice, if any. */
  get open(): OpenState | undefined {
    return this.#open;
  }

  /**
   * Closes the open slice now and opens `name` (zero-length slices are left
   * out). Entering the state already open, with the same `args` object (or
   * none), continues it.
   */
  enter(name: string, args?: TraceArgs): void {
    if (!this.tracer.enabled) return;
    const o = this.#open;
    if (o?.name === name && o.args === args) return;
    const now = this.tracer.now;
    this.#close(now);
    this.#open = { name, args, since: now };
  }

  /** Closes the open slice now; the track shows nothing until the next {@link enter}. */
  leave(): void {
    if (!this.tracer.enabled) return;
    this.#close(this.tracer.now);
    this.#open = undefined;
  }

  /**
   * Closes the open slice now and opens the same state again: a slice never
   * crosses this moment (the end of a KVM_RUN that encloses the slices).
   */
  cut(): void {
    const o = this.#open;
    if (!this.tracer.enabled || o === undefined) return;
    const now = this.tracer.now;
    if (now === o.since) return;
    this.#close(now);
    this.#open = { name: o.name, args: o.args, since: now };
  }

  #close(now: Nanoseconds): void {
    const o = this.#open;
    if (o !== undefined && now > o.since) this.tracer.span(this.track, this.category, o.name, o.since, now - o.since, o.args);
  }
}
