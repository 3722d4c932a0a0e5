/**
 * A fixed-size bit array over 32-bit words: the pending, enable and active bit
 * arrays of interrupt controllers. Search for the lowest set bit skips whole
 * zero words and uses Math.clz32 within a word, so finding the next pending
 * interrupt among 2047 costs at most 64 word tests.
 */

import { ConfigError } from "./errors.js";

/** Index of the lowest set bit of a non-zero 32-bit word. */
export function lowestSetBit(word: number): number {
  return 31 - Math.clz32(word & -word);
}

/** A bit array of `size` bits, all clear at construction. */
export class Bitmap {
  /** The backing words: bit i is bit (i % 32) of word (i >> 5). */
  readonly words: Uint32Array;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 0) throw new ConfigError(`bitmap size ${size} is not a non-negative integer`);
    this.words = new Uint32Array((size + 31) >>> 5);
  }

  /** Bit `i` (false for an index outside the map). */
  get(i: number): boolean {
    return i >= 0 && i < this.size && ((this.words[i >>> 5]! >>> (i & 31)) & 1) === 1;
  }

  /** Sets bit `i`; ignored outside the map. */
  set(i: number): void {
    if (i >= 0 && i < this.size) this.words[i >>> 5]! |= 1 << (i & 31);
  }

  /** Clears bit `i`; ignored outside the map. */
  clear(i: number): void {
    if (i >= 0 && i < this.size) this.words[i >>> 5]! &= ~(1 << (i & 31));
  }

  /** Sets or clears bit `i`. */
  assign(i: number, on: boolean): void {
    if (on) this.set(i);
    else this.clear(i);
  }

  /** Lowest set bit at or after `from`, or -1. */
  findNextSet(from = 0): number {
    if (from < 0) from = 0;
    if (from >= this.size) return -1;
    const w = this.words;
    let wi = from >>> 5;
    let word = w[wi]! & (~0 << (from & 31));
    for (;;) {
      if (word !== 0) {
        const bit = (wi << 5) + lowestSetBit(word);
        return bit < this.size ? bit : -1;
      }
      if (++wi >= w.length) return -1;
      word = w[wi]!;
    }
  }

  /** Lowest bit set in both this map and `other` (same size), or -1. */
  findFirstCommon(other: Bitmap): number {
    const a = this.words;
    const b = other.words;
    const n = Math.min(a.length, b.length);
    for (let wi = 0; wi < n; wi++) {
      const word = a[wi]! & b[wi]!;
      if (word !== 0) {
        const bit = (wi << 5) + lowestSetBit(word);
        return bit < this.size ? bit : -1;
      }
    }
    return -1;
  }

  /**
   * Lowest bit set in both this map and `other` (same size) at or after
   * `from`, wrapping around to bit 0 and stopping before `from`; -1 if none.
   * ("An idle hart my affinity allows, starting from my last one".)
   */
  findNextCommonWrapping(other: Bitmap, from: number): number {
    const a = this.words;
    const b = other.words;
    const n = Math.min(a.length, b.length);
    if (n === 0) return -1;
    if (from < 0 || from >= this.size) from = 0;
    const startWord = from >>> 5;
    for (let k = 0; k <= n; k++) {
      const wi = (startWord + k) % n;
      let word = a[wi]! & b[wi]!;
      if (k === 0) word &= ~0 << (from & 31);
      else if (k === n) word &= ~(~0 << (from & 31));
      if (word !== 0) {
        const bit = (wi << 5) + lowestSetBit(word);
        return bit < this.size ? bit : -1;
      }
    }
    return -1;
  }

  /** Number of set bits. */
  count(): number {
    let n = 0;
    for (const word of this.words) {
      let v = word - ((word >>> 1) & 0x55555555);
      v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
      n += (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
    }
    return n;
  }

  /** Clears every bit. */
  clearAll(): void {
    this.words.fill(0);
  }

  /** ORs `other` into this map (the merge KVM does when it moves a guest file). */
  orWith(other: Bitmap): void {
    const a = this.words;
    const b = other.words;
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) a[i] = a[i]! | b[i]!;
  }

  /** Copy of the words, for snapshots. */
  toArray(): number[] {
    return Array.from(this.words);
  }

  /** Loads words from a snapshot; extra or missing words are ignored or zeroed. */
  loadArray(words: readonly number[]): void {
    this.words.fill(0);
    for (let i = 0; i < Math.min(words.length, this.words.length); i++) this.words[i] = words[i]! >>> 0;
    // Bits beyond `size` in the last word are never set.
    const tail = this.size & 31;
    if (tail !== 0 && this.words.length > 0) this.words[this.words.length - 1]! &= (1 << tail) - 1;
  }
}
