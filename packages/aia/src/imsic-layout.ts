/**
 * Where interrupt-file pages live in physical address space, and the APLIC
 * MSI address configuration that describes the same arrangement.
 *
 * Spec: RISC-V AIA 1.0, riscv/riscv-aia src/IMSIC.adoc §3.6 "Arrangement of
 * the memory regions of multiple interrupt files": the M-level file of hart h
 * in group g is at g·2^E + A + h·2^C; the S-level file at g·2^E + B + h·2^D,
 * followed contiguously by guest files 1..GEILEN; D ≥ ⌈log2(GEILEN+1)⌉ + 12;
 * A aligned to 2^(k+C), B to 2^(k+D); E ≥ k + max(C, D); ((2^j − 1)·2^E) & A =
 * ((2^j − 1)·2^E) & B = 0. src/AdvPLIC.adoc §4.9.1 maps these onto
 * `mmsiaddrcfg(h)`/`smsiaddrcfg(h)`: HHXW = j, LHXW = k, HHXS = E − 24,
 * LHXS = C − 12 (M) or D − 12 (S), Base PPN = A >> 12 or B >> 12.
 * Cross-check: QEMU hw/riscv/virt.c (IMSIC_HART_SIZE, group shift 24);
 * Linux drivers/irqchip/irq-riscv-imsic-state.c (guest/hart/group bits).
 *
 * Addresses are JavaScript numbers, so every address must stay below 2^53.
 */

import { ConfigError, RegionOverlapError } from "@irqlab/sim";
import { GEILEN_MAX_RV64, IMSIC_MMIO_PAGE_SHIFT } from "./imsic-constants.js";

/** Where one file's page is: group number, hart number within the group, guest index (0 = the M or S file). */
export interface ImsicFileLocation {
  readonly group: number;
  readonly hart: number;
  readonly guest: number;
}

/** The four APLIC MSI address configuration registers of the root domain. */
export interface MsiAddrCfg {
  readonly mmsiaddrcfg: number;
  readonly mmsiaddrcfgh: number;
  readonly smsiaddrcfg: number;
  readonly smsiaddrcfgh: number;
}

/** Parameters of an {@link ImsicLayout}, named as in IMSIC.adoc §3.6. */
export interface ImsicLayoutConfig {
  /** A: base of the M-level files (aligned to 2^(k+C)). */
  readonly mBase: number;
  /** B: base of the S-level and guest files (aligned to 2^(k+D)). */
  readonly sBase: number;
  /** k: bits of the hart number within a group. */
  readonly hartBits: number;
  /** j: bits of the group number (default 0). */
  readonly groupBits?: number;
  /** GEILEN: guest files per hart (default 0). */
  readonly geilen?: number;
  /** C: log2 of the M-level stride (default 12). */
  readonly mHartShift?: number;
  /** D: log2 of the S-level stride (default ⌈log2(GEILEN+1)⌉ + 12). */
  readonly sHartShift?: number;
  /** E: log2 of the group stride (default 24, QEMU's IMSIC_MMIO_GROUP_MIN_SHIFT). */
  readonly groupShift?: number;
}

/** The smallest D for `geilen` guest files: ⌈log2(GEILEN+1)⌉ + 12. */
export function minSHartShift(geilen: number): number {
  return Math.ceil(Math.log2(geilen + 1)) + IMSIC_MMIO_PAGE_SHIFT;
}

/** The address arrangement of all interrupt files of a machine. */
export class ImsicLayout {
  readonly mBase: number;
  readonly sBase: number;
  readonly hartBits: number;
  readonly groupBits: number;
  readonly geilen: number;
  readonly mHartShift: number;
  readonly sHartShift: number;
  readonly groupShift: number;

