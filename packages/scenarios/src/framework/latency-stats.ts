/**
 * Latency samples and their percentiles, in virtual nanoseconds, reported in
 * microseconds. Percentiles use the nearest-rank method (the smallest sample
 * with at least p % of the samples at or below it), so every reported value
 * is a latency that was actually measured.
 */

/** A growable list of latency samples (ns). */
export class LatencySamples {
  #values: number[] = [];
  #sorted = true;

  /** Adds one sample. */
  add(ns: number): void {
    const v = this.#values;
    if (v.length > 0 && ns < v[v.length - 1]!) this.#sorted = false;
    v.push(ns);
  }

  /** Number of samples. */
  get count(): number {
    return this.#values.length;
  }

  /** The nearest-rank percentile `p` (0 < p ≤ 100) in ns, or null without samples. */
  percentileNs(p: number): number | null {
    const v = this.#values;
    if (v.length === 0) return null;
    if (!this.#sorted) {
      v.sort((a, b) => a - b);
      this.#sorted = true;
    }
    const rank = Math.max(1, Math.ceil((p / 100) * v.length));
    return v[rank - 1]!;
  }

  /** The percentile in µs rounded to 0.01 µs, or null without samples. */
  percentileUs(p: number): number | null {
    const ns = this.percentileNs(p);
    return ns === null ? null : Math.round(ns / 10) / 100;
  }
}
