/**
 * A set of non-negative safe integers (the explorer's 46-bit state keys), in
 * one Float64Array probed linearly. A JavaScript Set takes each such key, too
 * wide for a small integer, as a heap number made at every lookup and hashed
 * as a double: over the explorer's hundreds of thousands of lookups, that and
 * the garbage it left were about a third of its time.
 */

/** Marks an empty slot: keys are never negative. */
const EMPTY = -1;

export class KeySet {
  #slots: Float64Array;
  #mask: number;
  #size = 0;

  /** @param capacity keys expected (the table grows past it as needed) */
  constructor(capacity = 1024) {
    let n = 16;
    while (n < capacity * 2) n *= 2;
    this.#slots = new Float64Array(n).fill(EMPTY);
    this.#mask = n - 1;
  }

  /** Keys held. */
  get size(): number {
    return this.#size;
  }

  /**
   * Adds `key` (a safe integer ≥ 0). Returns false if it was there already.
   * @throws RangeError for a key that is not a non-negative safe integer
   */
  add(key: number): boolean {
    if (!Number.isSafeInteger(key) || key < 0) throw new RangeError(`KeySet: key ${key} is not a non-negative safe integer`);
    const slots = this.#slots;
    const mask = this.#mask;
    for (let i = slotOf(key, mask); ; i = (i + 1) & mask) {
      const k = slots[i]!;
      if (k === key) return false;
      if (k === EMPTY) {
        slots[i] = key;
        if (++this.#size * 2 > mask) this.#grow();
        return true;
      }
    }
  }

  /** Whether `key` is held. */
  has(key: number): boolean {
    const slots = this.#slots;
    const mask = this.#mask;
    for (let i = slotOf(key, mask); ; i = (i + 1) & mask) {
      const k = slots[i]!;
      if (k === key) return true;
      if (k === EMPTY) return false;
    }
  }

  /** Doubles the table, keeping it at most half full so that probes stay short. */
  #grow(): void {
    const old = this.#slots;
    const n = old.length * 2;
    const slots = new Float64Array(n).fill(EMPTY);
    const mask = n - 1;
    for (const key of old) {
      if (key === EMPTY) continue;
      let i = slotOf(key, mask);
      while (slots[i] !== EMPTY) i = (i + 1) & mask;
      slots[i] = key;
    }
    this.#slots = slots;
    this.#mask = mask;
  }
}

/** The first slot to probe for `key`: its two 32-bit halves mixed (MurmurHash3's finaliser). */
function slotOf(key: number, mask: number): number {
  let h = (key >>> 0) ^ Math.imul(Math.floor(key / 4294967296), 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) & mask;
}