  /** @throws ConfigError naming the bad field; RegionOverlapError if the M and S ranges overlap. */
  constructor(c: ImsicLayoutConfig) {
    this.mBase = c.mBase;
    this.sBase = c.sBase;
    this.hartBits = c.hartBits;
    this.groupBits = c.groupBits ?? 0;
    this.geilen = c.geilen ?? 0;
    this.mHartShift = c.mHartShift ?? IMSIC_MMIO_PAGE_SHIFT;
    this.sHartShift = c.sHartShift ?? minSHartShift(this.geilen);
    this.groupShift = c.groupShift ?? 24;
    const bad = (what: string): never => {
      throw new ConfigError(`IMSIC layout: ${what}`);
    };
    const intIn = (v: number, lo: number, hi: number): boolean => Number.isInteger(v) && v >= lo && v <= hi;
    if (!intIn(this.geilen, 0, GEILEN_MAX_RV64)) bad(`geilen ${this.geilen} is not within 0..${GEILEN_MAX_RV64}`);
    if (!intIn(this.hartBits, 0, 15)) bad(`hartBits (k) ${this.hartBits} is not within 0..15 (LHXW)`);
    if (!intIn(this.groupBits, 0, 7)) bad(`groupBits (j) ${this.groupBits} is not within 0..7 (HHXW)`);
    if (!intIn(this.mHartShift, 12, 19)) bad(`mHartShift (C) ${this.mHartShift} is not within 12..19 (LHXS + 12)`);
    const dMin = minSHartShift(this.geilen);
    if (!intIn(this.sHartShift, dMin, 19)) bad(`sHartShift (D) ${this.sHartShift} is not within ${dMin}..19 for GEILEN ${this.geilen}`);
    if (!intIn(this.groupShift, 24, 55)) bad(`groupShift (E) ${this.groupShift} is not within 24..55 (HHXS + 24)`);
    const k = this.hartBits;
    if (this.groupBits > 0 && this.groupShift < k + Math.max(this.mHartShift, this.sHartShift)) {
      bad(`groupShift (E) ${this.groupShift} is below k + max(C, D) = ${k + Math.max(this.mHartShift, this.sHartShift)}`);
    }
    for (const [name, base, shift] of [["mBase (A)", this.mBase, this.mHartShift], ["sBase (B)", this.sBase, this.sHartShift]] as const) {
      if (!Number.isSafeInteger(base) || base < 0) bad(`${name} 0x${base.toString(16)} is not a valid address`);
      if (base % 2 ** (k + shift) !== 0) bad(`${name} 0x${base.toString(16)} is not aligned to 2^${k + shift}`);
      if (this.groupBits > 0 && Math.floor(base / 2 ** this.groupShift) % 2 ** this.groupBits !== 0) {
        bad(`${name} 0x${base.toString(16)} has bits in the group field (2^${this.groupShift}..)`);
      }
      const top = (2 ** this.groupBits - 1) * 2 ** this.groupShift + base + 2 ** (k + shift);
      if (!Number.isSafeInteger(top)) bad(`${name} 0x${base.toString(16)}: the files do not fit below 2^53`);
    }
    const mSize = 2 ** (k + this.mHartShift);
    const sSize = 2 ** (k + this.sHartShift);
    if (this.mBase < this.sBase + sSize && this.sBase < this.mBase + mSize) {
      throw new RegionOverlapError(
        "imsic-s",
        "imsic-m",
        `IMSIC layout: S-level range [0x${this.sBase.toString(16)}, +0x${sSize.toString(16)}) overlaps M-level range [0x${this.mBase.toString(16)}, +0x${mSize.toString(16)})`,
      );
    }
  }

  /** Size of one group's M-level range, 2^(k+C). */
  get mGroupSize(): number {
    return 2 ** (this.hartBits + this.mHartShift);
  }

  /** Size of one group's S-level range, 2^(k+D). */
  get sGroupSize(): number {
    return 2 ** (this.hartBits + this.sHartShift);
  }

  /** Address of the M-level file of `hart` in `group`. @throws ConfigError out of range. */
  mFileAddress(group: number, hart: number): number {
    this.#check(group, hart, 0);
    return group * 2 ** this.groupShift + this.mBase + hart * 2 ** this.mHartShift;
  }

