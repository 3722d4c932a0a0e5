/**
 * Values by hardware interrupt number, for what a flow handler looks up at
 * every interrupt (its handler, its EOIR write). Numbers below
 * {@link LINEAR_HWIRQS} — every INTID but an LPI's, every IMSIC identity —
 * are kept in an array made that long, the others in a map: an array indexed
 * by an LPI (8192 and up) would be kept as a dictionary, as slow as the map,
 * while a map lookup costs several times an array's.
 */

/** Numbers kept in the array: 0 up to this, exclusive. */
export const LINEAR_HWIRQS = 2048;

/** Whether `hwirq` is kept in the array: a whole number below LINEAR_HWIRQS (anything else is a map key). */
function isLinear(hwirq: number): boolean {
  return hwirq >= 0 && hwirq < LINEAR_HWIRQS && (hwirq | 0) === hwirq;
}

/** A map from hardware interrupt number to `T`. */
export class HwirqMap<T> {
  readonly #linear = new Array<T | undefined>(LINEAR_HWIRQS);
  readonly #sparse = new Map<number, T>();

  /** The value of `hwirq`, if any. */
  get(hwirq: number): T | undefined {
    return isLinear(hwirq) ? this.#linear[hwirq] : this.#sparse.get(hwirq);
  }

  /** Sets the value of `hwirq`, replacing any. */
  set(hwirq: number, value: T): void {
    if (isLinear(hwirq)) this.#linear[hwirq] = value;
    else this.#sparse.set(hwirq, value);
  }

  /** Drops the value of `hwirq`. */
  delete(hwirq: number): void {
    if (isLinear(hwirq)) this.#linear[hwirq] = undefined;
    else this.#sparse.delete(hwirq);
  }
}
