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

import { allocateBootMemory } from "../boot/boot-memory.js";
import type { PlatformInfo, Region } from "../boot/platform-info.js";
import type { GuestCode } from "../guest-image.js";
import { storeDoublewords } from "../store-words.js";

/** 64 KiB: the ITS page size and the alignment of GICR_PENDBASER / the command queue. */
export const SZ_64K = 0x1_0000;

/** The kernel's page allocator for driver tables: first-fit, aligned, zeroed. */
export class KernelPages {
  readonly #platform: Pick<PlatformInfo, "memory" | "reserved">;
  readonly #taken: Region[];

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

  /** Stores `byte` into `size` bytes at `addr` (a multiple of 8), eight bytes at a time (one strided op.repeat). */
  *fill(addr: number, size: number, byte: number): GuestCode {
    const word = ((byte & 0xff) * 0x0101_0101) >>> 0;
    yield* storeDoublewords(addr, Math.ceil(size / 8), word, word);
  }
}
