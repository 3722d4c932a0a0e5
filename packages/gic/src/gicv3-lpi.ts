/**
 * Physical LPIs of one redistributor: GICR_PROPBASER / GICR_PENDBASER, the
 * LPI configuration and pending tables in guest memory, GICR_CTLR.EnableLPIs
 * and the cached configuration that INV / INVALL make visible.
 *
 * Spec: IHI 0069H §5.1 (LPIs), §5.1.1 (LPI configuration table: priority in
 * bits [7:2], enable in bit 0), §5.1.2 (LPI pending table, the first 1 KiB
 * IMPLEMENTATION DEFINED), §12.11.34/37 (GICR_PROPBASER, GICR_PENDBASER).
 * Cross-check: Linux arch/arm64/kvm/vgic/vgic-its.c `vgic_enable_lpis()`,
 * `its_sync_lpi_pending_table()`, `update_lpi_config()`,
 * `vgic_v3_save_pending_tables()`; QEMU hw/intc/arm_gicv3_redist.c
 * `gicv3_redist_update_lpi()`.
 *
 * Caching: the configuration byte of every LPI is read into a cache when LPIs
 * are enabled and again only on INV/INVALL (or GICR_INVLPIR/INVALLR); a guest
 * that edits the table in memory without an invalidation is not observed,
 * which is what KVM and real hardware do. LPIs are edge-triggered, group 1,
 * and have no active state.
 */

import { GuestMemoryFault, type GuestMemory } from "@irqlab/sim";
import { GIC_FIRST_LPI, LPI_ID_BITS, LPI_PROP_ENABLED, LPI_PROP_PRIORITY_MASK } from "./gicv3-constants.js";

/** Number of LPI INTIDs that can exist (8192 .. 2^16 − 1). */
export const MAX_LPIS = (1 << LPI_ID_BITS) - GIC_FIRST_LPI;
const WORDS = MAX_LPIS >>> 5;
/** A pending table's bytes as read by {@link LpiRedistributor.enable} (the model is single-threaded: one buffer serves every redistributor). */
const PENDING_BYTES = new Uint8Array(WORDS * 4);
/** Bytes of a redistributor's LPI cache: configuration bytes, then pending, eligible and summary words. */
const CACHE_BYTES = MAX_LPIS + 4 * (2 * WORDS + (WORDS >>> 5));
/** The eligibility bits of a redistributor whose cache does not exist yet. */
const NO_WORDS = new Uint32Array(0);

/** Snapshot of one redistributor's LPI state. */
export interface LpiSnapshot {
  readonly enabled: boolean;
  readonly propbaser: readonly [number, number];
  readonly pendbaser: readonly [number, number];
  readonly limit: number;
  readonly config: number[];
  readonly pending: number[];
}

/** One redistributor's LPI state. */
export class LpiRedistributor {
  /** GICR_CTLR.EnableLPIs. */
  enabled = false;
  propLo = 0;
  propHi = 0;
  pendLo = 0;
  pendHi = 0;
  /** One past the largest LPI INTID that PROPBASER.IDbits allows. */
  limit = GIC_FIRST_LPI;
  /** Cached configuration bytes (index INTID − 8192); allocated on first enable. */
  config: Uint8Array | undefined;
  /** Pending bits (index INTID − 8192). */
  pending: Uint32Array | undefined;
  /** pending && cached enable, with a one-bit-per-word summary (empty until the cache exists). */
  #elig = NO_WORDS;
  #summary = NO_WORDS;
  #eligCount = 0;

  /** Number of pending and enabled LPIs. */
  get eligibleCount(): number {
    return this.#eligCount;
  }

  /**
   * Sets EnableLPIs: allocates the cache, reads the configuration table and,
   * unless PENDBASER.PTZ, the pending table. Memory faults leave the entry at
   * 0 and are reported through `fault`.
   */
  enable(mem: GuestMemory | undefined, fault: (what: string) => void): void {
    this.enabled = true;
    if (this.config === undefined) this.#allocate();
    const idBits = Math.min((this.propLo & 0x1f) + 1, LPI_ID_BITS);
    this.limit = 2 ** idBits;
    this.#readConfigTable(mem, fault);
    const ptz = (this.pendHi & (1 << 30)) !== 0;
    if (!ptz && mem && this.limit > GIC_FIRST_LPI) this.#readPendingTable(mem, fault);
    this.#rebuild();
  }

