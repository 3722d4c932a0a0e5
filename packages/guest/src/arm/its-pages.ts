/**
 * Zeroed, aligned pages of guest RAM for the ITS driver's tables: the
 * command queue, the GITS_BASER tables and their level-2 pages, ITTs, the
 * LPI property table and the per-redistributor pending tables — what Linux's
 * drivers/irqchip/irq-gic-v3-its.c takes from alloc_pages(GFP_KERNEL |
 * __GFP_ZERO) and kzalloc().
 *
 * Allocation is first-fit from the boot allocator (boot-memory.ts), so the
 * same device tree always gives the same addresses; what is handed out is
 * remembered and never reused. Zeroing is done by the guest itself with
 * 8-byte stores, as a kernel clears the pages it allocates: RAM can hold a
 * previous boot's contents after a system reset.
 */

import type { MmioWriteOp } from "@irqlab/sim";
import { allocateBootMemory } from "../boot/boot-memory.js";
import type { PlatformInfo, Region } from "../boot/platform-info.js";
import type { GuestCode } from "../guest-image.js";

/** 64 KiB: the ITS page size and the alignment of GICR_PENDBASER / the command queue. */
export const SZ_64K = 0x1_0000;

/** A store op the zeroing loop reuses (the executor does not keep ops). */
interface MutableWrite {
  kind: "mmio-write";
  addr: number;
  size: 8;
  value: number;
  hi: number;
}

/** The kernel's page allocator for driver tables: first-fit, aligned, zeroed. */
export class KernelPages {
  readonly #platform: Pick<PlatformInfo, "memory" | "reserved">;
  readonly #taken: Region[];
  readonly #store: MutableWrite = { kind: "mmio-write", addr: 0, size: 8, value: 0, hi: 0 };

  /** `taken`: memory other parts of the kernel already use (shared, appended to). */
  constructor(platform: Pick<PlatformInfo, "memory" | "reserved">, taken: Region[] = []) {
    this.#platform = platform;
    this.#taken = taken;
  }

  /** Everything handed out so far. */
  get allocated(): readonly Region[] {
    return this.#taken;
  }

  /**
   * `size` bytes aligned to `align`, without clearing them; undefined when
   * RAM is exhausted.
   */
  reserve(size: number, align: number): number | undefined {
    const at = allocateBootMemory(this.#platform, size, align, this.#taken);
    if (at !== undefined) this.#taken.push({ base: at, size });
    return at;
  }

  /** `size` bytes aligned to `align`, cleared by the guest; undefined when RAM is exhausted. */
  *alloc(size: number, align: number): GuestCode<number | undefined> {
    const at = this.reserve(size, align);
    if (at !== undefined) yield* this.fill(at, size, 0);
    return at;
  }

  /** Stores `byte` into `size` bytes at `addr` (a multiple of 8), eight bytes at a time. */
  *fill(addr: number, size: number, byte: number): GuestCode {
    const b = byte & 0xff;
    const word = (b * 0x0101_0101) >>> 0;
    const w = this.#store;
    for (let off = 0; off < size; off += 8) {
      w.addr = addr + off;
      w.value = word;
      w.hi = word;
      yield w satisfies MmioWriteOp;
    }
  }
}
