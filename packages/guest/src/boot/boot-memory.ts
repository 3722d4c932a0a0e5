/**
 * A boot-time memory allocator in the spirit of Linux's memblock: it hands
 * out guest RAM that no one else claims, for data that CPUs share through
 * memory (locks, counters, per-CPU boot records). RAM comes from the memory
 * nodes; the blob, /memreserve/, /reserved-memory and the initrd are avoided
 * (PlatformInfo.reserved). Allocation is first-fit from the lowest address,
 * so the same tree always gives the same addresses.
 *
 * Guest images are JavaScript, not bytes in RAM, so nothing else occupies
 * memory: a real kernel would also avoid its own image.
 */

import type { PlatformInfo, Region } from "./platform-info.js";

/** The page size the allocator aligns to by default. */
export const BOOT_PAGE_SIZE = 4096;

/**
 * The lowest `align`-aligned address of `size` free bytes in RAM, outside
 * `platform.reserved` and `taken`; undefined if none fits.
 */
export function allocateBootMemory(
  platform: Pick<PlatformInfo, "memory" | "reserved">,
  size: number,
  align: number = BOOT_PAGE_SIZE,
  taken: readonly Region[] = [],
): number | undefined {
  const busy = [...platform.reserved, ...taken].filter((r) => r.size > 0);
  const up = (v: number): number => Math.ceil(v / align) * align;
  for (const ram of platform.memory) {
    const end = ram.base + ram.size;
    let at = up(ram.base);
    while (at + size <= end) {
      const clash = busy.find((r) => r.base < at + size && at < r.base + r.size);
      if (clash === undefined) return at;
      at = up(clash.base + clash.size);
    }
  }
  return undefined;
}
