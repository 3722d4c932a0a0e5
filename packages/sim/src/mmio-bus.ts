/**
 * The MMIO bus: maps guest-physical address ranges to device models and
 * dispatches loads and stores to the owner with the offset inside its region,
 * like KVM's kvm_io_bus (virt/kvm/kvm_main.c) and QEMU's memory regions.
 *
 * An access claimed by no region is reported as unhandled, which the KVM layer
 * turns into KVM_EXIT_MMIO for the VMM. As in kvm_io_bus, an access must lie
 * wholly inside one region to be claimed.
 *
 * 64-bit registers without bigint: values travel as unsigned 32-bit halves.
 * Accesses of 1, 2 and 4 bytes use only `value`; an 8-byte access carries the
 * low word in `value` and the high word in `hi`. Dispatch is a binary search
 * over sorted region bounds behind a one-entry cache of the last region hit,
 * and allocates nothing.
 */

import { ConfigError, RegionOverlapError } from "./errors.js";

/** Width of a single MMIO access in bytes. */
export type AccessSize = 1 | 2 | 4 | 8;

/** Where a device returns the high word of an 8-byte read. */
export interface WideValue {
  /** High 32 bits (unsigned) of an 8-byte value. */
  hi: number;
}

/**
 * The one interface a memory-mapped device implements. Offsets are relative to
 * the start of the region the device was mapped at.
 */
export interface MmioDevice {
  /**
   * Handles a load. Returns the value (unsigned) for sizes 1 to 4; for size 8
   * returns the low 32 bits and stores the high 32 bits in `wide.hi`.
   */
  read(offset: number, size: AccessSize, wide: WideValue): number;
  /**
   * Handles a store. `value` is the value for sizes 1 to 4 and the low 32 bits
   * for size 8; `hi` is the high 32 bits of an 8-byte store and 0 otherwise.
   */
  write(offset: number, size: AccessSize, value: number, hi: number): void;
  /**
   * True when no load changes the device's state (a guest error it logs
   * aside): the same load again, with no store or event in between, returns
   * the same value. A model executing a load over and over may then skip the
   * repetitions. Absent: loads may have side effects (an acknowledge, a
   * read-to-clear register).
   */
  readonly quietReads?: boolean;
  /**
   * For a device only some of whose loads are quiet: whether this load of
   * `size` bytes at `offset` changes nothing and logs nothing, as
   * {@link quietReads} says of every load.
   */
  readIsQuiet?(offset: number, size: AccessSize): boolean;
}

/** Returned by {@link MmioBus.read} when no region claims the access. */
export const MMIO_UNHANDLED = -1;

/** A mapped region, as returned by {@link MmioBus.map}. */
export interface MmioRegion {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly device: MmioDevice;
}

/** Checks an access width; throws for anything but 1, 2, 4 or 8. */
export function assertAccessSize(size: number): asserts size is AccessSize {
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
    throw new ConfigError(`MMIO access size ${size} is not 1, 2, 4 or 8 bytes`);
  }
}

/** Address-to-device dispatch for guest-physical MMIO. */
export class MmioBus {
  #regions: MmioRegion[] = [];
  #bases = new Float64Array(0);
  #ends = new Float64Array(0);
  #last: MmioRegion | undefined;
  #lastBase = 0;
  #lastEnd = 0;
  readonly #wide: WideValue = { hi: 0 };

  /** High word of the last 8-byte {@link read}; 0 after a narrower read. */
  get readHi(): number {
    return this.#wide.hi;
  }

  /**
   * Maps `device` at [base, base + size).
   * @throws RegionOverlapError naming both regions if the range is taken;
   *   ConfigError for an empty, negative or non-integer range.
   */
  map(base: number, size: number, device: MmioDevice, name: string): MmioRegion {
    if (!Number.isSafeInteger(base) || base < 0 || !Number.isSafeInteger(size) || size <= 0) {
      throw new ConfigError(`MMIO region '${name}': base 0x${base.toString(16)} size ${size} is not a valid range`);
    }
    for (const r of this.#regions) {
      if (r.name === name) throw new ConfigError(`MMIO region '${name}' is already mapped`);
      if (base < r.base + r.size && r.base < base + size) {
        throw new RegionOverlapError(
          name,
          r.name,
          `MMIO region '${name}' [0x${base.toString(16)}, 0x${(base + size).toString(16)}) overlaps '${r.name}' [0x${r.base.toString(16)}, 0x${(r.base + r.size).toString(16)})`,
        );
      }
    }
    const region: MmioRegion = { name, base, size, device };
    this.#regions.push(region);
    this.#reindex();
    return region;
  }

  /** Unmaps a region by name or object. Returns false if it was not mapped. */
  unmap(region: MmioRegion | string): boolean {
    const i = this.#regions.findIndex((r) => (typeof region === "string" ? r.name === region : r === region));
    if (i < 0) return false;
    this.#regions.splice(i, 1);
    this.#reindex();
    return true;
  }

  /** The mapped regions, sorted by base address. */
  regions(): readonly MmioRegion[] {
    return this.#regions;
  }

  /** The region containing all of [addr, addr + size), if any. */
  find(addr: number, size = 1): MmioRegion | undefined {
    if (addr >= this.#lastBase && addr + size <= this.#lastEnd) return this.#last;
    const bases = this.#bases;
    let lo = 0;
    let hi = bases.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (bases[mid]! <= addr) lo = mid + 1;
      else hi = mid - 1;
    }
    // hi is the last region whose base <= addr.
    if (hi < 0 || addr + size > this.#ends[hi]!) return undefined;
    const r = this.#regions[hi]!;
    this.#last = r;
    this.#lastBase = r.base;
    this.#lastEnd = r.base + r.size;
    return r;
  }

  /**
   * Dispatches a load. Returns the value read (unsigned; the low word for an
   * 8-byte access, whose high word is then in {@link readHi}), or
   * {@link MMIO_UNHANDLED} if no device claims the whole access.
   */
  read(addr: number, size: AccessSize): number {
    const r = this.find(addr, size);
    if (r === undefined) return MMIO_UNHANDLED;
    const wide = this.#wide;
    wide.hi = 0;
    const v = r.device.read(addr - r.base, size, wide) >>> 0;
    wide.hi >>>= 0;
    return v;
  }

  /**
   * Whether a load of [addr, addr + size) goes to a device that answers it
   * quietly ({@link MmioDevice.quietReads}, {@link MmioDevice.readIsQuiet}).
   */
  quietRead(addr: number, size: AccessSize): boolean {
    const r = this.find(addr, size);
    if (r === undefined) return false;
    const d = r.device;
    return d.quietReads === true || d.readIsQuiet?.(addr - r.base, size) === true;
  }

  /** Dispatches a store. Returns false if no device claims the whole access. */
  write(addr: number, size: AccessSize, value: number, hi = 0): boolean {
    const r = this.find(addr, size);
    if (r === undefined) return false;
    r.device.write(addr - r.base, size, value >>> 0, size === 8 ? hi >>> 0 : 0);
    return true;
  }

  #reindex(): void {
    this.#regions.sort((a, b) => a.base - b.base);
    this.#bases = Float64Array.from(this.#regions, (r) => r.base);
    this.#ends = Float64Array.from(this.#regions, (r) => r.base + r.size);
    this.#last = undefined;
    this.#lastBase = 0;
    this.#lastEnd = 0;
  }
}