  /** Address of the S-level file (guest 0) or guest file `guest` of `hart` in `group`. @throws ConfigError out of range. */
  sFileAddress(group: number, hart: number, guest = 0): number {
    this.#check(group, hart, guest);
    return group * 2 ** this.groupShift + this.sBase + hart * 2 ** this.sHartShift + guest * 2 ** IMSIC_MMIO_PAGE_SHIFT;
  }

  /** The M-level file whose page contains `addr`, or undefined. */
  decodeM(addr: number): ImsicFileLocation | undefined {
    return this.#decode(addr, this.mBase, this.mHartShift, false);
  }

  /** The S-level (guest 0) or guest file whose page contains `addr`, or undefined. */
  decodeS(addr: number): ImsicFileLocation | undefined {
    return this.#decode(addr, this.sBase, this.sHartShift, true);
  }

  /** Flat hart index as the APLIC uses it: group << k | hart. */
  hartIndex(group: number, hart: number): number {
    return group * 2 ** this.hartBits + hart;
  }

  /** Splits a flat hart index into group and hart (AdvPLIC.adoc §4.9.1: g = idx >> LHXW, h = idx & (2^LHXW − 1)). */
  splitHartIndex(index: number): { group: number; hart: number } {
    const k = 2 ** this.hartBits;
    return { group: Math.floor(index / k) % 2 ** this.groupBits, hart: index % k };
  }

  /** The APLIC root-domain MSI address registers that describe this layout (L = 0). */
  toMsiAddrCfg(): MsiAddrCfg {
    const mPpn = this.mBase / 2 ** 12;
    const sPpn = this.sBase / 2 ** 12;
    const hhxs = this.groupShift - 24;
    return {
      mmsiaddrcfg: mPpn % 2 ** 32 >>> 0,
      mmsiaddrcfgh:
        ((hhxs << 24) | ((this.mHartShift - 12) << 20) | (this.groupBits << 16) | (this.hartBits << 12) | (Math.floor(mPpn / 2 ** 32) & 0xfff)) >>> 0,
      smsiaddrcfg: sPpn % 2 ** 32 >>> 0,
      smsiaddrcfgh: (((this.sHartShift - 12) << 20) | (Math.floor(sPpn / 2 ** 32) & 0xfff)) >>> 0,
    };
  }

  #check(group: number, hart: number, guest: number): void {
    if (!Number.isInteger(group) || group < 0 || group >= 2 ** this.groupBits) {
      throw new ConfigError(`IMSIC layout: group ${group} is not within 0..${2 ** this.groupBits - 1}`);
    }
    if (!Number.isInteger(hart) || hart < 0 || hart >= 2 ** this.hartBits) {
      throw new ConfigError(`IMSIC layout: hart ${hart} is not within 0..${2 ** this.hartBits - 1}`);
    }
    if (!Number.isInteger(guest) || guest < 0 || guest > this.geilen) {
      throw new ConfigError(`IMSIC layout: guest index ${guest} is not within 0..${this.geilen}`);
    }
  }

  #decode(addr: number, base: number, shift: number, guests: boolean): ImsicFileLocation | undefined {
    if (!Number.isSafeInteger(addr) || addr < 0) return undefined;
    const groupStride = 2 ** this.groupShift;
    const group = this.groupBits > 0 ? Math.floor(addr / groupStride) % 2 ** this.groupBits : 0;
    const rel = addr - group * groupStride - base;
    if (rel < 0 || rel >= 2 ** (this.hartBits + shift)) return undefined;
    const hart = Math.floor(rel / 2 ** shift);
    const guest = Math.floor((rel % 2 ** shift) / 2 ** IMSIC_MMIO_PAGE_SHIFT);
    if (guest > (guests ? this.geilen : 0)) return undefined;
    return { group, hart, guest };
  }
}
