/**
 * The `eip`/`eie` arrays of one IMSIC interrupt file and the bookkeeping that
 * makes its hot paths O(1): the internal base class of `ImsicFile`
 * (imsic-file.ts), which owns `eidelivery`, `eithreshold`, the delivery line
 * and the register interface. Not exported from the package.
 *
 *
 * Spec: RISC-V AIA 1.0, riscv/riscv-aia src/IMSIC.adoc §3.9 (`eip0`–`eip63`,
 * `eie0`–`eie63`: identity i is bit i % 32 of word i / 32; identity 0 and
 * identities beyond N read zero) and §3.10 (the lowest pending-and-enabled
 * identity is the one `*topei` reports). Cross-check: QEMU
 * hw/intc/riscv_imsic.c (riscv_imsic_topei, riscv_imsic_eix_rmw); Linux
 * arch/riscv/kvm/aia_imsic.c (imsic_mrif_topei, imsic_vsfile_local_update).
 *
 * Kept here, in one word array with eip and eie: the words of eip ∧ eie, a two-word summary of the non-zero ones
 * (≤ 64 words for N ≤ 2047), the lowest pending∧enabled identity (`eixTop`,
 * threshold not applied), and a summary of the words that may be non-zero
 * in `eip` or `eie`, so that a clear or a move visits only those. Methods
 * that may change `eixTop` report it (or the caller re-reads it); none of
 * them touches the delivery line. Why a base class rather than a field of
 * ImsicFile: the extra object hop cost ~5–10 % on the `seteipnum`→`*topei`
 * →claim benchmark; inherited, the fields stay on one object.
 */

import { lowestSetBit } from "@irqlab/sim";
import { slabWords } from "./word-slab.js";

// A word's three entries, from 3w: eip, eie, eip & eie.
const EIP = 0;
const EIE = 1;
const READY = 2;

/** The `eip`/`eie` words of one file with their summaries (internal base of ImsicFile; members are `eix`-prefixed). */
export abstract class ImsicEix {
  /**
   * The array that holds every word of the file, from `#o` on, so that a
   * delivery touches one array: word w of `eip`, of `eie` and of
   * `eip & eie` side by side at 3w, 3w + 1 and 3w + 2 (identity i is bit
   * i % 32 of word i / 32, w < W = (N + 1) / 32), so that setting,
   * clearing or enabling an identity reads and writes 12 bytes of one cache
   * line rather than three words W apart. Shared with other files
   * (word-slab.ts): the array object is one of a few, in cache, where a view
   * of each file's own would be one more object to load before the words.
   */
  readonly #s: Uint32Array;
  /** Where the file's words start in `#s`. */
  readonly #o: number;
  /** W. */
  readonly #n: number;
  /** Non-zero words of eip & eie (bit w of lo for w < 32, of hi for w − 32). */
  #sumLo = 0;
  #sumHi = 0;
  /** Words that may be non-zero in `eip` or `eie` (same layout): clears and moves visit only these. */
  #dirtyLo = 0;
  #dirtyHi = 0;
  /** Lowest pending-and-enabled identity, 0 if none (threshold not applied); written only here. */
  protected eixTop = 0;

