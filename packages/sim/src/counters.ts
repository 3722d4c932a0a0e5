/**
 * Named counters: cheap, always on, and readable at the end of a run. A model
 * asks once for a {@link Counter} handle and bumps `value` on its hot path, so
 * counting costs one property increment, never a map lookup.
 */

/** One named counter. Increment `value` directly. */
export interface Counter {
  readonly name: string;
  value: number;
}

/** A registry of counters, one per name. */
export class Counters {
  readonly #byName = new Map<string, Counter>();

  /** The counter called `name`, created at zero on first use. */
  counter(name: string): Counter {
    let c = this.#byName.get(name);
    if (!c) {
      c = { name, value: 0 };
      this.#byName.set(name, c);
    }
    return c;
  }

  /** Adds `n` (default 1) to the counter called `name`. */
  add(name: string, n = 1): void {
    this.counter(name).value += n;
  }

  /** Current value of `name` (0 if never counted). */
  get(name: string): number {
    return this.#byName.get(name)?.value ?? 0;
  }

  /** All counters as a plain object, names sorted, for reports and snapshots. */
  toJSON(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of [...this.#byName.keys()].sort()) out[name] = this.#byName.get(name)!.value;
    return out;
  }

  /** Sets every counter back to zero. */
  reset(): void {
    for (const c of this.#byName.values()) c.value = 0;
  }
}