  /**
   * Takes the pending table's set bits into the cache: word by word, a word
   * of zeros leaving the cached bits as they are. The table is copied in one
   * read when it is all in RAM; otherwise the words are read one at a time,
   * up to the first that faults.
   */
  #readPendingTable(mem: GuestMemory, fault: (what: string) => void): void {
    // INTID 8192 + 32w is bit 0 of byte (8192 + 32w) / 8 = 1024 + 4w.
    const at = this.pendingTableAddress() + 1024;
    const words = (this.limit - GIC_FIRST_LPI) >>> 5;
    const pending = this.pending!;
    const bytes = PENDING_BYTES.subarray(0, 4 * words);
    try {
      // None of the table was ever written: all its words are 0, and the cache stays as it is.
      if (mem.readInto(at, bytes) === 0) return;
    } catch (e) {
      if (!(e instanceof GuestMemoryFault)) throw e;
      try {
        for (let w = 0; w < words; w++) {
          const word = mem.readU32(at + 4 * w);
          if (word !== 0) pending[w] = word;
        }
      } catch (e2) {
        if (!(e2 instanceof GuestMemoryFault)) throw e2;
        fault(`pending table read at 0x${e2.address.toString(16)} faulted`);
      }
      return;
    }
    for (let w = 0, b = 0; w < words; w++, b += 4) {
      const word = (bytes[b]! | (bytes[b + 1]! << 8) | (bytes[b + 2]! << 16) | (bytes[b + 3]! << 24)) >>> 0;
      if (word !== 0) pending[w] = word;
    }
  }

  /** Clears EnableLPIs: pending LPIs are dropped (KVM vgic_flush_pending_lpis). */
  disable(): void {
    this.enabled = false;
    this.pending?.fill(0);
    this.#rebuild();
  }

  /** PROPBASER.PA. */
  configTableAddress(): number {
    return (this.propHi & 0xfffff) * 2 ** 32 + ((this.propLo & 0xfffff000) >>> 0);
  }

  /** PENDBASER.PA (64 KiB aligned). */
  pendingTableAddress(): number {
    return (this.pendHi & 0xfffff) * 2 ** 32 + ((this.pendLo & 0xffff0000) >>> 0);
  }

  /** Whether `intid` is an LPI this redistributor can hold now. */
  inRange(intid: number): boolean {
    return this.enabled && intid >= GIC_FIRST_LPI && intid < this.limit;
  }

  /** Cached configuration byte of `intid` (0 when out of range). */
  configByte(intid: number): number {
    return this.config !== undefined && intid >= GIC_FIRST_LPI && intid < this.limit
      ? this.config[intid - GIC_FIRST_LPI]!
      : 0;
  }

  /** Cached priority of `intid` (config bits [7:2]). */
  priority(intid: number): number {
    return this.configByte(intid) & LPI_PROP_PRIORITY_MASK;
  }

  /** Whether `intid` is pending. */
  isPending(intid: number): boolean {
    if (this.pending === undefined || intid < GIC_FIRST_LPI || intid >= this.limit) return false;
    const i = intid - GIC_FIRST_LPI;
    return ((this.pending[i >>> 5]! >>> (i & 31)) & 1) === 1;
  }

  /** Sets or clears the pending bit of an in-range LPI; returns its eligibility. */
  setPending(intid: number, on: boolean): boolean {
    const i = intid - GIC_FIRST_LPI;
    const p = this.pending!;
    if (on) p[i >>> 5]! |= 1 << (i & 31);
    else p[i >>> 5]! &= ~(1 << (i & 31));
    return this.#refresh(i);
  }

  /** INV: rereads the configuration byte of `intid`; returns its eligibility. */
  invalidate(intid: number, mem: GuestMemory | undefined, fault: (what: string) => void): boolean {
    if (this.config === undefined || !this.inRange(intid)) return false;
    const i = intid - GIC_FIRST_LPI;
    this.config[i] = this.#readConfig(mem, i, fault);
    return this.#refresh(i);
  }

  /** INVALL: rereads every configuration byte. */
  invalidateAll(mem: GuestMemory | undefined, fault: (what: string) => void): void {
    if (this.config === undefined) return;
    this.#readConfigTable(mem, fault);
    this.#rebuild();
  }

  /** Reads the configuration bytes below the IDbits limit; those above it, and all of them when the read faults, are 0. */
  #readConfigTable(mem: GuestMemory | undefined, fault: (what: string) => void): void {
    const cfg = this.config!;
    const n = Math.max(0, this.limit - GIC_FIRST_LPI);
    // The read overwrites [0, n) whole (a page not in RAM's index reads as 0), so only the rest is cleared first.
    cfg.fill(0, n);
    if (n === 0) return;
    if (mem === undefined) {
      cfg.fill(0, 0, n);
      return;
    }
    const pa = this.configTableAddress();
    try {
      mem.readInto(pa, cfg.subarray(0, n));
    } catch (e) {
      if (!(e instanceof GuestMemoryFault)) throw e;
      // readInto checks its whole range before copying: nothing was read.
      cfg.fill(0, 0, n);
      fault(`configuration table read at 0x${pa.toString(16)} faulted`);
    }
  }

  /** Writes the pending bits back to the pending table (SAVE_PENDING_TABLES). */
  savePendingTable(mem: GuestMemory): void {
    if (this.pending === undefined || this.limit <= GIC_FIRST_LPI) return;
    const pa = this.pendingTableAddress();
    for (let w = 0; w < (this.limit - GIC_FIRST_LPI) >>> 5; w++) mem.writeU32(pa + 1024 + 4 * w, this.pending[w]!);
  }

  /**
   * Highest-priority pending and enabled LPI with priority below `bestPrio`
   * (ties to the lowest INTID), or -1. `priMask` drops unimplemented bits.
   */
  highest(priMask: number, bestPrio: number): number {
    if (this.#eligCount === 0) return -1;
    const cfg = this.config!;
    let best = -1;
    let bp = bestPrio;
    for (let s = 0; s < this.#summary.length; s++) {
      let sum = this.#summary[s]!;
      while (sum !== 0) {
        const wi = (s << 5) + lowBit(sum);
        sum &= sum - 1;
        let word = this.#elig[wi]!;
        while (word !== 0) {
          const i = (wi << 5) + lowBit(word);
          word &= word - 1;
          const pr = cfg[i]! & LPI_PROP_PRIORITY_MASK & priMask;
          if (pr < bp) {
            bp = pr;
            best = i + GIC_FIRST_LPI;
          }
        }
      }
    }
    return best;
  }

  #readConfig(mem: GuestMemory | undefined, i: number, fault: (what: string) => void): number {
    if (!mem) return 0;
    const addr = this.configTableAddress() + i;
    try {
      return mem.readU8(addr);
    } catch (e) {
      if (!(e instanceof GuestMemoryFault)) throw e;
      fault(`configuration byte read at 0x${addr.toString(16)} faulted`);
      return 0;
    }
  }

  #refresh(i: number): boolean {
    const w = i >>> 5;
    const bit = 1 << (i & 31);
    const on = this.enabled && ((this.pending![w]! & bit) !== 0) && (this.config![i]! & LPI_PROP_ENABLED) !== 0;
    const was = (this.#elig[w]! & bit) !== 0;
    if (on !== was) {
      this.#elig[w]! ^= bit;
      this.#eligCount += on ? 1 : -1;
      if (this.#elig[w] === 0) this.#summary[w >>> 5]! &= ~(1 << (w & 31));
      else this.#summary[w >>> 5]! |= 1 << (w & 31);
    }
    return on;
  }

  #rebuild(): void {
    // #refresh keeps the count exact, so with none eligible the bits are all 0 already (a new cache's untouched pages stay so).
    if (this.#eligCount !== 0) {
      this.#elig.fill(0);
      this.#summary.fill(0);
      this.#eligCount = 0;
    }
    if (!this.enabled || this.pending === undefined || this.config === undefined) return;
    const n = Math.max(0, this.limit - GIC_FIRST_LPI);
    for (let w = 0; w < n >>> 5; w++) {
      if (this.pending[w] !== 0) for (let b = 0; b < 32; b++) this.#refresh((w << 5) + b);
    }
  }

  /** Plain copy for snapshots. */
  state(): LpiSnapshot {
    return {
      enabled: this.enabled,
      propbaser: [this.propLo, this.propHi],
      pendbaser: [this.pendLo, this.pendHi],
      limit: this.limit,
      // Only the part PROPBASER.IDbits makes reachable is kept.
      config: this.config ? Array.from(this.config.subarray(0, this.#span())) : [],
      pending: this.pending ? Array.from(this.pending.subarray(0, this.#span() >>> 5)) : [],
    };
  }

  /** Restores a snapshot. */
  load(s: LpiSnapshot): void {
    this.enabled = s.enabled;
    [this.propLo, this.propHi] = s.propbaser;
    [this.pendLo, this.pendHi] = s.pendbaser;
    this.limit = s.limit;
    this.config = undefined;
    this.pending = undefined;
    if (s.enabled || s.config.length > 0) {
      this.#allocate();
      this.config!.set(s.config.slice(0, MAX_LPIS));
      this.pending!.set(s.pending.slice(0, WORDS));
    }
    this.#rebuild();
  }

  /**
   * Makes the cache, zeroed: one buffer for the configuration bytes and the
   * pending and eligibility words, made when LPIs are first enabled (a
   * redistributor whose LPIs stay off takes none of it).
   */
  #allocate(): void {
    const buffer = new ArrayBuffer(CACHE_BYTES);
    this.config = new Uint8Array(buffer, 0, MAX_LPIS);
    this.pending = new Uint32Array(buffer, MAX_LPIS, WORDS);
    this.#elig = new Uint32Array(buffer, MAX_LPIS + 4 * WORDS, WORDS);
    this.#summary = new Uint32Array(buffer, MAX_LPIS + 8 * WORDS, WORDS >>> 5);
    this.#eligCount = 0;
  }

  #span(): number {
    return Math.max(0, Math.min(this.limit, 1 << LPI_ID_BITS) - GIC_FIRST_LPI);
  }
}

function lowBit(word: number): number {
  return 31 - Math.clz32(word & -word);
}
