/**
 * Virtual time. Every timestamp in irqlab is an integer number of virtual
 * nanoseconds held in a JS number: exact up to 2^53 ns, about 104 days of
 * simulated time, far beyond any scenario. No wall clock is ever read.
 */

/** Nanoseconds, an integer. */
export type Nanoseconds = number;

/** `n` microseconds in nanoseconds. */
export function us(n: number): Nanoseconds {
  return Math.round(n * 1_000);
}

/** `n` milliseconds in nanoseconds. */
export function ms(n: number): Nanoseconds {
  return Math.round(n * 1_000_000);
}

/** `n` seconds in nanoseconds. */
export function seconds(n: number): Nanoseconds {
  return Math.round(n * 1_000_000_000);
}

/** Human-readable duration: `850 ns`, `3.1 us`, `12.50 ms`, `2.000 s`. */
export function formatNs(ns: Nanoseconds): string {
  const a = Math.abs(ns);
  if (a < 1_000) return `${ns} ns`;
  if (a < 1_000_000) return `${(ns / 1_000).toFixed(1)} us`;
  if (a < 1_000_000_000) return `${(ns / 1_000_000).toFixed(2)} ms`;
  return `${(ns / 1_000_000_000).toFixed(3)} s`;
}
