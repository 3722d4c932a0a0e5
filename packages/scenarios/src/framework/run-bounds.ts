/**
 * Run bounds: every scenario run has a virtual-time limit, and a run that
 * stops making progress ends with a verdict instead of spinning.
 *
 * {@link runBounded} advances a host's clock in slices. After each slice it
 * asks the scenario for its progress counter (interrupts taken, vCPUs
 * online) and its own stop condition; when the counter has not moved for
 * `stallSlices` slices while events are still being processed (a livelock:
 * time passes, nothing useful happens), or the clock reached the limit, or
 * nothing is left to happen, it returns why.
 */

import type { Nanoseconds } from "@irqlab/sim";

/** What {@link runBounded} drives: a MachineHost (or anything with the same run). */
export interface BoundedClock {
  readonly queue: { readonly now: Nanoseconds };
  run(until: Nanoseconds, done?: () => boolean): "until" | "done" | "idle";
}

/** Options of {@link runBounded}. */
export interface RunBoundsOptions {
  /** Absolute virtual time at which the run ends. */
  readonly untilNs: Nanoseconds;
  /** Slice length (default 100 µs). */
  readonly sliceNs?: Nanoseconds;
  /** Progress counter: any number that grows while the run does useful work. */
  readonly progress: () => number;
  /** Slices without progress that end the run as stalled (default 20; 0 disables). */
  readonly stallSlices?: number;
  /** The scenario's own end condition, checked between slices. */
  readonly done?: () => boolean;
}

/** Why a bounded run ended. */
export interface RunBoundsEnd {
  /** "limit": the time limit; "idle": nothing left to happen; "stalled": no progress; "done": the scenario's condition. */
  readonly end: "limit" | "idle" | "stalled" | "done";
  /** Virtual time at the end. */
  readonly at: Nanoseconds;
}

/** Runs `clock` until its limit, idleness, a stall or `done`. Never runs past `untilNs`. */
export function runBounded(clock: BoundedClock, o: RunBoundsOptions): RunBoundsEnd {
  const slice = o.sliceNs ?? 100_000;
  const stallSlices = o.stallSlices ?? 20;
  let last = o.progress();
  let still = 0;
  for (;;) {
    const now = clock.queue.now;
    if (o.done?.() === true) return { end: "done", at: now };
    if (now >= o.untilNs) return { end: "limit", at: now };
    const r = clock.run(Math.min(o.untilNs, now + slice));
    if (r === "idle") return { end: "idle", at: clock.queue.now };
    const p = o.progress();
    if (p === last) still++;
    else {
      still = 0;
      last = p;
    }
    if (stallSlices > 0 && still >= stallSlices) return { end: "stalled", at: clock.queue.now };
  }
}