  /** @param nrIds number of identities N (already validated: 64k − 1, ≤ 2047). */
  protected constructor(nrIds: number) {
    this.#n = (nrIds + 1) >>> 5;
    const words = slabWords(3 * this.#n);
    this.#s = words.slab;
    this.#o = words.at;
  }

  /** ImsicFile.prefetch: the file's first words, and its fields up to the summaries. */
  protected eixPrefetch(): number {
    return (this.#s[this.#o] === 0 ? 0 : 1) + (this.#dirtyHi === 0 ? 0 : 1);
  }

  /** Number of 32-bit words, (N + 1) / 32. */
  protected get eixCount(): number {
    return this.#n;
  }

  /** Sets the pending bit of the valid identity `id`; returns whether `eixTop` changed. */
  protected eixSetPending(id: number): boolean {
    const s = this.#s;
    const w = id >>> 5;
    const at = this.#o + 3 * w;
    const b = 1 << (id & 31);
    const old = s[at]!;
    if ((old & b) !== 0) return false;
    s[at] = old | b;
    this.#markDirty(w);
    if ((s[at + EIE]! & b) === 0) return false;
    s[at + READY]! |= b;
    if (w < 32) this.#sumLo |= 1 << w;
    else this.#sumHi |= 1 << (w - 32);
    if (this.eixTop !== 0 && id >= this.eixTop) return false;
    this.eixTop = id;
    return true;
  }

  /** Clears the pending bit of the valid identity `id`; `eixTop` follows. */
  protected eixClearPending(id: number): void {
    this.#s[this.#o + 3 * (id >>> 5)]! &= ~(1 << (id & 31));
    this.#refreshWord(id >>> 5);
  }

  /** Sets or clears the enable bit of the valid identity `id`; `eixTop` follows. */
  protected eixSetEnabled(id: number, on: boolean): void {
    const s = this.#s;
    const k = this.#o + 3 * (id >>> 5) + EIE;
    const b = 1 << (id & 31);
    s[k] = on ? s[k]! | b : s[k]! & ~b;
    if (on) this.#markDirty(id >>> 5);
    this.#refreshWord(id >>> 5);
  }

  /** Pending bit of `id` (false outside 0..N). */
  protected eixIsPending(id: number): boolean {
    return this.#bit(EIP, id);
  }

  /** Enable bit of `id` (false outside 0..N). */
  protected eixIsEnabled(id: number): boolean {
    return this.#bit(EIE, id);
  }

  /** Word `k` of `eip` (or `eie` when `enable`); 0 beyond N. */
  protected eixRead(enable: boolean, k: number): number {
    return k >= 0 && k < this.#n ? this.#s[this.#o + 3 * k + (enable ? EIE : EIP)]! : 0;
  }

  /** Stores word `k` of `eip` (or `eie`): bit 0 of word 0 and words beyond N are read-only zero; `eixTop` follows. */
  protected eixWrite(enable: boolean, k: number, value: number): void {
    if (!(k >= 0 && k < this.#n)) return;
    this.#s[this.#o + 3 * k + (enable ? EIE : EIP)] = (k === 0 ? value & ~1 : value) >>> 0; // identity 0 is never valid
    this.#markDirty(k);
    this.#refreshAll();
  }

  /** `eip` as a plain array of words. */
  protected eixEipArray(): number[] {
    return this.#column(EIP);
  }

  /** `eie` as a plain array of words. */
  protected eixEieArray(): number[] {
    return this.#column(EIE);
  }

  /** Loads (or with `merge` ORs in) snapshot words; missing words are zero, extra ones ignored; `eixTop` follows. */
  protected eixLoad(eip: readonly number[], eie: readonly number[], merge: boolean): void {
    const s = this.#s;
    const o = this.#o;
    const n = this.#n;
    for (let i = 0; i < n; i++) {
      const at = o + 3 * i;
      s[at] = (merge ? s[at]! : 0) | ((eip[i] ?? 0) >>> 0);
      s[at + EIE] = (merge ? s[at + EIE]! : 0) | ((eie[i] ?? 0) >>> 0);
      if ((s[at] | s[at + EIE]!) !== 0) this.#markDirty(i);
    }
    s[o]! &= ~1; // identity 0 is never valid
    s[o + EIE]! &= ~1;
    this.#refreshAll();
  }

  /** Zeroes `eip` and `eie`, visiting only the words that may be non-zero; `eixTop` becomes 0. */
  protected eixClear(): void {
    if (this.#dirtyLo !== 0) this.#zeroWords(0, this.#dirtyLo);
    if (this.#dirtyHi !== 0) this.#zeroWords(32, this.#dirtyHi);
    this.#dirtyLo = this.#dirtyHi = this.#sumLo = this.#sumHi = this.eixTop = 0;
  }

  /**
   * Zeroes these words and ORs them into `target` (which may be this one) in
   * one pass over the words that may be non-zero; words beyond `target`'s
   * identities are dropped. Afterwards this `eixTop` is 0, while `target`'s is
   * stale until the caller runs `target.eixFindTop()`, so that the caller can
   * drop this file's line first (the order KVM's move has).
   */
  protected eixMoveInto(target: ImsicEix): void {
    const lo = this.#dirtyLo;
    const hi = this.#dirtyHi;
    this.#dirtyLo = this.#dirtyHi = this.#sumLo = this.#sumHi = this.eixTop = 0; // before the pass: `target` may be this
    if (lo !== 0) this.#moveWords(target, 0, lo);
    if (hi !== 0) this.#moveWords(target, 32, hi);
  }

  /** Recomputes `eixTop` from the summary. */
  protected eixFindTop(): void {
    let w: number;
    if (this.#sumLo !== 0) w = lowestSetBit(this.#sumLo);
    else if (this.#sumHi !== 0) w = 32 + lowestSetBit(this.#sumHi);
    else {
      this.eixTop = 0;
      return;
    }
    this.eixTop = (w << 5) + lowestSetBit(this.#s[this.#o + 3 * w + READY]!);
  }

  // ---- helpers ----

  /** Bit `id` of `eip` (`array` EIP) or `eie` (EIE); false outside 0..N. */
  #bit(array: number, id: number): boolean {
    return id >= 0 && id < this.#n * 32 && ((this.#s[this.#o + 3 * (id >>> 5) + array]! >>> (id & 31)) & 1) === 1;
  }

  /** The W words of `eip` (`array` EIP) or `eie` (EIE), in a plain array. */
  #column(array: number): number[] {
    const words = new Array<number>(this.#n);
    for (let w = 0; w < words.length; w++) words[w] = this.#s[this.#o + 3 * w + array]!;
    return words;
  }

  /** Zeroes the words `bits` names (word base + bit). */
  #zeroWords(base: number, bits: number): void {
    const s = this.#s;
    for (; bits !== 0; bits &= bits - 1) {
      const at = this.#o + 3 * (base + lowestSetBit(bits));
      s[at] = s[at + EIE] = s[at + READY] = 0;
    }
  }

  /** moveInto's pass over the words `bits` names (word base + bit): zeroes each here and ORs it into `target`. */
  #moveWords(target: ImsicEix, base: number, bits: number): void {
    const s = this.#s;
    const o = this.#o;
    const ts = target.#s;
    const to = target.#o;
    const m = target.#n;
    let moved = 0;
    let nonzero = 0;
    while (bits !== 0) {
      const bit = bits & -bits;
      bits ^= bit;
      const w = base + lowestSetBit(bit);
      const at = o + 3 * w;
      const pw = s[at]!;
      const ew = s[at + EIE]!;
      s[at] = 0; // before the OR: a move into itself keeps the words
      s[at + EIE] = 0;
      s[at + READY] = 0;
      if (w < m) { // beyond target's identities: dropped
        const tat = to + 3 * w;
        const np = ts[tat]! | pw;
        const ne = ts[tat + EIE]! | ew;
        ts[tat] = np;
        ts[tat + EIE] = ne;
        ts[tat + READY] = np & ne;
        moved |= bit;
        if ((np & ne) !== 0) nonzero |= bit;
      }
    }
    if (base === 0) {
      target.#dirtyLo |= moved;
      target.#sumLo |= nonzero; // an OR-merge only adds bits (and a file moved into itself starts from zero)
    } else {
      target.#dirtyHi |= moved;
      target.#sumHi |= nonzero;
    }
  }

  #markDirty(w: number): void {
    if (w < 32) this.#dirtyLo |= 1 << w;
    else this.#dirtyHi |= 1 << (w - 32);
  }

  #refreshWord(w: number): void {
    const s = this.#s;
    const at = this.#o + 3 * w;
    const v = (s[at]! & s[at + EIE]!) >>> 0;
    s[at + READY] = v;
    if (w < 32) this.#sumLo = v !== 0 ? this.#sumLo | (1 << w) : this.#sumLo & ~(1 << w);
    else this.#sumHi = v !== 0 ? this.#sumHi | (1 << (w - 32)) : this.#sumHi & ~(1 << (w - 32));
    this.eixFindTop();
  }

  #refreshAll(): void {
    let lo = 0;
    let hi = 0;
    const s = this.#s;
    const o = this.#o;
    const n = this.#n;
    for (let w = 0; w < n; w++) {
      const at = o + 3 * w;
      const v = (s[at]! & s[at + EIE]!) >>> 0;
      s[at + READY] = v;
      if (v !== 0) {
        if (w < 32) lo |= 1 << w;
        else hi |= 1 << (w - 32);
      }
    }
    this.#sumLo = lo;
    this.#sumHi = hi;
    this.eixFindTop();
  }
}
